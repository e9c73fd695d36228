import { type AuditContext, recordAudit } from "../audit/audit-context";
import { err, ok, type Result } from "../core/result";
import type { Tx } from "../db/database";
import { type JobError, jobErrors } from "./job-errors";
import { type JobView, readJobRow, toJobView } from "./job-view";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * One job of the current tenant: status, current step, per-step timings and attempts, and a
 * safe error. Another clinic's job is not found, exactly like an id that never existed.
 * Audited in `tx` (job.read) when an audit context is given.
 */
export async function getJob(
  tx: Tx,
  jobId: string,
  audit?: AuditContext,
): Promise<Result<JobView, JobError>> {
  if (typeof jobId !== "string" || !UUID.test(jobId)) return err(jobErrors.jobNotFound());
  const row = await readJobRow(tx, jobId.toLowerCase());
  if (!row) return err(jobErrors.jobNotFound());
  if (audit) {
    await recordAudit(tx, audit, {
      action: "job.read",
      outcome: "SUCCESS",
      resource: { type: "job", id: row.id },
      details: row.document_id ? { documentId: row.document_id } : {},
    });
  }
  return ok(toJobView(row));
}
