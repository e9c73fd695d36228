/**
 * The contract of PHI redaction (HIPAA Safe Harbor, 45 CFR 164.514(b)(2)): what the gateway asks
 * of the redactor before text leaves the deployment. The implementation combines the patient's
 * own identifiers from the database (`KnownIdentifiers`) with general pattern rules; it is never
 * keyed to particular documents.
 *
 * Placeholders are typed and stable within one `RedactionSession` (`[NAME_1]` is the same person
 * in every page, chunk and record text of one gateway call), so a model can still say "NAME_1's
 * LDL rose" and the answer can be shown with the real values (`restore`) where appropriate.
 */

/** Identifier types as counted on egress events and scored by the corpus (`score.mjs --phi`). */
export const PHI_TYPES = [
  "name",
  "date",
  "mrn",
  "phone",
  "fax",
  "email",
  "ssn",
  "id_number",
  "member_number",
  "account_number",
  "address",
  "zip",
  "url",
  "ip",
  // Not one of the 18 Safe Harbor categories by name, but a facility in a small town narrows a
  // patient down as much as a city does ("geographic subdivisions"), so it is removed too.
  "facility",
] as const;
export type PhiType = (typeof PHI_TYPES)[number];

/** What the database knows about the patient (and their clinicians), in any printed form. */
export interface KnownIdentifiers {
  /** Full names as stored ("Given Family"); the redactor derives printed forms (FAMILY, Given; G. Family; initials). */
  names: readonly { given: string; family: string }[];
  dateOfBirth: string | null;
  mrn: string | null;
  phones: readonly string[];
  emails: readonly string[];
  /** Street address lines, city and postcode as stored. */
  addresses: readonly string[];
  /** Any other identifiers stored for the patient (member, account, national id numbers). */
  otherIds: readonly string[];
}

export const NO_KNOWN_IDENTIFIERS: KnownIdentifiers = {
  names: [],
  dateOfBirth: null,
  mrn: null,
  phones: [],
  emails: [],
  addresses: [],
  otherIds: [],
};

export interface RedactedText {
  text: string;
  /** Identifiers removed from this text, by type. */
  removed: Partial<Record<PhiType, number>>;
}

export interface RedactionSession {
  /** Replaces every identifier found with its stable typed placeholder. */
  redact(text: string): RedactedText;
  /** Puts the real values back (for display to the clinic only; never logged or stored as egress). */
  restore(text: string): string;
  /** Total identifiers removed by every `redact` call of this session. */
  readonly removedCount: number;
}
