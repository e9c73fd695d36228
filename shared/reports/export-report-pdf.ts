/**
 * A finalized report as PDF (render-report-pdf.ts), from its frozen snapshot, audited as
 * report.export (format pdf). A report that is not finalized is refused: what leaves the
 * product is what a clinician signed.
 */
import { type AuditContext, recordAudit } from "../audit/audit-context";
import { err, ok, type Result } from "../core/result";
import type { Tx } from "../db/database";
import type { PdfFonts } from "./pdf-fonts";
import { renderReportPdf } from "./render-report-pdf";
import { type ReportError, reportErrors } from "./report-errors";
import type { ReportContent, ReportProvenance } from "./report-schema";
import { readReportRow } from "./report-view";

export async function exportReportPdf(
  tx: Tx,
  input: { reportId: string; fonts: PdfFonts },
  audit: AuditContext,
): Promise<Result<Uint8Array, ReportError>> {
  const report = await readReportRow(tx, input.reportId);
  if (!report) return err(reportErrors.reportNotFound());
  if (report.status !== "finalized" || !report.snapshot || !report.content_hash)
    return err(reportErrors.notFinalized());
  const [patient] = await tx<
    {
      given_name: string;
      family_name: string;
      date_of_birth: string | null;
      mrn: string | null;
      clinic: string;
    }[]
  >`
    select p.given_name, p.family_name, to_char(p.date_of_birth, 'YYYY-MM-DD') as date_of_birth, p.mrn, t.name as clinic
    from medchr.patients p join medchr.tenants t on t.id = p.tenant_id where p.id = ${report.patient_id}`;
  if (!patient) return err(reportErrors.reportNotFound());
  const snapshot = report.snapshot as {
    content: ReportContent;
    provenance?: ReportProvenance;
    finalizedByName?: string;
  };
  const drafter = snapshot.provenance
    ? snapshot.provenance.provider === "openai"
      ? `an external AI model (${snapshot.provenance.model})`
      : "the on-box drafter (rules, no AI)"
    : "MedCHR";
  const bytes = await renderReportPdf(
    {
      clinicName: patient.clinic,
      patient: {
        name: `${patient.given_name} ${patient.family_name}`,
        dateOfBirth: patient.date_of_birth,
        mrn: patient.mrn,
      },
      reportId: report.id,
      reportVersion: report.report_version,
      finalizedAt: new Date(report.finalized_at!).toISOString(),
      signedBy: snapshot.finalizedByName ?? `user ${report.finalized_by!.slice(0, 8)}`,
      contentHash: report.content_hash,
      signatureKid: report.signature_kid!,
      drafter,
      content: snapshot.content,
    },
    input.fonts,
  );
  await recordAudit(tx, audit, {
    action: "report.export",
    outcome: "SUCCESS",
    resource: { type: "patient", id: report.patient_id },
    details: { format: "pdf", items: 1, reportId: report.id },
  });
  return ok(bytes);
}
