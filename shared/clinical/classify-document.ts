/**
 * Document type, service date and facility from the document text. Type evidence: report titles
 * (a broad vocabulary, terminology/document-titles.ts) count most; then the document's structure,
 * which does not depend on wording: the sections it has (a hospital course, gross and
 * microscopic descriptions, findings and impression, a visit's history and plan, a letter's
 * salutation) and how much of it is result rows; then keywords. The service date follows the
 * type-specific convention (collection date for labs, visit date for notes, discharge date, exam
 * date, report date).
 */
import { type DocLine, type SectionKind, segmentDocument } from "./document-lines";
import { type DateOrder, detectDateOrder, findDates } from "./parse-clinical-date";
import { parseLabRow } from "./parse-lab-row";
import type { DocumentClassification, DocumentType } from "./schema";
import { DOCUMENT_TITLES } from "./terminology/document-titles";

interface Evidence {
  readonly re: RegExp;
  readonly weight: number;
}

const TYPE_EVIDENCE: Readonly<Record<Exclude<DocumentType, "other">, readonly Evidence[]>> = {
  lab_report: [
    { re: /\b(?:laboratory|lab) (?:report|results?)\b/i, weight: 6 },
    { re: /\bclinical laboratory\b/i, weight: 3 },
    { re: /\bcollected\b|\bcollection (?:date|time)\b|\bdate collected\b/i, weight: 3 },
    { re: /\breference (?:range|interval)\b|\bref\.? range\b/i, weight: 3 },
    { re: /\bresult\s+(?:flag\s+)?units?\b/i, weight: 3 },
    { re: /\blab(?:oratory)? director\b/i, weight: 2 },
    { re: /\bspecimen\b.*\b(?:serum|plasma|blood|urine)\b/i, weight: 2 },
  ],
  clinic_note: [
    {
      re: /\b(?:office|clinic|outpatient|follow-?up|same-?day|new patient|primary care|telehealth|annual|wellness) visit\b/i,
      weight: 6,
    },
    { re: /\bclinic note\b|\bprogress note\b|\boffice note\b|\bconsultation note\b/i, weight: 6 },
    { re: /\bchief complaint\b|\breason for visit\b/i, weight: 3 },
    { re: /\bhistory of present illness\b|\bHPI\b/, weight: 3 },
    { re: /\bassessment (?:and|&|\/) plan\b/i, weight: 3 },
    { re: /\b(?:visit date|date of service)\b/i, weight: 3 },
    { re: /\breview of systems\b|\bphysical exam/i, weight: 2 },
  ],
  discharge_summary: [
    { re: /\bdischarge summary\b/i, weight: 8 },
    { re: /\bhospital course\b/i, weight: 4 },
    { re: /\bdischarge (?:diagnos[ie]s|medications|instructions|vitals)\b/i, weight: 3 },
    { re: /\badmitted\b.*\bdischarged\b|\bdate of (?:admission|discharge)\b/i, weight: 3 },
  ],
  imaging_report: [
    { re: /\b(?:radiology|imaging|diagnostic imaging|ultrasound|ct|mri) report\b/i, weight: 8 },
    { re: /\bexam(?:ination)? date\b|\bEXAM:/i, weight: 3 },
    { re: /\bimpression\b/i, weight: 2 },
    { re: /\bfindings\b/i, weight: 2 },
    { re: /\b(?:technique|comparison)\b/i, weight: 2 },
    { re: /\b(?:XR|CT|MRI|MR|ultrasound|US|mammogra\w*|radiograph|x-ray)\b/i, weight: 1 },
    { re: /\binterpreted by\b|\bradiologist\b|\bdictated by\b/i, weight: 2 },
  ],
  pathology_report: [
    { re: /\b(?:surgical )?pathology (?:report|consultation)\b|\bcytopathology\b/i, weight: 8 },
    { re: /\bgross description\b/i, weight: 4 },
    { re: /\bmicroscopic description\b/i, weight: 4 },
    { re: /\bfinal (?:pathologic )?diagnosis\b/i, weight: 2 },
    { re: /\bpathologist\b/i, weight: 2 },
  ],
};

