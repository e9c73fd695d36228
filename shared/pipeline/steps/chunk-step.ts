/**
 * Step chunk: the version's pages -> document_chunks of the version (text, page, character
 * offsets; no embedding yet). Replaces what an earlier attempt wrote, in one transaction.
 */
import { chunkPages } from "../../chunking/chunk-pages";
import type { StepHandler } from "../pipeline-steps";
import { failed, stepFailures } from "./step-failures";
import { loadBuildingTarget, pipelineScope, readVersionPages } from "./step-target";

/** One insert statement carries at most this many chunks (~1.5 KB each: a few hundred KB). */
const INSERT_BATCH = 200;

export const chunkStep: StepHandler = async (ctx, input) => {
  const scope = pipelineScope(ctx, input);
  const read = await ctx.db.withTenant(scope, async (tx) => {
    const found = await loadBuildingTarget(tx, input, "none");
    if (!found.ok) return found;
    return { ...found, pages: await readVersionPages(tx, input.versionId) };
  });
  if (!read.ok) return read.outcome;
  if (read.target.pageCount === null) return failed(stepFailures.pagesMissing());

  const rows = chunkPages(read.pages).map((c) => ({
    ordinal: c.ordinal,
    page: c.page,
    char_start: c.charStart,
    char_end: c.charEnd,
    text: c.text,
  }));

  return ctx.db.withTenant(scope, async (tx) => {
    const locked = await loadBuildingTarget(tx, input, "version");
    if (!locked.ok) return locked.outcome;
    const { patientId, documentId } = locked.target;
    await tx`delete from medchr.document_chunks where version_id = ${input.versionId}`;
    for (let i = 0; i < rows.length; i += INSERT_BATCH) {
      await tx`
        insert into medchr.document_chunks
          (tenant_id, patient_id, document_id, version_id, ordinal, page, char_start, char_end, text)
        select (select medchr.current_tenant_id()), ${patientId}, ${documentId}, ${input.versionId},
          r.ordinal, r.page, r.char_start, r.char_end, r.text
        from jsonb_to_recordset(${tx.json(rows.slice(i, i + INSERT_BATCH))})
          as r(ordinal integer, page integer, char_start integer, char_end integer, text text)`;
    }
    return { ok: true as const, metrics: { chunks: rows.length } };
  });
};
