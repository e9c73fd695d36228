import { z } from "zod";
import { type AuditContext, recordAudit } from "../audit/audit-context";
import { canonicalJson } from "../audit/canonical-json";
import { err, ok, type Result } from "../core/result";
import type { Tx } from "../db/database";
import { readPatientRow } from "./get-patient";
import {
  invalidPatientFields,
  mrnConflict,
  type PatientFieldsError,
  type PatientNotFoundError,
  patientNotFound,
} from "./patient-errors";
import { Contact, DateOfBirth, Lifestyle, Mrn, Notes, PersonName, Sex } from "./patient-fields";
import { type Patient, type PatientRow, patientColumns, toPatient } from "./patient-view";

/**
 * A partial update: only the fields present change. Required fields (names, date of
 * birth, sex) cannot be cleared; the optional ones are cleared with null. `contact` and
 * `lifestyle` are replaced as a whole, not merged, so a client can remove a sub-field.
 */
export const UpdatePatientChanges = z
  .strictObject({
    givenName: PersonName.optional(),
    familyName: PersonName.optional(),
    dateOfBirth: DateOfBirth.optional(),
    sex: Sex.optional(),
    mrn: Mrn.nullable().optional(),
    contact: Contact.nullable().optional(),
    notes: Notes.nullable().optional(),
    lifestyle: Lifestyle.nullable().optional(),
  })
  .refine((changes) => Object.values(changes).some((v) => v !== undefined), {
    message: "must change at least one field",
  });
export type UpdatePatientChanges = z.input<typeof UpdatePatientChanges>;

export const UpdatePatientInput = z.strictObject({ patientId: z.uuid(), changes: UpdatePatientChanges });
export type UpdatePatientInput = z.input<typeof UpdatePatientInput>;

type Changes = z.output<typeof UpdatePatientChanges>;
/** Field names as the audit catalogue knows them (audit-events PATIENT_FIELDS). */
type AuditField =
  | "mrn"
  | "given_name"
  | "family_name"
  | "date_of_birth"
  | "sex"
  | "contact"
  | "notes"
  | "lifestyle";

const sameJson = (a: unknown, b: unknown) => canonicalJson(a) === canonicalJson(b);

/** The columns whose stored value would really change, with their new values. */
function changedColumns(row: PatientRow, changes: Changes): Map<AuditField, unknown> {
  const out = new Map<AuditField, unknown>();
  const set = (field: AuditField, next: unknown, same: boolean) => {
    if (!same) out.set(field, next);
  };
  if (changes.givenName !== undefined)
    set("given_name", changes.givenName, changes.givenName === row.given_name);
  if (changes.familyName !== undefined)
    set("family_name", changes.familyName, changes.familyName === row.family_name);
  if (changes.dateOfBirth !== undefined)
    set("date_of_birth", changes.dateOfBirth, changes.dateOfBirth === row.date_of_birth);
  if (changes.sex !== undefined) set("sex", changes.sex, changes.sex === row.sex);
  if (changes.mrn !== undefined) set("mrn", changes.mrn, changes.mrn === row.mrn);
  if (changes.notes !== undefined) set("notes", changes.notes, changes.notes === row.notes);
  if (changes.contact !== undefined) {
    const next = changes.contact ?? {};
    set("contact", next, sameJson(next, row.contact));
  }
  if (changes.lifestyle !== undefined) {
    const next = changes.lifestyle ?? {};
    set("lifestyle", next, sameJson(next, row.lifestyle));
  }
  return out;
}

/** True when `error` is the unique violation of the per-tenant MRN index. */
function isMrnConflict(error: unknown): boolean {
  const e = error as { code?: string; constraint_name?: string } | null;
  return e?.code === "23505" && e.constraint_name === "patients_tenant_mrn_key";
}

/**
 * Changes some fields of one patient of the current tenant. The row is locked first, the
 * change is compared with what is stored, and only real changes are written; the audit
 * event (patient.update) lists the changed field names, never old or new values. A no-op
 * update is still audited, with no fields. An MRN taken by another patient of the tenant
 * is a conflict; the UPDATE runs in a savepoint so the unique violation of a concurrent
 * writer becomes that conflict instead of aborting the caller's transaction.
 */
export async function updatePatient(
  tx: Tx,
  input: UpdatePatientInput,
  audit: AuditContext,
): Promise<Result<Patient, PatientFieldsError | PatientNotFoundError>> {
  const parsed = UpdatePatientInput.safeParse(input);
  if (!parsed.success) return err(invalidPatientFields(parsed.error.issues));
  const { patientId, changes } = parsed.data;

  const current = await readPatientRow(tx, patientId, { forUpdate: true });
  if (!current) return err(patientNotFound());
  const changed = changedColumns(current, changes);

  let updated = current;
  if (changed.size > 0) {
    const columns = [...changed.keys()];
    const values = Object.fromEntries(
      columns.map((column) => {
        const next = changed.get(column);
        return [column, column === "contact" || column === "lifestyle" ? tx.json(next as never) : next];
      }),
    );
    const write = (sql: Tx) => sql<PatientRow[]>`
      update medchr.patients set ${sql(values, columns)} where id = ${patientId}
      returning ${patientColumns(sql)}`;
    try {
      // Only an MRN change can hit the unique index; other updates skip the savepoint round trips.
      const rows = changed.has("mrn") ? await tx.savepoint(write) : await write(tx);
      updated = rows[0]!;
    } catch (error) {
      if (isMrnConflict(error)) return err(mrnConflict());
      throw error;
    }
  }

  await recordAudit(tx, audit, {
    action: "patient.update",
    outcome: "SUCCESS",
    resource: { type: "patient", id: patientId },
    details: { fields: [...changed.keys()] },
  });
  return ok(toPatient(updated));
}
