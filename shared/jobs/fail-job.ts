/**
 * Ends a job as failed, in the caller's transaction, together with what it was building: the
 * job row (code, message, finished), its version (failed: never made current) and the
 * document (failed, unless another run already finished it), or the report it was drafting
 * (failed, with the code), and the job.failed event. Used
 * by the runner (last retry, permanent failure, document deleted) and the sweeper (stuck).
 *
 * Rows the steps wrote for the failed version (pages, facts, chunks) stay with it: the patient
 * record reads only current versions, and the next run's finalize removes older versions' rows.
 */
import { type AuditContext, recordAudit } from "../audit/audit-context";
import { JOB_FAILURE_CODES } from "../audit/audit-events";
import type { Tx } from "../db/database";
import type { JobKind, JobStep } from "../pipeline/pipeline-steps";
import {
  JOB_ERROR_CODE_PATTERN,
  type JobRow,
  MAX_JOB_ERROR_MESSAGE_CHARS,
  parseSteps,
  type StepRecord,
  withStep,
} from "./job-view";

export type JobFailureReason =
  | "permanent"
  | "retries_exhausted"
  | "document_deleted"
  | "report_deleted"
  | "stuck";

export interface JobFailure {
  code: string;
  message: string;
  reason: JobFailureReason;
  step: JobStep | null;
}

/** A step's code as the job row may hold it (the column's pattern), else a generic one. */
export function safeErrorCode(code: string): string {
  return JOB_ERROR_CODE_PATTERN.test(code) ? code : "step_failed";
}

export function safeErrorMessage(message: string): string {
  const trimmed = typeof message === "string" ? message.trim() : "";
  return (trimmed === "" ? "A processing step failed." : trimmed).slice(0, MAX_JOB_ERROR_MESSAGE_CHARS);
}

/** The audit log records enums only: a code outside the catalogue's list is "other". */
export function auditFailureCode(code: string): (typeof JOB_FAILURE_CODES)[number] {
  return (JOB_FAILURE_CODES as readonly string[]).includes(code)
    ? (code as (typeof JOB_FAILURE_CODES)[number])
    : "other";
}

export async function failJob(
  tx: Tx,
  job: Pick<JobRow, "id" | "kind" | "document_id" | "steps">,
  failure: JobFailure,
  audit: AuditContext,
  now: Date,
  steps: StepRecord[] = parseSteps(job.steps, job.kind),
): Promise<void> {
  const code = safeErrorCode(failure.code);
  const finalSteps = failure.step
    ? withStep(steps, failure.step, {
        status: "failed",
        finishedAt: now.toISOString(),
        errorCode: code,
      })
    : steps;
  await tx`
    update medchr.jobs set status = 'failed', error_code = ${code},
      error_message = ${safeErrorMessage(failure.message)}, finished_at = ${now}, lease_expires_at = null,
      steps = ${tx.json(finalSteps as never)}
    where id = ${job.id}`;
  await tx`update medchr.document_versions set status = 'failed' where job_id = ${job.id} and status = 'building'`;
  if (job.document_id) {
    await tx`update medchr.documents set status = 'failed' where id = ${job.document_id} and status = 'processing'`;
  }
  if (job.kind === "report.draft") {
    await tx`
      update medchr.reports set status = 'failed', error_code = ${code}
      where job_id = ${job.id} and status = 'drafting'`;
  }
  await recordAudit(tx, audit, {
    action: "job.failed",
    outcome: "FAILURE",
    resource: { type: "job", id: job.id },
    details: {
      kind: job.kind as JobKind,
      ...(job.document_id ? { documentId: job.document_id } : {}),
      ...(failure.step ? { step: failure.step } : {}),
      reason: failure.reason,
      code: auditFailureCode(code),
    },
  });
}
