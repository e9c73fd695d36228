import { z } from "zod";

/**
 * Field rules shared by create, update and search. Error messages name the rule, never the
 * rejected value (it is PHI); the HTTP layer adds the field name.
 */

export const SEXES = ["female", "male", "other", "unknown"] as const;
export type Sex = (typeof SEXES)[number];

/** Column limits of medchr.patients (core_tables migration); the schemas refuse before the database does. */
export const PATIENT_LIMITS = {
  nameChars: 200,
  mrnChars: 64,
  notesChars: 20_000,
  /** Short free-text fields inside contact and lifestyle. */
  shortTextChars: 200,
  /** RFC 5321 4.5.3.1: 64-octet local part + "@" + 255-octet domain, as commonly capped. */
  emailChars: 320,
} as const;

/** Oldest date of birth accepted: anything earlier is a data-entry error in a living patient's record. */
export const MIN_DATE_OF_BIRTH = "1900-01-01";

// Single-line text: no control characters at all (they break displays, CSV exports and logs).
const SINGLE_LINE = /^[^\p{Cc}]*$/u;
// Notes keep line breaks and tabs; other control characters are refused.
// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
const MULTI_LINE = /^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]*$/;

/** Text as stored: trimmed, Unicode NFC (one spelling per name, so search finds it), bounded. */
const text = (max: number) =>
  z.string().trim().normalize("NFC").max(max).regex(SINGLE_LINE, "must not contain control characters");

export const PersonName = text(PATIENT_LIMITS.nameChars).min(1);

/**
 * Medical record numbers are assigned by the clinic's own system: letters and digits with
 * the usual separators, compared exactly (no case folding), unique per tenant.
 */
export const Mrn = z
  .string()
  .trim()
  .min(1)
  .max(PATIENT_LIMITS.mrnChars)
  .regex(/^[\p{L}\p{N}][\p{L}\p{N} ._/#-]*$/u, "must be letters, digits, spaces or . _ / # -");

/**
 * The latest calendar date anywhere on Earth right now (UTC+14, Line Islands): a baby born
 * today in any timezone is accepted, a date after that is in the future everywhere.
 */
function latestDateOnEarth(now: Date): string {
  return new Date(now.getTime() + 14 * 3_600_000).toISOString().slice(0, 10);
}

/** YYYY-MM-DD, a real calendar date (z.iso.date refuses 2023-02-29). */
export const CalendarDate = z.iso.date("must be a date as YYYY-MM-DD");

export const DateOfBirth = CalendarDate.refine((value) => value >= MIN_DATE_OF_BIRTH, {
  message: `must be on or after ${MIN_DATE_OF_BIRTH}`,
}).refine((value) => value <= latestDateOnEarth(new Date()), { message: "must not be in the future" });

export const Sex = z.enum(SEXES);

export const Address = z.strictObject({
  line1: text(PATIENT_LIMITS.shortTextChars).optional(),
  line2: text(PATIENT_LIMITS.shortTextChars).optional(),
  city: text(PATIENT_LIMITS.shortTextChars).optional(),
  region: text(PATIENT_LIMITS.shortTextChars).optional(),
  postalCode: text(32).optional(),
  /** ISO 3166-1 alpha-2, so reports and partner systems agree on the country. */
  country: z
    .string()
    .trim()
    .toUpperCase()
    .regex(/^[A-Z]{2}$/, "must be an ISO 3166-1 alpha-2 code")
    .optional(),
});

export const Contact = z.strictObject({
  /** Digits with the usual punctuation and an optional extension; E.164 allows at most 15 digits. */
  phone: z
    .string()
    .trim()
    .max(40)
    .regex(/^\+?[0-9][0-9 ().-]{2,30}(?:\s*(?:x|ext\.?)\s*[0-9]{1,6})?$/i, "must be a phone number")
    .optional(),
  email: z
    .string()
    .trim()
    .max(PATIENT_LIMITS.emailChars)
    .pipe(z.email("must be an email address"))
    .optional(),
  address: Address.optional(),
});
export type Contact = z.output<typeof Contact>;

export const SMOKING = ["never", "former", "current", "unknown"] as const;
export const ALCOHOL = ["none", "occasional", "moderate", "heavy", "unknown"] as const;
export const EXERCISE = ["none", "light", "moderate", "vigorous", "unknown"] as const;

/**
 * Lifestyle is a small, closed set of keys (strict: an unknown key is refused, so a typo
 * is not stored silently). Status-like answers are enums so they can be counted and
 * charted; diet and occupation are short free text.
 */
export const Lifestyle = z.strictObject({
  smoking: z.enum(SMOKING).optional(),
  alcohol: z.enum(ALCOHOL).optional(),
  exercise: z.enum(EXERCISE).optional(),
  diet: text(PATIENT_LIMITS.shortTextChars).optional(),
  occupation: text(PATIENT_LIMITS.shortTextChars).optional(),
});
export type Lifestyle = z.output<typeof Lifestyle>;

export const Notes = z
  .string()
  .normalize("NFC")
  .max(PATIENT_LIMITS.notesChars)
  .regex(MULTI_LINE, "must not contain control characters other than line breaks and tabs");
