/**
 * What every step handler does first: open a transaction scoped to the job's tenant, find the
 * job's document and version, and decide whether there is work to do. Handlers never trust the
 * delivery beyond ids: the rows say which patient the document belongs to and whether the run is
 * still open.
 */
import type { PageText } from "../../clinical/document-lines";
import type { RequestScope, Tx } from "../../db/database";
import type { LlmCallScope } from "../../llm/llm-gateway";
import type { StepContext, StepInput, StepOutcome } from "../pipeline-steps";
import { failed, stepFailures } from "./step-failures";

/**
 * The actor the pipeline's transactions run as (app.actor_id, recorded by defaults such as
 * created_by). Same form as the audit catalogue's system actors ("cron.retention", ...):
 * lower-case, no spaces, at most 64 characters (shared/audit/audit-events.ts SYSTEM_ACTOR_PATTERN).
 */
export const PIPELINE_ACTOR_ID = "system:pipeline";

export function pipelineScope(ctx: StepContext, input: StepInput): RequestScope {
  return { tenantId: input.tenantId, requestId: ctx.requestId, actorId: PIPELINE_ACTOR_ID };
}

/** The pipeline's calls to the LLM gateway: the system actor, about this patient and document. */
export const PIPELINE_LLM_ACTOR = "pipeline.steps";

export function llmScope(
  ctx: StepContext,
  input: StepInput,
  target: { patientId: string; documentId: string },
): LlmCallScope {
  return {
    tenantId: input.tenantId,
    actor: { type: "system", id: PIPELINE_LLM_ACTOR },
    patientId: target.patientId,
    documentId: target.documentId,
    requestId: ctx.requestId,
  };
}

export type VersionStatus = "building" | "ready" | "superseded" | "failed";

export interface StepTarget {
  documentId: string;
  patientId: string;
  storagePath: string;
  mediaType: string;
  documentStatus: string;
  scanResult: string;
  currentVersionId: string | null;
  versionId: string;
  version: number;
  versionStatus: VersionStatus;
  pageCount: number | null;
}

interface VersionRow {
  id: string;
  version: number;
  status: VersionStatus;
  page_count: number | null;
}

interface DocumentRow {
  id: string;
  patient_id: string;
  storage_path: string;
  media_type: string;
  status: string;
  scan_result: string;
  current_version_id: string | null;
}

export type TargetLookup = { ok: true; target: StepTarget } | { ok: false; outcome: StepOutcome };

/**
 * Reads the job's version and its document; with `lock`, locks rows so the write that follows
 * cannot interleave with a deletion or a duplicate delivery of the same step:
 *  - "version": the version row only. A document deletion locks the document, then cascades to
 *    the version and waits for this lock, so what the handler writes is either committed before
 *    the deletion (and removed by its cascade) or never written. A second delivery of the same
 *    step waits here and then replaces the first one's rows.
 *  - "document": the document, then the version: the order a deletion takes them, so finalize
 *    and a deletion cannot deadlock.
 * No document (deleted, or another tenant's under RLS) is document_deleted; a version that is not
 * this document's is version_not_found; a document of another patient than the job's, job_mismatch.
 */
export async function loadTarget(
  tx: Tx,
  input: StepInput,
  lock: "none" | "version" | "document" = "none",
): Promise<TargetLookup> {
  let document: DocumentRow | undefined;
  if (lock === "document") {
    [document] = await tx<DocumentRow[]>`
      select id, patient_id, storage_path, media_type, status, scan_result, current_version_id
      from medchr.documents where id = ${input.documentId} for update`;
    if (!document) return { ok: false, outcome: failed(stepFailures.documentDeleted()) };
  }
  const [version] = await tx<VersionRow[]>`
    select id, version, status, page_count from medchr.document_versions
    where id = ${input.versionId} and document_id = ${input.documentId}
    ${lock === "none" ? tx`` : tx`for update`}`;
  if (!document) {
    [document] = await tx<DocumentRow[]>`
      select id, patient_id, storage_path, media_type, status, scan_result, current_version_id
      from medchr.documents where id = ${input.documentId}`;
  }
  if (!document) return { ok: false, outcome: failed(stepFailures.documentDeleted()) };
  if (!version) return { ok: false, outcome: failed(stepFailures.versionNotFound()) };
  if (document.patient_id !== input.patientId)
    return { ok: false, outcome: failed(stepFailures.jobMismatch()) };
  return {
    ok: true,
    target: {
      documentId: document.id,
      patientId: document.patient_id,
      storagePath: document.storage_path,
      mediaType: document.media_type,
      documentStatus: document.status,
      scanResult: document.scan_result,
      currentVersionId: document.current_version_id,
      versionId: version.id,
      version: version.version,
      versionStatus: version.status,
      pageCount: version.page_count,
    },
  };
}

/**
 * Only a run that is still building takes writes. A redelivery after the run finished (ready) or
 * was replaced by a newer one (superseded) is answered with success and no writes: rewriting
 * would put back facts and chunks that finalize removed. A failed run stays failed.
 */
export function unlessBuilding(target: StepTarget): StepOutcome | null {
  switch (target.versionStatus) {
    case "building":
      return null;
    case "failed":
      return failed(stepFailures.versionFailed());
    default:
      return { ok: true, metrics: { skipped: 1 } };
  }
}

/** Look up, then gate: the common start of every handler except finalize. */
export async function loadBuildingTarget(
  tx: Tx,
  input: StepInput,
  lock: "none" | "version",
): Promise<TargetLookup> {
  const found = await loadTarget(tx, input, lock);
  if (!found.ok) return found;
  const stop = unlessBuilding(found.target);
  return stop ? { ok: false, outcome: stop } : found;
}

/**
 * The version's page texts, as the clinical extractors and the chunker read them. Text files are
 * stored with source "text_file" but are read like a text layer (printed, not recognised).
 */
export async function readVersionPages(tx: Tx, versionId: string): Promise<PageText[]> {
  const rows = await tx<{ page: number; text: string; source: string; ocr_confidence: number | null }[]>`
    select page, text, source, ocr_confidence from medchr.document_pages where version_id = ${versionId} order by page`;
  return rows.map((r) => ({
    pageNumber: r.page,
    text: r.text,
    source: r.source === "ocr" ? "ocr" : "text_layer",
    ocrConfidence: r.ocr_confidence,
  }));
}
