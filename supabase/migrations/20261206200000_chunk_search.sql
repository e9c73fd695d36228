-- Hybrid retrieval over a patient's chunks (issue 10, ADR 0011): Postgres full-text search
-- beside the pgvector similarity, fused by reciprocal rank in shared/retrieval.
-- 'english' stems ("elevated" finds "elevation"); lab codes and numbers stay as tokens.
alter table medchr.document_chunks
  add column search_vector tsvector generated always as (to_tsvector('english', text)) stored;
create index document_chunks_search_idx on medchr.document_chunks using gin (search_vector);
