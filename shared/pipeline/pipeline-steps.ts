/**
 * The contract between the job runner (shared/jobs: QStash deliveries, job state, retries)
 * and the step handlers (shared/pipeline/steps: the work). A job of kind document.process
 * runs these steps in order, one QStash delivery each:
 *
 *   extract_text  -> document_pages of the job's version (text layer, OCR, text files)
 *   classify      -> document_versions.document_type / service_date / facility / confidence
 *   extract_facts -> extracted_facts of the version (labs, medications, diagnoses, allergies, vitals)
 *   chunk         -> document_chunks of the version (text + provenance, no embedding yet)
 *   embed         -> document_chunks.embedding (the embedding provider)
 *   finalize      -> the version becomes the document's current one in ONE transaction:
 *                    older versions superseded, their chunks and facts removed, document
 *                    status processed
 *
 * Every handler is idempotent: it writes only rows of its version, replacing what a previous
 * attempt of the same step wrote (delete + insert in one transaction), so a redelivery or a
 * retry after a crash leaves the same state once. A handler never publishes and never changes
 * the job row: the runner does both, after the handler's transaction committed.
 */
import type { Result } from "../core/result";
import type { Database } from "../db/database";
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

export function nextStep(step: PipelineStep): PipelineStep | null {
  const i = PIPELINE_STEPS.indexOf(step);
  return PIPELINE_STEPS[i + 1] ?? null;
}

/** Turns text into vectors; the on-box provider is deterministic and sends nothing anywhere. */
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
  embeddings: EmbeddingProvider;
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
