/**
 * Step embed: fills document_chunks.embedding for the version's chunks that have none, through
 * the LLM gateway (the clinic's policy picks OpenAI or the on-box embedder, per call), a batch
 * per gateway call and per short transaction, recording the model beside every vector
 * (ADR 0010). The gateway is called outside transactions (a remote provider takes hundreds of
 * milliseconds); a retry after a crash only embeds what is still missing.
 */
import type { StepHandler } from "../pipeline-steps";
import { embeddingFailure, failed, stepFailures } from "./step-failures";
import { llmScope, loadBuildingTarget, pipelineScope } from "./step-target";

/** document_chunks.embedding is vector(256) (migration 20261122192000_pipeline.sql). */
export const CHUNK_EMBEDDING_DIMENSIONS = 256;
/** Texts per provider call: well under remote providers' input caps, a few hundred KB per request. */
export const EMBED_BATCH = 64;

const isVector = (v: unknown): v is number[] =>
  Array.isArray(v) && v.length === CHUNK_EMBEDDING_DIMENSIONS && v.every((x) => Number.isFinite(x));

export const embedStep: StepHandler = async (ctx, input) => {
  const scope = pipelineScope(ctx, input);
  const read = await ctx.db.withTenant(scope, async (tx) => {
    const found = await loadBuildingTarget(tx, input, "none");
    if (!found.ok) return found;
    const pending = await tx<{ id: string; text: string }[]>`
      select id, text from medchr.document_chunks
      where version_id = ${input.versionId} and embedding is null
      order by ordinal`;
    return { ...found, pending };
  });
  if (!read.ok) return read.outcome;

  let embedded = 0;
  let batches = 0;
  for (let i = 0; i < read.pending.length; i += EMBED_BATCH) {
    const batch = read.pending.slice(i, i + EMBED_BATCH);
    const answer = await ctx.llm.embed(
      llmScope(ctx, input, read.target),
      batch.map((c) => c.text),
    );
    if (!answer.ok) return failed(embeddingFailure(answer.error));
    const { vectors, model, dimensions } = answer.value;
    if (
      dimensions !== CHUNK_EMBEDDING_DIMENSIONS ||
      vectors.length !== batch.length ||
      !vectors.every(isVector)
    ) {
      return failed(stepFailures.embeddingInvalid());
    }
    const rows = batch.map((c, j) => ({ id: c.id, embedding: `[${vectors[j]!.join(",")}]` }));
    const stop = await ctx.db.withTenant(scope, async (tx) => {
      const locked = await loadBuildingTarget(tx, input, "version");
      if (!locked.ok) return locked.outcome;
      const updated = await tx`
        update medchr.document_chunks c
        set embedding = r.embedding::vector, embedding_model = ${model}, embedding_dimensions = ${dimensions}
        from jsonb_to_recordset(${tx.json(rows)}) as r(id uuid, embedding text)
        where c.id = r.id and c.version_id = ${input.versionId}`;
      embedded += updated.count;
      return null;
    });
    if (stop) return stop;
    batches += 1;
  }
  return { ok: true, metrics: { embedded, batches } };
};
