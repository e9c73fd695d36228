/**
 * The contract between the job runner (shared/jobs: QStash deliveries, job state, retries)
 * and the step handlers (shared/pipeline/steps: the work). A job of kind document.process
 * runs these steps in order, one QStash delivery each:
 *
 *   extract_text  -> document_pages of the job's version (text layer, OCR, text files)
 *   classify      -> document_versions.document_type / service_date / facility / confidence
 *   extract_facts -> extracted_facts of the version (labs, medications, diagnoses, allergies, vitals)
 *   chunk         -> document_chunks of the version (text + provenance, no embedding yet)
 *   embed         -> document_chunks.embedding (through the LLM gateway)
 *   finalize      -> the version becomes the document's current one in ONE transaction:
 *                    older versions superseded, their chunks and facts removed, document
 *                    status processed
 *
 * A job of kind report.draft runs REPORT_DRAFT_STEPS the same way (below).
 *
 * Every handler is idempotent: it writes only rows of its version, replacing what a previous
 * attempt of the same step wrote (delete + insert in one transaction), so a redelivery or a
 * retry after a crash leaves the same state once. A handler never publishes and never changes
 * the job row: the runner does both, after the handler's transaction committed.
 */
import type { KeyRing } from "../config/key-ring";
import type { Result } from "../core/result";
import type { Database } from "../db/database";
import type { LlmGateway } from "../llm/llm-gateway";
import type { ObjectStorage } from "../storage/object-storage";
import type { OcrEngine, TextLimits, TextResult } from "../text";

export const PIPELINE_STEPS = [
  "extract_text",
  "classify",
  "extract_facts",
  "chunk",
  "embed",
  "finalize",
] as const;
export type PipelineStep = (typeof PIPELINE_STEPS)[number];

/**
 * A job of kind report.draft (shared/reports) runs one step: draft_report builds the draft of
 * its report (record, retrieval, the gateway, citation checks) and stores it in one transaction.
 */
export const REPORT_DRAFT_STEPS = ["draft_report"] as const;
export type ReportDraftStep = (typeof REPORT_DRAFT_STEPS)[number];

/** Every step of every job kind. Step names are unique across kinds: a step names its kind. */
export const JOB_STEPS = [...PIPELINE_STEPS, ...REPORT_DRAFT_STEPS] as const;
export type JobStep = (typeof JOB_STEPS)[number];

/** Job kinds (medchr.jobs.kind check). */
export const JOB_KINDS = ["document.process", "report.draft"] as const;
export type JobKind = (typeof JOB_KINDS)[number];

/** The steps of each job kind, in order. */
export const JOB_KIND_STEPS: Readonly<Record<JobKind, readonly JobStep[]>> = {
  "document.process": PIPELINE_STEPS,
  "report.draft": REPORT_DRAFT_STEPS,
};

export function isJobKind(value: string): value is JobKind {
  return Object.hasOwn(JOB_KIND_STEPS, value);
}

/** The steps of a job kind; a kind this code does not know has none. */
export function stepsOfKind(kind: string): readonly JobStep[] {
  return isJobKind(kind) ? JOB_KIND_STEPS[kind] : [];
}

export function isPipelineStep(step: JobStep): step is PipelineStep {
  return (PIPELINE_STEPS as readonly string[]).includes(step);
}

/** The step after `step` in its kind, null after the last. */
export function nextStep(step: JobStep): JobStep | null {
  const steps = isPipelineStep(step) ? PIPELINE_STEPS : REPORT_DRAFT_STEPS;
  const i = (steps as readonly JobStep[]).indexOf(step);
  return steps[i + 1] ?? null;
}

/**
 * Turns text into vectors; the on-box provider is deterministic and sends nothing anywhere.
 * Steps never hold one: they embed through the LLM gateway, which holds the on-box provider.
 */
export interface EmbeddingProvider {
  /** Stored beside each vector (document_chunks.embedding_model), e.g. "on-box-hash-256@1". */
  readonly model: string;
  readonly dimensions: number;
  embed(texts: readonly string[]): Promise<Result<number[][]>>;
}

/** What a step handler may use; injected by the runner (Worker or CLI), never imported. */
export interface StepContext {
  db: Database;
  storage: ObjectStorage;
  /** Lazily created OCR engine (one per isolate). */
  getOcr: () => Promise<TextResult<OcrEngine>>;
  /** Size and page limits for text extraction (WORKERS_TEXT_LIMITS inside a Worker). */
  textLimits?: Partial<TextLimits>;
  /** The only path to any model or embedder (shared/llm, ADR 0009). */
  llm: LlmGateway;
  /** The audit chain's keys: steps that record an event of their own (report.drafted). */
  auditKeys: KeyRing;
  now: () => Date;
  requestId: string;
}

/** Which run a delivery is about. The runner creates the version row when it creates the job. */
export interface StepInput {
  tenantId: string;
  jobId: string;
  documentId: string;
  patientId: string;
  versionId: string;
}

/**
 * A failure a step reports. `retryable` false fails the job at once (a corrupt or encrypted
 * PDF will not improve); true lets QStash retry with backoff until the last attempt.
 * `code` is a short enum-like string, `message` safe to show (no document text, no PHI).
 */
export interface StepFailure {
  code: string;
  message: string;
  retryable: boolean;
}

export type StepOutcome =
  | { ok: true; metrics?: Record<string, number> }
  | { ok: false; failure: StepFailure };

export type StepHandler = (ctx: StepContext, input: StepInput) => Promise<StepOutcome>;

/** Which report a draft_report delivery is about (the report row names its job). */
export interface ReportStepInput {
  tenantId: string;
  jobId: string;
  patientId: string;
  reportId: string;
}

export type ReportStepHandler = (ctx: StepContext, input: ReportStepInput) => Promise<StepOutcome>;

/** The runner's handler for every step of every kind. */
export type JobStepHandlers = Readonly<
  Record<PipelineStep, StepHandler> & Record<ReportDraftStep, ReportStepHandler>
>;
