/**
 * Person and facility names without a list of names: found by the shapes that introduce them
 * in clinical documents (a label such as "Patient:" or "Ordering MD:", a title such as "Dr.",
 * a credential such as ", MD"), then every token of a name so found is removed wherever else it
 * appears ("Mr. Ashgrove" three paragraphs later). Facilities are capitalised phrases ending
 * in a facility noun ("... Hospital", "... Reference Laboratory").
 */
import type { PhiSpan } from "./phi-patterns";

/** One name token: Capitalised or UPPER, with inner apostrophes and hyphens; or an initial. */
const TOKEN = "(?:[A-Z][a-z]+(?:[A-Z][a-z]+)?(?:['’-][A-Z]?[a-z]+)*|[A-Z]{2,}(?:['’-][A-Z]+)*|[A-Z]\\.?)";
const TITLE = "(?:Dr|Doctor|Mr|Mrs|Ms|Miss|Mx|Prof|Professor|Sr|Sister|Nurse)\\.?";
const CREDENTIAL =
  "(?:MD|M\\.D\\.|DO|D\\.O\\.|RN|NP|PA-C|PA|MBBS|MBChB|FRCP|FRCS|MRCP|MRCGP|FRACP|PhD|DNP|APRN|FNP|CNM|DPM|DDS|PharmD|RD|LPN|CRNA|DC|OD)";
/** "FAMILY, Given M" or "Given M. Family" (2 to 4 tokens). One space apart: two or more
 * spaces separate columns ("ROSALIND I    DOB:"). */
const NAME = `(?:${TOKEN} ?, ?${TOKEN}(?: ${TOKEN}){0,2}|${TOKEN}(?: ${TOKEN}){1,3})`;

/** Role nouns that introduce a person; any one or two words may qualify them ("Submitting MD"). */
const PERSON_ROLES =
  "(?:md|do|physician|provider|doctor|clinician|nurse|practitioner|radiologist|pathologist|consultant|surgeon|pcp|gp|author|director|therapist|pharmacist|midwife|dietitian|resident|fellow|attending|technologist|sonographer|phlebotomist)";
const PERSON_LABELS = `(?:patient(?:\\s+name)?|pt(?:\\s+name)?|name|client|subject|(?:[a-z]+\\s+){0,2}${PERSON_ROLES}|(?:electronically\\s+)?signed(?:\\s+by)?|(?:dictated|transcribed|reviewed|verified|approved|reported|seen|interpreted|read|performed|collected|ordered|referred|authori[sz]ed|countersigned)\\s+by|cc|copy\\s+to|next\\s+of\\s+kin|emergency\\s+contact|guardian|parent|spouse|mother|father|contact)`;

/** Words that are never a person's name token even when capitalised in a name position. */
const NOT_NAME = new Set(
  [
    "the",
    "and",
    "of",
    "for",
    "with",
    "without",
    "report",
    "final",
    "status",
    "page",
    "date",
    "dob",
    "sex",
    "male",
    "female",
    "unknown",
    "patient",
    "name",
    "mrn",
    "phone",
    "address",
    "email",
    "fax",
    "tel",
    "ordering",
    "collected",
    "reported",
    "received",
    "result",
    "results",
    "test",
    "tests",
    "units",
    "range",
    "ref",
    "reference",
    "flag",
    "flags",
    "high",
    "low",
    "normal",
    "abnormal",
    "critical",
    "pending",
    "clinic",
    "hospital",
    "laboratory",
    "lab",
    "department",
    "medicine",
    "internal",
    "family",
    "history",
    "none",
    "known",
    "no",
    "yes",
    "n/a",
    "na",
    "see",
    "below",
    "above",
    "note",
    "notes",
    "plan",
    "assessment",
    "md",
    "do",
    "rn",
    "np",
    "pa",
    "dr",
    "mr",
    "mrs",
    "ms",
    "age",
    "years",
    "year",
    "old",
    "dear",
    "to",
    "from",
    "re",
    "subject",
    "signed",
    "electronically",
    "verified",
    "director",
    "physician",
    "provider",
  ].map((w) => w.toLowerCase()),
);

const FACILITY_NOUN =
  "(?:Hospital|Infirmary|Laborator(?:y|ies)|Labs?|Clinic|Clinics|Medical\\s+Cent(?:er|re)|Health\\s+Cent(?:er|re)|Health\\s+System|Health(?:care)?|Diagnostics|Imaging|Radiology|Pathology|Associates|Practice|Surgery|Medical\\s+Group|Family\\s+Medicine|Urgent\\s+Care|Pharmacy|Hospice|Care\\s+Home|Nursing\\s+Home|Sanatorium|Foundation\\s+Trust|Trust|Partners)";
const FACILITY_WORD = "(?:[A-Z][A-Za-z'’&.-]+|of|and|the|&|St\\.?)";

/** A pattern whose letters match either case, leaving escapes (\\s, \\d) alone. */
function anyCase(pattern: string): string {
  let out = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === "\\") {
      out += c + (pattern[i + 1] ?? "");
      i += 1;
    } else if (/[a-z]/i.test(c)) out += `[${c.toLowerCase()}${c.toUpperCase()}]`;
    else out += c;
  }
  return out;
}

export interface NameFindings {
  spans: PhiSpan[];
  /** Tokens of person names found, for removal wherever else they appear. */
  nameTokens: Set<string>;
}

