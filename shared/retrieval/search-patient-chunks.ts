/**
 * Hybrid retrieval over ONE patient's current chunks: pgvector cosine similarity and Postgres
 * full-text search, fused by reciprocal rank (RRF, Cormack et al. 2009, k = 60).
 *
 * The filtered-vector trap: an approximate index (HNSW) over the whole table returns its
 * ef_search nearest rows and THEN applies `where patient_id = ...`, so a patient among many
 * gets fewer rows than asked, silently. The vector leg therefore scans the patient's rows
 * exactly (a materialized CTE the planner cannot push an index scan through): a patient has
 * thousands of chunks, not millions, and an exact scan of 10,000 256-d vectors is
 * milliseconds (doc/benchmarks.md). Results are exact and never short.
 *
 * The query vector must come from the model that embedded the chunks (ADR 0010): only chunks
 * with its model and dimensions take part in the vector leg; every current chunk takes part in the
 * text leg. Embedding the query happens before the transaction (the gateway, outside).
 */
import { z } from "zod";
import type { Tx } from "../db/database";

/** RRF constant: dampens the weight of top ranks so neither leg dominates (the paper's value). */
export const RRF_K = 60;
/** Candidates taken from each leg before fusion. */
export const LEG_CANDIDATES = 50;
export const SEARCH_K_DEFAULT = 8;
export const SEARCH_K_MAX = 50;

export const SearchQueryInput = z.strictObject({
  q: z.string().trim().min(1).max(500),
  k: z.coerce.number().int().min(1).max(SEARCH_K_MAX).default(SEARCH_K_DEFAULT),
});

export interface ChunkHit {
  chunkId: string;
  documentId: string;
  page: number;
  charStart: number;
  charEnd: number;
  text: string;
  score: number;
  /** 1-based rank in each leg, null when the leg did not return it. */
  vectorRank: number | null;
  textRank: number | null;
}

interface Row {
  id: string;
  document_id: string;
  page: number;
  char_start: number;
  char_end: number;
  text: string;
  vector_rank: number | null;
  text_rank: number | null;
}

export async function searchPatientChunks(
  tx: Tx,
  input: {
    patientId: string;
    query: string;
    k: number;
    /** The query embedded by `model` (its length is the dimensions); null: text leg only. */
    queryVector: { model: string; vector: readonly number[] } | null;
  },
): Promise<ChunkHit[]> {
  const candidates = Math.max(LEG_CANDIDATES, input.k);
  const vector = input.queryVector ? `[${input.queryVector.vector.join(",")}]` : null;
  const model = input.queryVector?.model ?? null;
  const dimensions = input.queryVector?.vector.length ?? null;
  // The vector leg scans the patient's current vectors of the query's model exactly (a
  // materialized CTE of ids and vectors only, which the planner cannot turn into an HNSW scan
  // with a post-filter). The text leg uses the GIN index on search_vector, filtered to the
  // patient's current chunks. Only the fused winners' rows are read in full.
  const rows = await tx<Row[]>`
    with current_vectors as materialized (
      select c.id, c.embedding
      from medchr.document_chunks c
      join medchr.documents d on d.id = c.document_id and d.current_version_id = c.version_id
      where c.patient_id = ${input.patientId} and ${vector}::text is not null
        and c.embedding_model = ${model} and c.embedding_dimensions = ${dimensions}::int and c.embedding is not null
    ),
    vector_leg as (
      select id, row_number() over (order by embedding <=> ${vector}::vector, id)::int as rank
      from current_vectors
      order by embedding <=> ${vector}::vector, id
      limit ${candidates}
    ),
    text_leg as (
      select c.id, row_number() over (order by ts_rank_cd(c.search_vector, q) desc, c.id)::int as rank
      from medchr.document_chunks c
      join medchr.documents d on d.id = c.document_id and d.current_version_id = c.version_id,
        websearch_to_tsquery('english', ${input.query}) q
      where c.patient_id = ${input.patientId} and c.search_vector @@ q
      order by ts_rank_cd(c.search_vector, q) desc, c.id
      limit ${candidates}
    )
    select c.id, c.document_id, c.page, c.char_start, c.char_end, c.text,
      v.rank as vector_rank, t.rank as text_rank
    from medchr.document_chunks c
    left join vector_leg v on v.id = c.id
    left join text_leg t on t.id = c.id
    where c.id in (select id from vector_leg union all select id from text_leg)`;
  const rrf = (rank: number | null) => (rank === null ? 0 : 1 / (RRF_K + rank));
  return rows
    .map((r) => ({
      chunkId: r.id,
      documentId: r.document_id,
      page: r.page,
      charStart: r.char_start,
      charEnd: r.char_end,
      text: r.text,
      score: rrf(r.vector_rank) + rrf(r.text_rank),
      vectorRank: r.vector_rank,
      textRank: r.text_rank,
    }))
    .sort((a, b) => b.score - a.score || a.chunkId.localeCompare(b.chunkId))
    .slice(0, input.k);
}
