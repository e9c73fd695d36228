/** A report's share links, newest first (never the tokens), audited as report.read. */
import { type AuditContext, recordAudit } from "../audit/audit-context";
import { err, ok, type Result } from "../core/result";
import type { Tx } from "../db/database";
import { type ReportShareView, type ShareRow, toShareView } from "./create-report-share";
import { type ReportError, reportErrors } from "./report-errors";
import { readReportRow } from "./report-view";

export async function listReportShares(
  tx: Tx,
  input: { reportId: string },
  audit: AuditContext,
): Promise<Result<ReportShareView[], ReportError>> {
  const report = await readReportRow(tx, input.reportId);
  if (!report) return err(reportErrors.reportNotFound());
  const rows = await tx<ShareRow[]>`
    select id, report_id, expires_at, revoked_at, view_count, last_viewed_at, created_by, created_at
    from medchr.report_shares where report_id = ${report.id} order by created_at desc limit 100`;
  await recordAudit(tx, audit, {
    action: "report.read",
    outcome: "SUCCESS",
    resource: { type: "report", id: report.id },
    details: { patientId: report.patient_id, history: false },
  });
  return ok(rows.map(toShareView));
}
