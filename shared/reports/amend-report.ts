/**
 * Amends a finalized report: a NEW report (report_version + 1, amends_report_id) starting as a
 * draft with the finalized content, the same AI draft and provenance; the finalized one stays
 * exactly as signed. One amendment per report (a later one amends the amendment).
 */
import { type AuditContext, recordAudit } from "../audit/audit-context";
import { err, ok, type Result } from "../core/result";
import type { Tx } from "../db/database";
import { type ReportError, reportErrors } from "./report-errors";
import { type ReportSummaryView, readReportRow, toReportSummary } from "./report-view";

export async function amendReport(
  tx: Tx,
  input: { reportId: string },
  audit: AuditContext,
): Promise<Result<ReportSummaryView, ReportError>> {
  const row = await readReportRow(tx, input.reportId, { forUpdate: true });
  if (!row) return err(reportErrors.reportNotFound());
  if (row.status !== "finalized") return err(reportErrors.notFinalized());
  const [existing] = await tx<{ id: string }[]>`
    select id from medchr.reports where amends_report_id = ${row.id}`;
  if (existing) return err(reportErrors.alreadyAmended());
  const [created] = await tx<{ id: string }[]>`
    insert into medchr.reports (tenant_id, patient_id, amends_report_id, report_version, status, revision,
      draft, content, provenance, unsupported_count, drafted_at)
    values (medchr.current_tenant_id(), ${row.patient_id}, ${row.id}, ${row.report_version + 1}, 'draft', 1,
      ${tx.json(row.draft as never)}, ${tx.json(row.content as never)}, ${tx.json(row.provenance as never)},
      ${row.unsupported_count}, ${row.drafted_at})
    returning id`;
  const amended = await readReportRow(tx, created!.id);
  await recordAudit(tx, audit, {
    action: "report.amend",
    outcome: "SUCCESS",
    resource: { type: "report", id: created!.id },
    details: { patientId: row.patient_id, amendsReportId: row.id },
  });
  return ok(toReportSummary(amended!));
}
