/**
 * The draft_report step of a report.draft job (run by the job runner in the pipeline function,
 * the only function that may hold a model key):
 *
 *   1. read the report (a report no longer drafting was drafted by an earlier attempt: done),
 *      the patient's current record and current chunks;
 *   2. choose the drafter's context: the chunks the record's facts were read from, then the
 *      best full-text matches for each narrative section, then the rest in document order, within
 *      CONTEXT_CHAR_BUDGET;
 *   3. draft through the LLM gateway (its policy decides: an external model with structured
 *      output, or the on-box extractive drafter), grounded there (citations checked);
 *   4. build the stored content (tables from the record, claims marked verified/unsupported)
 *      and store draft, content and provenance in ONE transaction, with report.drafted.
 *
 * Idempotent: the store is conditional on status 'drafting', so a redelivery after a crash
 * between the store and the runner's outcome changes nothing.
 */
import { type AuditContext, recordAudit } from "../audit/audit-context";
import type { RequestScope } from "../db/database";
import type { LlmCallScope } from "../llm/llm-gateway";
import type { ReportStepInput, StepContext, StepFailure, StepOutcome } from "../pipeline/pipeline-steps";
import { buildPatientRecord } from "../records/build-patient-record";
import { searchPatientChunks } from "../retrieval/search-patient-chunks";
import { buildReportContent } from "./build-report-content";
import { type ReportDraftInput, reportDraftTask } from "./draft-report-task";
import { NARRATIVE_SECTIONS, type ReportProvenance } from "./report-schema";
import { indexChunksByPage, loadPatientChunks, type SourceChunk } from "./report-sources";

/** About 12k tokens of source: room for 20 documents' facts and their context in one request. */
export const CONTEXT_CHAR_BUDGET = 48_000;
/** The draft job's actor in the audit log and on egress events. */
export const REPORT_DRAFTER_ACTOR = "reports.drafter";

/** What each narrative section looks for in the text, for the full-text leg of retrieval. */
const SECTION_QUERIES: Record<(typeof NARRATIVE_SECTIONS)[number], string> = {
  summary: "history diagnosis problem medications",
  key_findings: "abnormal high low elevated result",
  interpretation: "assessment impression plan trend",
  data_gaps: "not available pending unknown",
  follow_up_questions: "follow up recheck repeat refer",
};

const failure = (code: string, message: string, retryable: boolean): StepOutcome => ({
  ok: false,
  failure: { code, message, retryable } satisfies StepFailure,
});

export const reportStepFailures = {
  recordEmpty: () =>
    failure("record_empty", "The patient has no processed documents to draft a report from.", false),
  draftInvalid: () =>
    failure("draft_invalid", "The drafter produced a report that failed validation.", false),
  draftRefused: () => failure("draft_refused", "Drafting was refused by the clinic's AI policy.", false),
};

function chooseContext(
  ordered: readonly SourceChunk[],
  factChunkIds: ReadonlySet<string>,
  retrievedIds: readonly string[],
): SourceChunk[] {
  const byId = new Map(ordered.map((c) => [c.id, c]));
  const picked = new Map<string, SourceChunk>();
  let chars = 0;
  const take = (chunk: SourceChunk | undefined) => {
    if (!chunk || picked.has(chunk.id) || chars + chunk.text.length > CONTEXT_CHAR_BUDGET) return;
    picked.set(chunk.id, chunk);
    chars += chunk.text.length;
  };
  for (const c of ordered) if (factChunkIds.has(c.id)) take(c);
  for (const id of retrievedIds) take(byId.get(id));
  for (const c of ordered) take(c);
  // Shown in document order, whatever order they were picked in.
  return ordered.filter((c) => picked.has(c.id));
}