function pushName(out: NameFindings, start: number, raw: string) {
  // Cut at the first word that is not a name ("WENDELL DOB", "Haldane Date"): the next field.
  let value = raw;
  for (const m of raw.matchAll(/[A-Za-z][A-Za-z'’.-]*/g)) {
    if (m.index > 0 && NOT_NAME.has(m[0].replace(/\.$/, "").toLowerCase())) {
      value = raw.slice(0, m.index).replace(/[\s,]+$/, "");
      break;
    }
  }
  const tokens = value
    .split(/[\s,]+/)
    .map((t) => t.replace(/\.$/, ""))
    .filter(Boolean);
  const real = tokens.filter((t) => !NOT_NAME.has(t.toLowerCase()));
  if (real.length === 0 || real.every((t) => t.length < 2)) return;
  out.spans.push({ start, end: start + value.length, type: "name" });
  for (const t of real) if (t.length >= 3) out.nameTokens.add(t.toLowerCase());
}

/** Trims a captured name at a second field on the same line ("ROSALIND I    DOB:"). */
function trimName(value: string): string {
  return value.split(/\s{2,}|\t|\s\|\s/)[0]!.replace(/[\s,]+$/, "");
}

export function findNameSpans(text: string): NameFindings {
  const out: NameFindings = { spans: [], nameTokens: new Set() };
  // Labelled: "PATIENT: TARRANT, ROSALIND I", "Ordering MD: Dr. Ines Calloway, MD".
  const labelled = new RegExp(
    `(?<![A-Za-z])${anyCase(PERSON_LABELS)}(?:[ \\t]*[:\\-–][ \\t]*|[ \\t]{2,}|\\t)((?:${TITLE} ?)?${NAME}(?:,? ${CREDENTIAL})?)`,
    "g",
  );
  for (const m of text.matchAll(labelled)) {
    const raw = trimName(m[1]!);
    const start = m.index + m[0].length - m[1]!.length;
    pushName(out, start, raw);
  }
  // A role in participle form with a colon: "Referring: HALDANE, NKECHI", "Submitting: ...".
  const participle = new RegExp(
    `(?<![A-Za-z])[A-Za-z]{3,}(?:ing|ING)[ \\t]*:[ \\t]*((?:${TITLE} ?)?${NAME})`,
    "g",
  );
  for (const m of text.matchAll(participle)) {
    pushName(out, m.index + m[0].length - m[1]!.length, trimName(m[1]!));
  }
  // A name introducing a birth date or an age: "Zofia Oyelaran (DOB ...", "Jo Smith, a 54-year-old".
  const beforeAge = new RegExp(
    `\\b(${TOKEN}(?: ${TOKEN}){1,3})(?=,? ?\\(?(?:DOB|D\\.O\\.B\\.?|[Dd]ate of [Bb]irth|born|b\\.|aged?\\b|a \\d{1,3}[- ]year|\\d{1,3}[- ]?(?:y\\/?o|yo|years? old)))`,
    "g",
  );
  for (const m of text.matchAll(beforeAge)) pushName(out, m.index, m[1]!);
  // Titles: "Dr. Haldane", "Mr. Ashgrove", "Dr Nkechi Haldane".
  for (const m of text.matchAll(new RegExp(`\\b${TITLE} ?(${TOKEN}(?: ${TOKEN}){0,2})`, "g"))) {
    pushName(out, m.index, trimName(m[0]));
  }
  // Credentials: "Yusuf Penhallow, MD", "Ines Calloway MD".
  for (const m of text.matchAll(new RegExp(`\\b(${TOKEN}(?: ${TOKEN}){1,3}),? ${CREDENTIAL}\\b`, "g"))) {
    pushName(out, m.index, m[1]!);
  }
  // Facilities.
  const facility = new RegExp(
    `\\b(?:[A-Z][A-Za-z'’&.-]+ )(?:${FACILITY_WORD} ){0,5}${FACILITY_NOUN}\\b|\\b(?:[A-Z][A-Z'’&.-]+ )(?:[A-Z][A-Z'’&.-]+ |OF |AND |& ){0,5}(?:HOSPITAL|INFIRMARY|LABORATORY|LABORATORIES|LABS?|CLINIC|MEDICAL\\s+CENT(?:ER|RE)|HEALTH(?:CARE)?|DIAGNOSTICS|IMAGING|RADIOLOGY|ASSOCIATES|PRACTICE|SURGERY|MEDICAL\\s+GROUP|PHARMACY)\\b`,
    "g",
  );
  for (const m of text.matchAll(facility)) {
    const words = m[0].split(/\s+/);
    // "CLINICAL LABORATORY", "Reference Laboratory" alone are kinds, not names: the first
    // word must not itself be generic.
    if (GENERIC_FACILITY_LEAD.has(words[0]!.toLowerCase()) && words.length <= 2) continue;
    out.spans.push({ start: m.index, end: m.index + m[0].length, type: "facility" });
  }
  return out;
}

const GENERIC_FACILITY_LEAD = new Set([
  "clinical",
  "reference",
  "the",
  "a",
  "our",
  "this",
  "your",
  "general",
  "main",
  "central",
  "medical",
  "outpatient",
  "inpatient",
  "community",
  "private",
  "local",
  "regional",
  "pathology",
  "radiology",
  "lab",
  "laboratory",
  "hospital",
  "department",
  "diagnostic",
  "primary",
  "family",
  "urgent",
  "specialist",
]);

/** Every standalone occurrence of a name token already found (whole word, any case). */
export function findNameTokenSpans(text: string, tokens: ReadonlySet<string>): PhiSpan[] {
  if (tokens.size === 0) return [];
  const escaped = [...tokens].map((t) => t.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  const re = new RegExp(`(?<![A-Za-z])(?:${escaped.join("|")})(?![A-Za-z])`, "gi");
  return [...text.matchAll(re)].map((m) => ({
    start: m.index,
    end: m.index + m[0].length,
    type: "name" as const,
  }));
}
