import { type AuditContext, recordAudit } from "../audit/audit-context";
import { err, ok, type Result } from "../core/result";
import type { Tx } from "../db/database";
import { buildPatientRecord, type PatientRecord } from "./build-patient-record";

export interface RecordNotFoundError {
  code: "not_found";
  message: string;
}

/**
 * The current record of one patient of the current tenant, audited in `tx` as record.read with
 * counts only. Another clinic's patient is not found, like one that never existed.
 */
export async function getPatientRecord(
  tx: Tx,
  input: { patientId: string },
  audit: AuditContext,
): Promise<Result<PatientRecord, RecordNotFoundError>> {
  const record = await buildPatientRecord(tx, input.patientId);
  if (!record.ok) return err(record.error);
  const r = record.value;
  await recordAudit(tx, audit, {
    action: "record.read",
    outcome: "SUCCESS",
    resource: { type: "patient", id: r.patientId },
    details: {
      documents: r.documents.length,
      items: r.labs.length + r.medications.length + r.diagnoses.length + r.allergies.length + r.vitals.length,
    },
  });
  return ok(r);
}