/** Labels that introduce the service date, per type, in order of preference. */
const DATE_LABELS: Readonly<Record<DocumentType, readonly RegExp[]>> = {
  lab_report: [
    // The sample's date, however the laboratory words it: "Collected", "Sample taken", "Date
    // drawn", "Specimen date", "Venepuncture".
    /\b(?:collected|collection(?: date| time)?|date (?:collected|of collection|taken|drawn|sampled|of sample|of specimen)|(?:specimen|sample) (?:collected|taken|date|drawn|obtained)|drawn|taken|sampled|venepuncture)\b/i,
    /\b(?:received)\b/i,
    /\breported\b/i,
  ],
  clinic_note: [
    /\b(?:visit date|date of service|date of visit|DOS|encounter date|service date|seen on)\b/i,
    // "Date of clinic", "Appointment date", "Date seen", "Consultation date", "Clinic date".
    /\b(?:date of (?:clinic|consultation|appointment|attendance|review|encounter)|(?:clinic|consultation|appointment|attendance|review) date|date seen|seen in clinic on)\b/i,
    /\bsigned\b/i,
  ],
  discharge_summary: [/\b(?:discharged|discharge date|date of discharge)\b/i, /\bsigned\b/i],
  imaging_report: [
    /\b(?:exam date|date of exam|study date|exam(?:ination)? performed|date of service)\b/i,
    /\bsigned\b/i,
  ],
  pathology_report: [
    /\b(?:reported|report date|date reported|signed out|final report)\b/i,
    /\b(?:received|collected)\b/i,
  ],
  other: [/\b(?:date of service|date|visit date|collected|reported)\b/i],
};

const FACILITY_RE =
  /\b(?:hospital|clinic|laborator(?:y|ies)|medical|medicine|health|healthcare|center|centre|associates|group|pathology|radiology|imaging|lab|labs|practice|partners|institute|infirmary|physicians|surgery|diagnostics|care|cardiology|oncology|pediatrics|dermatology|services|university)\b/i;

/** Histology: what makes a "pathology" document a pathology report rather than blood results. */
const HISTOLOGY_RE =
  /\b(?:gross description|microscopic|macroscopic|histolog\w*|cytolog\w*|biops(?:y|ies)|resection|excision|specimen (?:type|source|site)|margins?|immunohistochem\w*|frozen section)\b/i;

const TITLE_RES = Object.fromEntries(
  Object.entries(DOCUMENT_TITLES).map(([type, titles]) => [
    type,
    new RegExp(
      `\\b(?:${titles.map((t) => t.replace(/[.*+?^${}()|[\]\\]/g, "\\$&").replace(/ /g, "[\\s-]+")).join("|")})\\b`,
      "i",
    ),
  ]),
) as Record<Exclude<DocumentType, "other">, RegExp>;

/** Sections that are evidence of a type, with their weight. */
const SECTION_EVIDENCE: ReadonlyArray<readonly [SectionKind, Exclude<DocumentType, "other">, number]> = [
  ["hospital_course", "discharge_summary", 5],
  ["pathology_diagnosis", "pathology_report", 3],
  ["pathology_detail", "pathology_report", 3],
  ["findings", "imaging_report", 2],
  ["impression", "imaging_report", 1],
  ["chief_complaint", "clinic_note", 2],
  ["hpi", "clinic_note", 2],
  ["assessment_plan", "clinic_note", 2],
  ["exam", "clinic_note", 1],
  ["ros", "clinic_note", 1],
  ["plan", "clinic_note", 1],
];

/** Weights from the document's structure: its sections and its share of result rows. */
function structureEvidence(lines: readonly DocLine[], text: string): Record<string, number> {
  const scores: Record<string, number> = {};
  const add = (type: string, w: number) => {
    scores[type] = (scores[type] ?? 0) + w;
  };
  const kinds = new Set(lines.filter((l) => l.isSectionHeader).map((l) => l.section));
  for (const [kind, type, weight] of SECTION_EVIDENCE) if (kinds.has(kind)) add(type, weight);
  // A letter (a salutation, a sign-off) from a clinic is a clinic note unless it says otherwise.
  if (/^\s*dear\b/im.test(text)) add("clinic_note", 3);
  // Result rows: a lab report is mostly rows with a value and a unit or a reference range.
  const content = lines.filter((l) => l.text.trim().length > 0);
  let rows = 0;
  for (const line of content) {
    // Counted as printed (no OCR glyph repairs): evidence, not extraction.
    const row = parseLabRow(line.text, { ocr: false, allowMultipleValues: true });
    if (row && (row.unit || row.range)) rows++;
  }
  if (content.length > 0) {
    const share = rows / content.length;
    if (rows >= 3 && share >= 0.2) add("lab_report", share >= 0.35 ? 8 : 5);
  }
  return scores;
}

