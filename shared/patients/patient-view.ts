import type { Tx } from "../db/database";
import type { Contact, Lifestyle, Sex } from "./patient-fields";

/** What lists show: enough to pick the right patient, nothing more (HIPAA 164.502(b) minimum necessary). */
export interface PatientSummary {
  id: string;
  mrn: string | null;
  givenName: string;
  familyName: string;
  /** YYYY-MM-DD. */
  dateOfBirth: string | null;
  sex: Sex | null;
  createdAt: string;
  updatedAt: string;
}

/** One patient's full record (GET /patients/{id}, create, update). */
export interface Patient extends PatientSummary {
  contact: Contact;
  notes: string | null;
  lifestyle: Lifestyle;
}

export interface PatientSummaryRow {
  id: string;
  mrn: string | null;
  given_name: string;
  family_name: string;
  date_of_birth: string | null;
  sex: Sex | null;
  created_at: Date;
  updated_at: Date;
  /** created_at at microsecond precision (UTC), for the page cursor. */
  cursor_created_at: string;
}

export interface PatientRow extends PatientSummaryRow {
  contact: Contact;
  notes: string | null;
  lifestyle: Lifestyle;
}

/** to_char format giving the UTC timestamp with microseconds: a Date would drop them. */
export const CURSOR_TIMESTAMP_FORMAT = 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"';

/**
 * The columns of a list entry. The date goes out as text: postgres.js would turn a `date`
 * into a midnight Date in the process timezone and shift it a day.
 */
export function patientSummaryColumns(tx: Tx) {
  return tx`id, mrn, given_name, family_name, date_of_birth::text as date_of_birth, sex,
    created_at, updated_at,
    to_char(created_at at time zone 'UTC', ${CURSOR_TIMESTAMP_FORMAT}) as cursor_created_at`;
}

/** The columns of a whole record. */
export function patientColumns(tx: Tx) {
  return tx`${patientSummaryColumns(tx)}, contact, notes, lifestyle`;
}

export function toPatientSummary(row: PatientSummaryRow): PatientSummary {
  return {
    id: row.id,
    mrn: row.mrn,
    givenName: row.given_name,
    familyName: row.family_name,
    dateOfBirth: row.date_of_birth,
    sex: row.sex,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

export function toPatient(row: PatientRow): Patient {
  return { ...toPatientSummary(row), contact: row.contact, notes: row.notes, lifestyle: row.lifestyle };
}
