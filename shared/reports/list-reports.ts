/** A patient's reports, newest first (summaries, no content), audited as report.list. */
import { type AuditContext, recordAudit } from "../audit/audit-context";
import { err, ok, type Result } from "../core/result";
import type { Tx } from "../db/database";
import { type ReportError, reportErrors } from "./report-errors";
import { type ReportRow, type ReportSummaryView, toReportSummary } from "./report-view";

/** A patient has a handful of reports; 100 is years of them. */
export const MAX_REPORTS_LISTED = 100;

export async function listReports(
  tx: Tx,
  input: { patientId: string },
  audit: AuditContext,
): Promise<Result<ReportSummaryView[], ReportError>> {
  const [patient] = await tx<{ id: string }[]>`select id from medchr.patients where id = ${input.patientId}`;
  if (!patient) return err(reportErrors.patientNotFound());
  const rows = await tx<ReportRow[]>`
    select id, tenant_id, patient_id, job_id, amends_report_id, report_version, status, revision,
      null as draft, null as content, provenance, unsupported_count, error_code, created_by, created_at,
      updated_at, drafted_at, finalized_at, finalized_by, null as snapshot, content_hash, signature, signature_kid
    from medchr.reports where patient_id = ${input.patientId}
    order by created_at desc limit ${MAX_REPORTS_LISTED}`;
  await recordAudit(tx, audit, {
    action: "report.list",
    outcome: "SUCCESS",
    resource: { type: "patient", id: input.patientId },
    details: { count: rows.length },
  });
  return ok(rows.map(toReportSummary));
}
