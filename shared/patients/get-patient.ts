import { z } from "zod";
import { type AuditContext, recordAudit } from "../audit/audit-context";
import { err, ok, type Result } from "../core/result";
import type { Tx } from "../db/database";
import {
  invalidPatientFields,
  type PatientFieldsError,
  type PatientNotFoundError,
  patientNotFound,
} from "./patient-errors";
import { type Patient, type PatientRow, patientColumns, toPatient } from "./patient-view";

export const GetPatientInput = z.strictObject({ patientId: z.uuid() });
export type GetPatientInput = z.input<typeof GetPatientInput>;

/** The patient's row in the current tenant, or null (another tenant's id reads as absent under RLS). */
export async function readPatientRow(
  tx: Tx,
  patientId: string,
  options: { forUpdate?: boolean } = {},
): Promise<PatientRow | null> {
  const [row] = await tx<PatientRow[]>`
    select ${patientColumns(tx)} from medchr.patients where id = ${patientId}
    ${options.forUpdate ? tx`for update` : tx``}`;
  return row ?? null;
}

/**
 * One patient of the current tenant. Another clinic's id is not found, exactly like an id
 * that never existed (no oracle for other tenants' ids). Audited in `tx`: patient.read.
 */
export async function getPatient(
  tx: Tx,
  input: GetPatientInput,
  audit: AuditContext,
): Promise<Result<Patient, PatientFieldsError | PatientNotFoundError>> {
  const parsed = GetPatientInput.safeParse(input);
  if (!parsed.success) return err(invalidPatientFields(parsed.error.issues));
  const row = await readPatientRow(tx, parsed.data.patientId);
  if (!row) return err(patientNotFound());
  await recordAudit(tx, audit, {
    action: "patient.read",
    outcome: "SUCCESS",
    resource: { type: "patient", id: row.id },
  });
  return ok(toPatient(row));
}
