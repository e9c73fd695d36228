/**
 * General pattern rules for HIPAA Safe Harbor identifiers (45 CFR 164.514(b)(2)(i)) as they
 * are printed in clinical documents. Each rule finds spans; create-redaction-session.ts
 * resolves overlaps and replaces them. Nothing here knows any particular document: rules are
 * built from formats (dates, phone numbers, postcodes), labels ("MRN:", "Ordering MD:") and
 * word shapes (a capitalised name after a title), never from names or templates seen.
 */
import type { PhiType } from "./redaction";

export interface PhiSpan {
  start: number;
  end: number;
  type: PhiType;
}

const MONTHS =
  "(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|jun(?:e)?|jul(?:y)?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)";
const DAY = "(?:0?[1-9]|[12]\\d|3[01])";
const MONTH_NUM = "(?:0?[1-9]|1[0-2])";
const YEAR = "(?:19|20)\\d{2}";

/** Full dates (all elements of a date except the year are identifiers). */
const DATE_PATTERNS: RegExp[] = [
  // 2024-03-05, 2024/03/05, 20240305 is left alone (too close to other numbers)
  new RegExp(`\\b${YEAR}[-/.](?:0?[1-9]|1[0-2])[-/.]${DAY}\\b`, "g"),
  // 03/05/2024, 3-5-24, 05.03.2024 (US or day-first, both are dates)
  new RegExp(
    `(?<![\\d./-])(?:${DAY}|${MONTH_NUM})[/.-](?:${DAY}|${MONTH_NUM})[/.-](?:${YEAR}|\\d{2})(?![\\d/-])`,
    "g",
  ),
  // 5 Mar 2024, 5th March 2024, 05-MAR-2024, 5 March, 2024
  new RegExp(`\\b${DAY}(?:st|nd|rd|th)?[\\s-]+${MONTHS}\\.?,?[\\s-]+(?:${YEAR}|'?\\d{2})\\b`, "gi"),
  // March 5, 2024, Mar. 5 2024, March 5th, 2024
  new RegExp(`\\b${MONTHS}\\.?\\s+${DAY}(?:st|nd|rd|th)?,?\\s+${YEAR}\\b`, "gi"),
  // March 2024 (month and year are date elements too)
  new RegExp(`\\b${MONTHS}\\.?\\s+${YEAR}\\b`, "gi"),
];

