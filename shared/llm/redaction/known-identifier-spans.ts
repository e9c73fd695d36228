/**
 * The patient's own identifiers, as the database holds them, found in every printed form:
 * names in their orders and cases ("Given Family", "FAMILY, GIVEN", "G. Family"), the date of
 * birth in every common format, the MRN with or without separators, phone numbers by their
 * digits, e-mails and address lines as stored. These catch what the general rules cannot
 * (an unlabelled name in running text, a date of birth in an odd format).
 */
import type { PhiSpan } from "./phi-patterns";
import type { KnownIdentifiers } from "./redaction";

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
/** Whitespace in a value matches any whitespace run; letters match either case. */
const flexible = (s: string) => escapeRegExp(s.trim()).replace(/\s+/g, "\\s+");

const MONTH_NAMES = [
  "January",
  "February",
  "March",
  "April",
  "May",
  "June",
  "July",
  "August",
  "September",
  "October",
  "November",
  "December",
];

export function dateForms(iso: string): string[] {
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(iso);
  if (!m) return [];
  const [, y, mo, d] = m;
  const mi = Number(mo);
  const di = Number(d);
  const month = MONTH_NAMES[mi - 1]!;
  const short = month.slice(0, 3);
  const yy = y!.slice(2);
  return [
    `${y}-${mo}-${d}`,
    `${y}/${mo}/${d}`,
    `${mo}/${d}/${y}`,
    `${mi}/${di}/${y}`,
    `${d}/${mo}/${y}`,
    `${di}/${mi}/${y}`,
    `${mo}-${d}-${y}`,
    `${d}-${mo}-${y}`,
    `${d}.${mo}.${y}`,
    `${mo}/${d}/${yy}`,
    `${d}/${mo}/${yy}`,
    `${di} ${month} ${y}`,
    `${di} ${short} ${y}`,
    `${d}-${short}-${y}`,
    `${month} ${di}, ${y}`,
    `${short} ${di}, ${y}`,
    `${short}. ${di}, ${y}`,
  ];
}

function nameForms(given: string, family: string): string[] {
  const g = given.trim();
  const f = family.trim();
  const initial = g[0] ?? "";
  return [
    `${g} ${f}`,
    `${f}, ${g}`,
    `${f} ${g}`,
    `${initial}. ${f}`,
    `${initial} ${f}`,
    `${f}, ${initial}.`,
    `${f}, ${initial}`,
  ];
}

function find(text: string, pattern: string, type: PhiSpan["type"], out: PhiSpan[]) {
  if (!pattern) return;
  const re = new RegExp(`(?<![A-Za-z0-9])(?:${pattern})(?![A-Za-z0-9])`, "gi");
  for (const m of text.matchAll(re)) out.push({ start: m.index, end: m.index + m[0].length, type });
}

export function findKnownIdentifierSpans(
  text: string,
  known: KnownIdentifiers,
): { spans: PhiSpan[]; nameTokens: string[] } {
  const out: PhiSpan[] = [];
  const nameTokens: string[] = [];
  for (const n of known.names) {
    for (const form of nameForms(n.given, n.family)) find(text, flexible(form), "name", out);
    for (const token of `${n.given} ${n.family}`.split(/[\s-]+/))
      if (token.length >= 2) nameTokens.push(token.toLowerCase());
  }
  if (known.dateOfBirth) find(text, dateForms(known.dateOfBirth).map(escapeRegExp).join("|"), "date", out);
  if (known.mrn) {
    const chars = known.mrn.replace(/[^A-Za-z0-9]/g, "").split("");
    // Any separators between the characters: "QV-0029-5508", "QV00295508", "QV 0029 5508".
    find(text, chars.map(escapeRegExp).join("[\\s./-]?"), "mrn", out);
  }
  for (const phone of known.phones) {
    const digits = phone.replace(/\D/g, "");
    const local = digits.length > 10 ? digits.slice(-10) : digits;
    if (local.length >= 7) find(text, local.split("").join("[\\s().+-]{0,3}"), "phone", out);
  }
  for (const email of known.emails) find(text, flexible(email), "email", out);
  for (const line of known.addresses) {
    for (const part of line.split(/\s*,\s*/))
      if (part.length >= 4) find(text, flexible(part), "address", out);
  }
  for (const id of known.otherIds) {
    const chars = id.replace(/[^A-Za-z0-9]/g, "").split("");
    if (chars.length >= 4) find(text, chars.map(escapeRegExp).join("[\\s./-]?"), "id_number", out);
  }
  return { spans: out, nameTokens };
}
