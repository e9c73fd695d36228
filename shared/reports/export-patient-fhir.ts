/**
 * The patient's FHIR R4 Bundle (build-fhir-bundle.ts): their details, current record and every
 * finalized report, audited as report.export (format fhir, the count of resources; no content).
 */
import { type AuditContext, recordAudit } from "../audit/audit-context";
import { err, ok, type Result } from "../core/result";
import type { Tx } from "../db/database";
import { buildPatientRecord } from "../records/build-patient-record";
import { buildFhirBundle, type FhirPatient, type FinalizedReportForFhir } from "./build-fhir-bundle";
import { type ReportError, reportErrors } from "./report-errors";
import type { ReportContent, ReportProvenance } from "./report-schema";

export async function exportPatientFhir(
  tx: Tx,
  input: { patientId: string; now: Date },
  audit: AuditContext,
): Promise<Result<Record<string, unknown>, ReportError>> {
  const [patient] = await tx<
    {
      id: string;
      given_name: string;
      family_name: string;
      date_of_birth: string | null;
      sex: string | null;
      mrn: string | null;
    }[]
  >`
    select id, given_name, family_name, to_char(date_of_birth, 'YYYY-MM-DD') as date_of_birth, sex, mrn
    from medchr.patients where id = ${input.patientId}`;
  if (!patient) return err(reportErrors.patientNotFound());
  const record = await buildPatientRecord(tx, patient.id);
  if (!record.ok) return err(reportErrors.patientNotFound());
  const reports = await tx<
    {
      id: string;
      report_version: number;
      finalized_at: Date;
      finalized_by: string;
      content_hash: string;
      snapshot: { content: ReportContent; provenance: ReportProvenance };
    }[]
  >`
    select id, report_version, finalized_at, finalized_by, content_hash, snapshot from medchr.reports
    where patient_id = ${patient.id} and status = 'finalized' order by finalized_at`;
  const fhirPatient: FhirPatient = {
    id: patient.id,
    givenName: patient.given_name,
    familyName: patient.family_name,
    dateOfBirth: patient.date_of_birth,
    sex: patient.sex,
    mrn: patient.mrn,
  };
  const finalized: FinalizedReportForFhir[] = reports.map((r) => ({
    id: r.id,
    reportVersion: r.report_version,
    finalizedAt: new Date(r.finalized_at).toISOString(),
    finalizedBy: r.finalized_by,
    contentHash: r.content_hash,
    content: r.snapshot.content,
    provenance: r.snapshot.provenance,
  }));
  const bundle = await buildFhirBundle({
    patient: fhirPatient,
    record: record.value,
    reports: finalized,
    now: input.now,
  });
  await recordAudit(tx, audit, {
    action: "report.export",
    outcome: "SUCCESS",
    resource: { type: "patient", id: patient.id },
    details: { format: "fhir", items: (bundle.entry as unknown[]).length },
  });
  return ok(bundle);
}
