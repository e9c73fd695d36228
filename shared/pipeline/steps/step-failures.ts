/**
 * The failures step handlers report. Codes are short enums (jobs.error_code allows [a-z_]{1,64});
 * messages are fixed strings chosen here, never derived from document bytes, paths or text, so
 * the runner can store and show them as they are.
 *
 * retryable: false for what another attempt cannot change (the input itself is bad, the document
 * is gone, the run is closed); true for what may pass on its own (storage or a provider down,
 * the OCR engine failing to start in a busy isolate).
 */
import type { DomainError } from "../../core/result";
import type { TextError, TextErrorCode } from "../../text";
import type { StepFailure, StepOutcome } from "../pipeline-steps";

const failure = (code: string, message: string, retryable: boolean): StepFailure => ({
  code,
  message,
  retryable,
});

export const stepFailures = {
  documentDeleted: () =>
    failure("document_deleted", "The document was deleted while it was being processed.", false),
  versionNotFound: () =>
    failure("version_not_found", "The extraction version of this job does not exist.", false),
  jobMismatch: () => failure("job_mismatch", "The job does not match its document.", false),
  versionFailed: () => failure("version_failed", "This extraction run has already failed.", false),
  documentQuarantined: () =>
    failure("document_quarantined", "The document is quarantined and is never processed.", false),
  objectMissing: () => failure("object_missing", "The stored file of the document is missing.", false),
  objectTooLarge: () => failure("input_too_large", "The file exceeds the maximum size.", false),
  storageUnavailable: () => failure("storage_unavailable", "Object storage is unavailable.", true),
  pagesMissing: () => failure("pages_missing", "The text of this extraction run is missing.", false),
  extractionInvalid: () =>
    failure("extraction_invalid", "The extraction produced output that failed validation.", false),
  embeddingUnavailable: () =>
    failure("embedding_unavailable", "The embedding provider is unavailable.", true),
  embeddingRefused: () => failure("embedding_refused", "The embedding provider refused the input.", false),
  embeddingInvalid: () =>
    failure("embedding_invalid", "The embedding provider returned vectors of the wrong shape.", false),
  versionIncomplete: () =>
    failure("version_incomplete", "The extraction run is missing steps and cannot be finalised.", false),
  newerVersionCurrent: () =>
    failure("newer_version_current", "A newer extraction of this document is already current.", false),
} as const;

export const failed = (f: StepFailure): StepOutcome => ({ ok: false, failure: f });

/**
 * The bytes are what they are: encrypted, corrupt, oversized, empty or of an unsupported type
 * fail the job at once. The OCR engine failing to start or crashing on a page is a property of
 * the isolate (memory, a bad start), not of the document: worth the runner's bounded retries.
 */
const RETRYABLE_TEXT_ERRORS: ReadonlySet<TextErrorCode> = new Set(["ocr_unavailable", "ocr_failed"]);

export function textFailure(error: TextError): StepFailure {
  // The text stage's messages are fixed strings chosen there, safe to pass on.
  return failure(error.code, error.message, RETRYABLE_TEXT_ERRORS.has(error.code));
}

export function embeddingFailure(error: DomainError): StepFailure {
  return error.code === "unavailable" || error.code === "rate_limited"
    ? stepFailures.embeddingUnavailable()
    : stepFailures.embeddingRefused();
}
