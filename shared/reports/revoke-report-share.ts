/** Revokes a share link at once (report.share): the next view is refused. Idempotent. */
import { type AuditContext, recordAudit } from "../audit/audit-context";
import { err, ok, type Result } from "../core/result";
import type { Tx } from "../db/database";
import { type ReportShareView, type ShareRow, toShareView } from "./create-report-share";
import { type ReportError, reportErrors } from "./report-errors";
import { readReportRow } from "./report-view";

export async function revokeReportShare(
  tx: Tx,
  input: { reportId: string; shareId: string; revokedBy: string; now: Date },
  audit: AuditContext,
): Promise<Result<ReportShareView, ReportError>> {
  const report = await readReportRow(tx, input.reportId);
  if (!report) return err(reportErrors.reportNotFound());
  const [row] = await tx<ShareRow[]>`
    update medchr.report_shares set revoked_at = coalesce(revoked_at, ${input.now}),
      revoked_by = coalesce(revoked_by, ${input.revokedBy})
    where id = ${input.shareId} and report_id = ${report.id}
    returning id, report_id, expires_at, revoked_at, view_count, last_viewed_at, created_by, created_at`;
  if (!row) return err({ code: "not_found", message: "No such share link." });
  await recordAudit(tx, audit, {
    action: "report.share_revoke",
    outcome: "SUCCESS",
    resource: { type: "report", id: report.id },
    details: { patientId: report.patient_id, shareId: row.id },
  });
  return ok(toShareView(row));
}
