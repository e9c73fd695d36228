import { z } from "zod";
import { type AuditContext, recordAudit } from "../audit/audit-context";
import { err, ok, type Result } from "../core/result";
import type { Tx } from "../db/database";
import { invalidPatientFields, mrnConflict, type PatientFieldsError } from "./patient-errors";
import { Contact, DateOfBirth, Lifestyle, Mrn, Notes, PersonName, Sex } from "./patient-fields";
import { type Patient, type PatientRow, patientColumns, toPatient } from "./patient-view";

export const CreatePatientInput = z.strictObject({
  givenName: PersonName,
  familyName: PersonName,
  dateOfBirth: DateOfBirth,
  sex: Sex,
  mrn: Mrn.optional(),
  contact: Contact.optional(),
  notes: Notes.optional(),
  lifestyle: Lifestyle.optional(),
});
export type CreatePatientInput = z.input<typeof CreatePatientInput>;

export interface CreatePatientOptions {
  /** The signed-in user creating the record; null for API keys (the audit log names the key). */
  createdBy: string | null;
}

/**
 * Adds a patient to the current tenant (the RLS scope of `tx`). An MRN already used in this
 * tenant is a conflict; the insert uses ON CONFLICT DO NOTHING so a duplicate does not
 * abort the caller's transaction. Audited in `tx`: patient.create with the new id only.
 */
export async function createPatient(
  tx: Tx,
  input: CreatePatientInput,
  options: CreatePatientOptions,
  audit: AuditContext,
): Promise<Result<Patient, PatientFieldsError>> {
  const parsed = CreatePatientInput.safeParse(input);
  if (!parsed.success) return err(invalidPatientFields(parsed.error.issues));
  const p = parsed.data;

  const [row] = await tx<PatientRow[]>`
    insert into medchr.patients (tenant_id, mrn, given_name, family_name, date_of_birth, sex,
      contact, notes, lifestyle, created_by)
    values ((select medchr.current_tenant_id()), ${p.mrn ?? null}, ${p.givenName}, ${p.familyName},
      ${p.dateOfBirth}::date, ${p.sex}, ${tx.json(p.contact ?? {})}, ${p.notes ?? null},
      ${tx.json(p.lifestyle ?? {})}, ${options.createdBy})
    on conflict (tenant_id, mrn) where mrn is not null do nothing
    returning ${patientColumns(tx)}`;
  if (!row) return err(mrnConflict());

  await recordAudit(tx, audit, {
    action: "patient.create",
    outcome: "SUCCESS",
    resource: { type: "patient", id: row.id },
  });
  return ok(toPatient(row));
}