export async function draftReportStep(ctx: StepContext, input: ReportStepInput): Promise<StepOutcome> {
  const scope: RequestScope = {
    tenantId: input.tenantId,
    actorId: REPORT_DRAFTER_ACTOR,
    requestId: ctx.requestId,
  };
  const loaded = await ctx.db.withTenant(scope, async (tx) => {
    const [report] = await tx<{ status: string; patient_id: string }[]>`
      select status, patient_id from medchr.reports where id = ${input.reportId}`;
    if (!report || report.status !== "drafting") return null;
    const record = await buildPatientRecord(tx, report.patient_id);
    const chunks = await loadPatientChunks(tx, report.patient_id);
    const retrieved: string[] = [];
    for (const section of NARRATIVE_SECTIONS) {
      const hits = await searchPatientChunks(tx, {
        patientId: report.patient_id,
        query: SECTION_QUERIES[section],
        k: 6,
        queryVector: null,
      });
      retrieved.push(...hits.map((h) => h.chunkId));
    }
    return { record, chunks, retrieved };
  });
  if (!loaded) return { ok: true };
  if (!loaded.record.ok) return reportStepFailures.recordEmpty();
  const record = loaded.record.value;
  const { chunks } = loaded;
  if (!record.documents.some((d) => d.versionId !== null) || chunks.size === 0)
    return reportStepFailures.recordEmpty();

  const byPage = indexChunksByPage(chunks);
  const factChunkIds = new Set<string>();
  for (const item of [
    ...record.labs,
    ...record.medications,
    ...record.diagnoses,
    ...record.allergies,
    ...record.vitals,
  ]) {
    for (const p of item.provenance) {
      for (const chunk of byPage.get(`${p.versionId}:${p.page}`) ?? []) {
        if (chunk.charStart < p.charEnd && chunk.charEnd > p.charStart) factChunkIds.add(chunk.id);
      }
    }
  }
  const now = ctx.now();
  const draftInput: ReportDraftInput = {
    record,
    chunks,
    context: chooseContext([...chunks.values()], factChunkIds, loaded.retrieved),
    today: now.toISOString().slice(0, 10),
  };
  const llmScope: LlmCallScope = {
    tenantId: input.tenantId,
    actor: { type: "system", id: REPORT_DRAFTER_ACTOR },
    patientId: record.patientId,
    documentId: null,
    requestId: ctx.requestId,
  };
  const drafted = await ctx.llm.runStructured(llmScope, reportDraftTask, draftInput);
  if (!drafted.ok) {
    return "reason" in drafted.error ? reportStepFailures.draftRefused() : reportStepFailures.draftInvalid();
  }
  const { content, unsupportedClaims } = buildReportContent(drafted.value.output, record, chunks);
  const provenance: ReportProvenance = {
    provider: drafted.value.provider,
    model: drafted.value.model.slice(0, 100),
    promptVersion: drafted.value.promptVersion,
    fallback: drafted.value.fallback,
    redacted: drafted.value.redacted,
    extractionVersions: record.documents
      .filter((d) => d.versionId !== null)
      .map((d) => ({ documentId: d.id, versionId: d.versionId!, extractor: d.extractor })),
    chunkIds: draftInput.context.map((c) => c.id),
    droppedByGrounding: drafted.value.droppedUngrounded,
    unsupportedClaims,
    draftedAt: now.toISOString(),
  };
  const claims = NARRATIVE_SECTIONS.reduce((n, s) => n + content[s].length, 0);
  const audit: AuditContext = {
    auditKeys: ctx.auditKeys,
    actor: { type: "system", id: REPORT_DRAFTER_ACTOR },
    ip: null,
    userAgent: null,
    requestId: ctx.requestId,
  };
  await ctx.db.withTenant(scope, async (tx) => {
    const stored = await tx`
      update medchr.reports set status = 'draft', draft = ${tx.json(content as never)},
        content = ${tx.json(content as never)}, provenance = ${tx.json(provenance as never)},
        unsupported_count = ${unsupportedClaims}, drafted_at = ${now}, revision = revision + 1
      where id = ${input.reportId} and status = 'drafting'`;
    if (stored.count === 0) return;
    await recordAudit(tx, audit, {
      action: "report.drafted",
      outcome: "SUCCESS",
      resource: { type: "report", id: input.reportId },
      details: {
        patientId: record.patientId,
        provider: provenance.provider,
        fallback: provenance.fallback !== null,
        claims,
        unsupported: unsupportedClaims,
        dropped: provenance.droppedByGrounding,
        chunks: provenance.chunkIds.length,
      },
    });
  });
  return {
    ok: true,
    metrics: { claims, unsupported: unsupportedClaims, chunks: provenance.chunkIds.length },
  };
}