/**
 * `known`: what the caller already worked out from the same pages (extractClinicalFacts segments
 * them and reads their date order anyway), so it is not done twice.
 */
export function classifyDocument(
  pages: readonly { text: string }[],
  known: { lines?: readonly DocLine[]; dateOrder?: DateOrder | null } = {},
): DocumentClassification {
  const text = pages.map((p) => p.text).join("\n");
  const head = text.split("\n").slice(0, 12).join("\n");
  const lines =
    known.lines ??
    segmentDocument(
      pages.map((p, i) => ({ pageNumber: i + 1, text: p.text, source: "text_layer" as const })),
    );
  const scores: Record<string, number> = structureEvidence(lines, text);
  const histology = HISTOLOGY_RE.test(text);
  for (const [type, evidence] of Object.entries(TYPE_EVIDENCE)) {
    let s = scores[type] ?? 0;
    for (const e of evidence) {
      if (e.re.test(text)) s += e.weight;
      // A title near the top of the first page is the strongest signal.
      if (e.weight >= 6 && e.re.test(head)) s += e.weight;
    }
    if (TITLE_RES[type as Exclude<DocumentType, "other">].test(head)) s += 8;
    // "Pathology" alone names the service (UK blood tests come from pathology departments).
    if (type === "pathology_report" && !histology) s = Math.min(s, 3);
    scores[type] = s;
  }
  let total = 0;
  for (const s of Object.values(scores)) total += s;
  let type: DocumentType = "other";
  let best = 0;
  for (const [t, s] of Object.entries(scores)) {
    if (s > best) {
      best = s;
      type = t as DocumentType;
    }
  }
  if (best < 4) type = "other";
  const confidence = type === "other" ? (total === 0 ? 0.5 : 0.3) : Math.min(0.99, best / Math.max(total, 1));
  return {
    document_type: type,
    service_date: findServiceDate(
      text,
      type,
      known.dateOrder !== undefined ? known.dateOrder : detectDateOrder(text),
    ),
    facility: findFacility(text),
    confidence: Math.round(confidence * 100) / 100,
  };
}

function findServiceDate(text: string, type: DocumentType, order: DateOrder | null): string | null {
  const lines = text.split("\n");
  for (const label of DATE_LABELS[type]) {
    for (const line of lines) {
      const m = label.exec(line);
      if (!m) continue;
      const after = line.slice(m.index + m[0].length, m.index + m[0].length + 60);
      const date = findDates(after, order)[0];
      if (date && date.start < 40) return date.iso;
    }
  }
  // Fall back to the first date that is not a date of birth.
  for (const line of lines) {
    for (const d of findDates(line, order)) {
      const before = line.slice(Math.max(0, d.start - 25), d.start);
      if (/\b(?:DOB|birth|born)\b/i.test(before)) continue;
      return d.iso;
    }
  }
  return null;
}

function findFacility(text: string): string | null {
  const lines = text
    .split("\n")
    .map((l) => l.replace(/^[\s=\-_*~:;.,'"`|]+|[\s=\-_*~:;.,'"`|]+$/g, ""))
    .filter((l) => /[A-Za-z]{3,}/.test(l))
    .slice(0, 8);
  for (const line of lines) {
    // Facility names are short and carry no digits (street addresses and phones do).
    const name = line.split(/\s{2,}/)[0] ?? line;
    if (name.length <= 80 && !/\d/.test(name) && FACILITY_RE.test(name) && !/\breport\b/i.test(name))
      return name.trim();
  }
  return null;
}