const EMAIL = /\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b/g;
const URL = /\b(?:https?:\/\/|www\.)[^\s<>"')]+/gi;
const IPV4 = /\b(?:25[0-5]|2[0-4]\d|1?\d?\d)(?:\.(?:25[0-5]|2[0-4]\d|1?\d?\d)){3}\b/g;
const IPV6 = /\b(?:[0-9a-f]{1,4}:){4,7}[0-9a-f]{1,4}\b/gi;
const SSN = /\b\d{3}-\d{2}-\d{4}\b/g;
/** NHS number (3-3-4) and similar spaced national ids: checked before phone numbers. */
const NATIONAL_ID = /\b\d{3} \d{3} \d{4}\b/g;
/** North American and international phone numbers, with extensions. */
const PHONE =
  /(?<![\w.])(?:\+\d{1,3}[\s.-]?)?(?:\(\d{2,5}\)\s?|\d{2,5}[\s.-])\d{3,4}[\s.-]\d{3,4}(?:\s*(?:ext\.?|x)\s*\d{1,5})?(?![\w.])/gi;
/** USPS state and territory codes: "OH 43085" is a ZIP line, "LT 26400" is not. */
const STATES =
  "(?:A[KLRZS]|C[AOT]|D[CE]|FL|G[AU]|HI|I[ADLN]|K[SY]|LA|M[ADEINOPST]|N[CDEHJMVY]|O[HKR]|P[AR]|RI|S[CD]|T[NX]|UT|V[AIT]|W[AIVY])";
const US_ZIP_LINE = new RegExp(`\\b[A-Z][a-zA-Z.' -]{1,40},\\s*${STATES}\\s+\\d{5}(?:-\\d{4})?\\b`, "g");
const US_ZIP = new RegExp(`\\b${STATES}\\s+\\d{5}(?:-\\d{4})?\\b`, "g");
const UK_POSTCODE = /\b[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}\b/g;
const CA_POSTCODE = /\b[ABCEGHJ-NPRSTVXY]\d[ABCEGHJ-NPRSTV-Z]\s?\d[ABCEGHJ-NPRSTV-Z]\d\b/g;
const STREET_SUFFIX =
  "(?:street|st|road|rd|avenue|ave|lane|ln|drive|dr|court|ct|boulevard|blvd|way|place|pl|path|crossing|terrace|ter|circle|cir|close|crescent|cres|green|row|square|sq|highway|hwy|parkway|pkwy|trail|trl|walk|mews|grove|gardens|hill|park|loop|run|pike|alley|plaza|point|ridge|view)";
const STREET = new RegExp(
  `\\b\\d{1,6}[A-Za-z]?\\s+(?:[A-Z][A-Za-z'.-]*\\s+){0,4}${STREET_SUFFIX}\\.?(?:,?\\s+(?:apt|apartment|unit|suite|ste|flat|#)\\.?\\s*[A-Za-z0-9-]+)?\\b`,
  "gi",
);
const PO_BOX = /\bP\.?\s?O\.?\s+Box\s+\d+\b/gi;

/** A labelled identifier: the label names it, the value is a code with digits. */
const ID_LABELS: { type: PhiType; label: string }[] = [
  {
    type: "mrn",
    label:
      "(?:mrn|mr\\s*#|mr\\s*no\\.?|medical\\s+record(?:\\s+(?:number|no\\.?|#))?|chart\\s*(?:#|no\\.?|number)|hospital\\s+(?:no\\.?|number)|patient\\s+id|pt\\s+id|unit\\s+(?:no\\.?|number))",
  },
  {
    type: "ssn",
    label:
      "(?:ssn|social\\s+security(?:\\s+(?:number|no\\.?))?|sin|nhs\\s+(?:no\\.?|number)|national\\s+id|nino|medicare\\s+(?:no\\.?|number))",
  },
  {
    type: "member_number",
    label:
      "(?:member\\s*(?:id|#|no\\.?|number)?|subscriber\\s*(?:id|#|no\\.?)|policy\\s*(?:id|#|no\\.?|number)?|group\\s*(?:id|#|no\\.?|number)|insurance\\s*(?:id|#|no\\.?|number)|plan\\s+id|health\\s+plan\\s+(?:id|no\\.?))",
  },
  {
    type: "account_number",
    label:
      "(?:account|acct|acc|billing|claim|invoice|encounter|visit|accession|specimen|requisition|req|order|case|lab)\\s*(?:id|#|no\\.?|number)",
  },
  {
    type: "id_number",
    label:
      "(?:licen[cs]e\\s*(?:#|no\\.?|number)?|dea\\s*(?:#|no\\.?)?|npi|passport\\s*(?:#|no\\.?)?|device\\s+(?:id|serial)|serial\\s*(?:#|no\\.?|number))",
  },
];
const ID_VALUE = "([A-Z0-9][A-Z0-9 ./-]{1,30}[A-Z0-9]|[A-Z0-9]{2,})";

/** A label followed by a value; the value may be on the same line only. */
function labelled(text: string, label: string, value: string, type: PhiType, out: PhiSpan[]) {
  const re = new RegExp(`(?<![A-Za-z])${label}\\s*[:#.]?\\s*${value}`, "gi");
  for (const m of text.matchAll(re)) {
    const v = m[1]!;
    // A labelled id needs at least two digits: "MRN: pending" is not one.
    if (type !== "name" && (v.match(/\d/g)?.length ?? 0) < 2) continue;
    const trimmed = v.replace(/[\s./-]+$/, "").split(/\s{2,}/)[0]!;
    const start = m.index + m[0].length - v.length;
    out.push({ start, end: start + trimmed.length, type });
  }
}

function all(text: string, re: RegExp, type: PhiType, out: PhiSpan[]) {
  for (const m of text.matchAll(re)) out.push({ start: m.index, end: m.index + m[0].length, type });
}

/** Unlabelled record, member and account codes: letters and at least four digits, or long digit runs. */
const CODE_LIKE =
  /(?<![\w.-])(?=[A-Z0-9-]*\d[A-Z0-9-]*\d[A-Z0-9-]*\d[A-Z0-9-]*\d)(?:[A-Z]{1,6}-?\d[\dA-Z-]{4,}[A-Z0-9]|\d{2,}[A-Z][A-Z0-9-]{3,}|[A-Z0-9]{2,5}-[A-Z0-9]{2,5}-[A-Z0-9]{2,6}|\d{7,})(?![\w.-])/g;
/** Codes that are clinical, not identifiers: LOINC, ICD-10, CPT with modifier, SNOMED-length ids kept. */
const CLINICAL_CODE = /^(?:\d{1,7}-\d|[A-TV-Z]\d[0-9A-Z](?:\.[0-9A-Z]{1,4})?|\d{5}-\d{2}|\d{4,5}-\d)$/;

export function findPatternSpans(text: string): PhiSpan[] {
  const out: PhiSpan[] = [];
  all(text, EMAIL, "email", out);
  all(text, URL, "url", out);
  all(text, IPV4, "ip", out);
  all(text, IPV6, "ip", out);
  all(text, SSN, "ssn", out);
  all(text, NATIONAL_ID, "id_number", out);
  for (const re of DATE_PATTERNS) all(text, re, "date", out);
  for (const m of text.matchAll(PHONE)) {
    const digits = m[0].replace(/\D/g, "").length;
    if (digits < 9 || digits > 15) continue;
    const before = text.slice(Math.max(0, m.index - 12), m.index).toLowerCase();
    out.push({
      start: m.index,
      end: m.index + m[0].length,
      type: /fax|\bf[:.]\s*$/.test(before) ? "fax" : "phone",
    });
  }
  all(text, STREET, "address", out);
  all(text, PO_BOX, "address", out);
  all(text, US_ZIP_LINE, "address", out);
  all(text, US_ZIP, "zip", out);
  all(text, UK_POSTCODE, "zip", out);
  all(text, CA_POSTCODE, "zip", out);
  for (const { type, label } of ID_LABELS) labelled(text, label, ID_VALUE, type, out);
  for (const m of text.matchAll(CODE_LIKE)) {
    if (CLINICAL_CODE.test(m[0])) continue;
    out.push({ start: m.index, end: m.index + m[0].length, type: "id_number" });
  }
  return out;
}
