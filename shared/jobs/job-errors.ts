/**
 * What can go wrong when a job is requested or read, as values. `reason` is stable (clients
 * switch on it); messages are fixed strings, safe to show.
 */
import type { DomainError } from "../core/result";

export type JobErrorReason =
  | "job_not_found"
  | "document_not_found"
  /** Infected uploads are kept only as a record: never processed. */
  | "document_quarantined"
  | "queue_unavailable";

export interface JobError extends DomainError {
  readonly reason: JobErrorReason;
}

export const jobErrors = {
  jobNotFound: (): JobError => ({ code: "not_found", reason: "job_not_found", message: "No such job." }),
  documentNotFound: (): JobError => ({
    code: "not_found",
    reason: "document_not_found",
    message: "No such document.",
  }),
  documentQuarantined: (): JobError => ({
    code: "conflict",
    reason: "document_quarantined",
    message: "The document is quarantined and cannot be processed.",
  }),
} as const;

/**
 * Fixed, client-safe messages for the runner's own failure codes. A step's failure message is
 * its own (StepFailure.message is safe by contract), cut to the column's limit.
 */
export const RUNNER_FAILURE_MESSAGES = {
  document_deleted: "The document was deleted while it was being processed.",
  report_deleted: "The report was deleted while it was being drafted.",
  step_crashed: "A processing step failed unexpectedly.",
  step_stuck: "A processing step did not finish and was given up.",
  step_failed: "A processing step failed.",
} as const;
