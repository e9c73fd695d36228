-- ADR 0010: every vector records the model AND the dimensions it was made with, so retrieval
-- compares a query only with vectors of the same space (cosine distance between vectors of
-- two models is meaningless, even at equal length). document_chunks.embedding stays
-- vector(256): the on-box embedder writes 256, and OpenAI's text-embedding-3 models are asked
-- for 256 (the `dimensions` parameter, Matryoshka-shortened). A model that cannot produce 256
-- needs a new column and index, not a wider one shared by two spaces.
alter table medchr.document_chunks add column embedding_dimensions smallint;

update medchr.document_chunks set embedding_dimensions = vector_dims(embedding) where embedding is not null;
update medchr.document_chunks set embedding_model = null where embedding is null;

-- A vector is never stored without saying which model made it and how long it is.
alter table medchr.document_chunks add constraint document_chunks_embedding_recorded check (
  (embedding is null and embedding_model is null and embedding_dimensions is null)
  or (embedding is not null and embedding_model is not null and embedding_dimensions = vector_dims(embedding))
);
