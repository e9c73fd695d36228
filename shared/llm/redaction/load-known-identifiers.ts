import type { Tx } from "../../db/database";
import { type KnownIdentifiers, NO_KNOWN_IDENTIFIERS } from "./redaction";

interface PatientRow {
  given_name: string;
  family_name: string;
  date_of_birth: Date | string | null;
  mrn: string | null;
  contact: unknown;
}

const strings = (value: unknown): string[] =>
  (Array.isArray(value) ? value : [value]).filter(
    (v): v is string => typeof v === "string" && v.trim() !== "",
  );

/** The stored address (shared/patients Address) as the parts a document may print. */
function addressParts(value: unknown): string[] {
  if (!value || typeof value !== "object") return strings(value);
  const a = value as Record<string, unknown>;
  // The country code alone ("US") is not identifying and would match everywhere.
  return strings([a.line1, a.line2, a.city, a.postalCode]);
}

/**
 * The patient's identifiers as this clinic stores them (RLS scope of `tx`), for redaction
 * before anything about the patient leaves the deployment. Unknown patient: no identifiers
 * (the general rules still apply). Clinicians' names are found by the rules (titles, roles).
 */
export async function loadKnownIdentifiers(tx: Tx, patientId: string): Promise<KnownIdentifiers> {
  const [row] = await tx<PatientRow[]>`
    select given_name, family_name, date_of_birth::text as date_of_birth, mrn, contact
    from medchr.patients where id = ${patientId}`;
  if (!row) return NO_KNOWN_IDENTIFIERS;
  const contact = (row.contact && typeof row.contact === "object" ? row.contact : {}) as Record<
    string,
    unknown
  >;
  return {
    names: [{ given: row.given_name, family: row.family_name }],
    dateOfBirth: row.date_of_birth ? String(row.date_of_birth).slice(0, 10) : null,
    mrn: row.mrn,
    phones: [...strings(contact.phone), ...strings(contact.phones)],
    emails: [...strings(contact.email), ...strings(contact.emails)],
    addresses: addressParts(contact.address),
    otherIds: [],
  };
}
