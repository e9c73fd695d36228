/**
 * Step finalize: the version becomes the document's current one, in ONE transaction: version
 * ready, documents.current_version_id switched, earlier versions superseded and their facts and
 * chunks removed, document processed. Readers (the patient record, retrieval) see either the old
 * version or the new one, never both and never half of one. A second call is a no-op.
 */
import type { StepHandler } from "../pipeline-steps";
import { failed, stepFailures } from "./step-failures";
import { loadTarget, pipelineScope } from "./step-target";

export const finalizeStep: StepHandler = async (ctx, input) =>
  ctx.db.withTenant(pipelineScope(ctx, input), async (tx) => {
    // The document first (as a deletion does), then the version: see loadTarget.
    const found = await loadTarget(tx, input, "document");
    if (!found.ok) return found.outcome;
    const t = found.target;
    if (t.versionStatus === "ready" || t.versionStatus === "superseded") {
      return { ok: true as const, metrics: { skipped: 1 } };
    }
    if (t.versionStatus === "failed") return failed(stepFailures.versionFailed());

    if (t.currentVersionId !== null && t.currentVersionId !== t.versionId) {
      const [current] = await tx<{ version: number }[]>`
        select version from medchr.document_versions where id = ${t.currentVersionId}`;
      if (current && current.version > t.version) return failed(stepFailures.newerVersionCurrent());
    }

    // Steps run in order, so these hold unless a step was skipped: never publish a half-built run.
    const [state] = await tx<{ document_type: string | null; unembedded: number }[]>`
      select v.document_type,
        (select count(*)::int from medchr.document_chunks c
          where c.version_id = v.id
            and c.embedding is null) as unembedded
      from medchr.document_versions v where v.id = ${t.versionId}`;
    if (t.pageCount === null || !state || state.document_type === null || state.unembedded > 0) {
      return failed(stepFailures.versionIncomplete());
    }

    await tx`update medchr.document_versions set status = 'ready' where id = ${t.versionId}`;
    const superseded = await tx`
      update medchr.document_versions set status = 'superseded'
      where document_id = ${t.documentId} and version < ${t.version} and status in ('building', 'ready')`;
    const facts = await tx`
      delete from medchr.extracted_facts
      where document_id = ${t.documentId} and version_id in (
        select id from medchr.document_versions where document_id = ${t.documentId} and version < ${t.version})`;
    const chunks = await tx`
      delete from medchr.document_chunks
      where document_id = ${t.documentId} and version_id in (
        select id from medchr.document_versions where document_id = ${t.documentId} and version < ${t.version})`;
    await tx`
      update medchr.documents set current_version_id = ${t.versionId}, status = 'processed'
      where id = ${t.documentId}`;
    return {
      ok: true as const,
      metrics: { superseded: superseded.count, factsRemoved: facts.count, chunksRemoved: chunks.count },
    };
  });
