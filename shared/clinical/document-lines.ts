import { findConceptMentions } from "./clinical-lexicon";
import { ALLERGEN_NAMES } from "./terminology/allergens";
import { BRAND_TO_GENERIC, GENERIC_DRUGS } from "./terminology/drugs";
import {
  type HeadWord,
  PAST_HISTORY_MODIFIERS,
  SECTION_HEAD_WORDS,
  SECTION_MODIFIERS,
} from "./terminology/section-vocabulary";

/**
 * Line and section model shared by the extractors. Every line keeps its page number and character
 * offsets into that page's text so that each extracted fact can cite exactly where it was read.
 */
export interface PageText {
  readonly pageNumber: number;
  readonly text: string;
  readonly source: "text_layer" | "ocr";
  /** Tesseract's mean word confidence (0-100) for OCR pages, when known. */
  readonly ocrConfidence?: number | null;
}

export type SectionKind =
  | "header"
  | "chief_complaint"
  | "hpi"
  | "indication"
  | "problems"
  | "pmh"
  | "medications"
  | "allergies"
  | "vitals"
  | "ros"
  | "exam"
  | "findings"
  | "impression"
  | "assessment_plan"
  | "plan"
  | "family_history"
  | "social_history"
  | "hospital_course"
  | "pathology_diagnosis"
  | "pathology_detail"
  | "results"
  | "other";

export interface DocLine {
  readonly page: number;
  /** Offset of the first character of `text` in the page text. */
  readonly start: number;
  readonly text: string;
  readonly source: "text_layer" | "ocr";
  section: SectionKind;
  /** True for the line that introduced the section (its own text may carry inline content). */
  isSectionHeader: boolean;
  /** For header lines with inline content ("ALLERGIES: NKDA"), where that content starts in `text`. */
  inlineContentAt: number;
}

/** Header wording -> section kind. Keys are lower case with single spaces. */
const SECTION_HEADERS: ReadonlyArray<readonly [string, SectionKind]> = [
  ["chief complaint", "chief_complaint"],
  ["chief complaints", "chief_complaint"],
  ["cc", "chief_complaint"],
  ["reason for visit", "chief_complaint"],
  ["reason for referral", "chief_complaint"],
  ["presenting complaint", "chief_complaint"],
  ["reason for consultation", "chief_complaint"],
  ["reason for consult", "chief_complaint"],
  ["visit reason", "chief_complaint"],
  ["history of present illness", "hpi"],
  ["hpi", "hpi"],
  ["history of presenting illness", "hpi"],
  ["interval history", "hpi"],
  ["subjective", "hpi"],
  ["present illness", "hpi"],
  ["history", "hpi"],
  ["clinical indication", "indication"],
  ["indication", "indication"],
  ["indications", "indication"],
  ["clinical history", "indication"],
  ["reason for exam", "indication"],
  ["reason for examination", "indication"],
  ["clinical information", "indication"],
  ["clinical data", "indication"],
  ["history/indication", "indication"],
  ["clinical notes", "indication"],
  ["problem list", "problems"],
  ["problems", "problems"],
  ["active problems", "problems"],
  ["active problem list", "problems"],
  ["diagnoses", "problems"],
  ["diagnosis", "problems"],
  ["discharge diagnoses", "problems"],
  ["discharge diagnosis", "problems"],
  ["admission diagnosis", "problems"],
  ["admission diagnoses", "problems"],
  ["admitting diagnosis", "problems"],
  ["principal diagnosis", "problems"],
  ["secondary diagnoses", "problems"],
  ["primary diagnosis", "problems"],
  ["visit diagnoses", "problems"],
  ["encounter diagnoses", "problems"],
  ["diagnoses this visit", "problems"],
  ["assessment", "assessment_plan"],
  ["past medical history", "pmh"],
  ["pmh", "pmh"],
  ["medical history", "pmh"],
  ["past history", "pmh"],
  ["chronic problems", "problems"],
  ["past medical/surgical history", "pmh"],
  ["medications", "medications"],
  ["medication", "medications"],
  ["current medications", "medications"],
  ["discharge medications", "medications"],
  ["home medications", "medications"],
  ["medication list", "medications"],
  ["active medications", "medications"],
  ["outpatient medications", "medications"],
  ["meds", "medications"],
  ["current meds", "medications"],
  ["medications on discharge", "medications"],
  ["discharge medication list", "medications"],
  ["current outpatient medications", "medications"],
  ["medications prior to admission", "medications"],
  ["home medication list", "medications"],
  ["admission medications", "medications"],
  ["outpatient medication list", "medications"],
  // Lists of drugs that were stopped or held are not current medications.
  ["stopped medications", "other"],
  ["discontinued medications", "other"],
  ["medications stopped", "other"],
  ["medications discontinued", "other"],
  ["held medications", "other"],
  ["medications to stop", "other"],
  ["allergies/adverse reactions", "allergies"],
  ["allergies and adverse reactions", "allergies"],
  ["problem list/past medical history", "problems"],
  ["active issues", "problems"],
  ["medications at discharge", "medications"],
  ["prescriptions", "medications"],
  ["allergies", "allergies"],
  ["allergy", "allergies"],
  ["drug allergies", "allergies"],
  ["allergies/intolerances", "allergies"],
  ["allergies and intolerances", "allergies"],
  ["allergies / intolerances", "allergies"],
  ["adverse reactions", "allergies"],
  ["medication allergies", "allergies"],
  ["known allergies", "allergies"],
  ["vitals", "vitals"],
  ["vital signs", "vitals"],
  ["discharge vitals", "vitals"],
  ["vitals signs", "vitals"],
  ["vital sign", "vitals"],
  ["admission vitals", "vitals"],
  ["review of systems", "ros"],
  ["ros", "ros"],
  ["systems review", "ros"],
  ["exam", "exam"],
  ["physical exam", "exam"],
  ["physical examination", "exam"],
  ["examination", "exam"],
  ["pe", "exam"],
  ["objective", "exam"],
  ["discharge exam", "exam"],
  ["exam at discharge", "exam"],
  ["findings", "findings"],
  ["technique", "other"],
  ["comparison", "other"],
  ["procedure", "other"],
  ["impression", "impression"],
  ["impressions", "impression"],
  ["conclusion", "impression"],
  ["conclusions", "impression"],
  ["interpretation", "impression"],
  ["summary", "impression"],
  ["opinion", "impression"],
  ["assessment and plan", "assessment_plan"],
  ["assessment & plan", "assessment_plan"],
  ["assessment/plan", "assessment_plan"],
  ["a/p", "assessment_plan"],
  ["a&p", "assessment_plan"],
  ["impression and plan", "assessment_plan"],
  ["impression/plan", "assessment_plan"],
  ["plan", "plan"],
  ["recommendations", "plan"],
  ["recommendation", "plan"],
  ["follow-up", "plan"],
  ["follow up", "plan"],
  ["disposition", "plan"],
  ["instructions", "plan"],
  ["discharge instructions", "plan"],
  ["patient instructions", "plan"],
  ["family history", "family_history"],
  ["fh", "family_history"],
  ["family hx", "family_history"],
  ["fhx", "family_history"],
  ["social history", "social_history"],
  ["sh", "social_history"],
  ["social hx", "social_history"],
  ["surgical history", "social_history"],
  ["past surgical history", "social_history"],
  ["psh", "social_history"],
  ["immunizations", "other"],
  ["health maintenance", "other"],
  ["preventive care", "other"],
  ["hospital course", "hospital_course"],
  ["brief hospital course", "hospital_course"],
  ["course", "hospital_course"],
  ["hospital course by problem", "hospital_course"],
  ["ed course", "hospital_course"],
  ["consults", "other"],
  ["final diagnosis", "pathology_diagnosis"],
  ["final diagnoses", "pathology_diagnosis"],
  ["pathologic diagnosis", "pathology_diagnosis"],
  ["pathology diagnosis", "pathology_diagnosis"],
  ["final pathologic diagnosis", "pathology_diagnosis"],
  ["specimen", "pathology_detail"],
  ["specimens", "pathology_detail"],
  ["gross description", "pathology_detail"],
  ["microscopic description", "pathology_detail"],
  ["microscopic", "pathology_detail"],
  ["gross", "pathology_detail"],
  ["comment", "pathology_detail"],
  ["comments", "pathology_detail"],
  ["note", "other"],
  ["addendum", "pathology_detail"],
  ["results", "results"],
  ["lab results", "results"],
  ["laboratory results", "results"],
  ["labs", "results"],
  ["laboratory data", "results"],
  ["pertinent results", "results"],
  ["data", "results"],
  ["studies", "results"],
  ["imaging", "results"],
  ["diagnostics", "results"],
];

const HEADER_MAP = new Map<string, SectionKind>(SECTION_HEADERS.map(([k, v]) => [k, v]));
const HEADER_MAX_WORDS = Math.max(...SECTION_HEADERS.map(([k]) => k.split(" ").length));

/** Lower-case header key: bullets, numbering, stray OCR marks and trailing colons removed. */
function headerKey(s: string): string {
  return s
    .toLowerCase()
    .replace(/^[^a-z]+/, "")
    .replace(/[\s:.;,\-–—*•·~|'"“”‘’§¢«»()]+$/g, "")
    .replace(/\s+(?:[^a-z\s]{1,2}|[a-z])$/g, "")
    .replace(/[\s:.;,\-–—*•·~|'"“”‘’§¢«»]+$/g, "")
    .replace(/\s+/g, " ")
    .trim();
}

/** A clinical term that is content, never a heading word: a drug, an allergen, a condition. */
function isClinicalTerm(word: string): boolean {
  const w = word.toLowerCase();
  return KNOWN_SUBSTANCES.has(w) || BRAND_NAMES.has(w) || findConceptMentions(word).length > 0;
}

const KNOWN_SUBSTANCES = new Set([...GENERIC_DRUGS.map((d) => d.toLowerCase()), ...ALLERGEN_NAMES]);
const BRAND_NAMES = new Set(Object.keys(BRAND_TO_GENERIC));
/** Lines that state an absence ("NO KNOWN ALLERGIES", "None") are content, not headings. */
const ABSENCE_RE = /^(?:no|none|nil|nkda|nka|nkma|denies|negative)\b/i;

/**
 * Classifies a heading by its words (section-vocabulary.ts): the highest-priority head word
 * decides; every other word must be a modifier, except `unknownAllowed` words that name no
 * clinical term. "Medical history" and "past history" are the past medical history.
 */
export function classifyHeadingWords(phrase: string, unknownAllowed = 0): SectionKind | null {
  const words = phrase
    .toLowerCase()
    .replace(/\bo\/e\b/g, "o/e")
    .split(/[\s,]+|(?<=[a-z])\/(?=[a-z]{2})/)
    .map((w) => w.replace(/^[^a-z0-9&/]+|[^a-z0-9&/'-]+$/g, ""))
    .filter(Boolean);
  if (words.length === 0 || words.length > 7) return null;
  let best: HeadWord | null = null;
  let unknown = 0;
  for (const word of words) {
    const headWord = SECTION_HEAD_WORDS.get(word);
    if (headWord) {
      if (!best || headWord.priority > best.priority) best = headWord;
    } else if (!SECTION_MODIFIERS.has(word)) {
      unknown++;
      if (unknown > unknownAllowed || isClinicalTerm(word)) return null;
    }
  }
  if (!best) return null;
  if (best.kind === "hpi" && words.some((w) => PAST_HISTORY_MODIFIERS.has(w))) return "pmh";
  return best.kind;
}

/** "-----" or "=====" under a heading line. */
export function isUnderline(line: string | undefined): boolean {
  return line !== undefined && /^\s*[-=_~]{3,}\s*$/.test(line);
}

/**
 * Recognise a section header. Returns the kind and, for "HEADER: content" lines, where the content
 * starts; null when the line is not a header. A heading is recognised by its form (a short line
 * with a colon, in capitals, underlined, or made of heading words) and classified by its words,
 * so wordings no table lists still start their section, and an unknown heading still ends the
 * previous one. `next` and `previous` are the lines around it: an underline makes a heading,
 * and so does spacing (a short line alone after a blank line, with text right under it).
 */
export function matchSectionHeader(
  line: string,
  next?: string,
  previous?: string,
): { kind: SectionKind; contentAt: number; known: boolean } | null {
  // OCR keeps wide gaps (and specks at the margin) as runs of spaces; collapse them first.
  const trimmed = line.trim().replace(/\s+/g, " ");
  if (trimmed === "" || isUnderline(trimmed)) return null;
  const whole = trimmed.length <= 80 ? HEADER_MAP.get(headerKey(trimmed)) : undefined;
  if (whole && !/\d{2,}/.test(trimmed)) return { kind: whole, contentAt: line.length, known: true };
  const colon = /^([^:]{2,45}):/.exec(line.replace(/^\s*[^A-Za-z\s]{1,3}\s*/, (m) => " ".repeat(m.length)));
  if (colon) {
    const label = colon[1] ?? "";
    const key = headerKey(label);
    const kind =
      HEADER_MAP.get(key) ??
      // An unlisted label is a heading only when it is capitalised and has no digits.
      (/^[^A-Za-z]*[A-Z]/.test(label) && !/\d/.test(key) ? classifyHeadingWords(key, 1) : null);
    if (kind && key.split(" ").length <= HEADER_MAX_WORDS) {
      let at = colon[0].length;
      while (at < line.length && /\s/.test(line[at]!)) at++;
      return { kind, contentAt: at, known: true };
    }
  }
  // A letter's sign-off ends whatever list came before it; the signature is not content.
  if (VALEDICTION_RE.test(trimmed)) return { kind: "other", contentAt: line.length, known: true };
  // A whole-line heading: a leading list number ("2. MEDICATIONS", "B) Plan") is allowed, other
  // digits are not (a dose, a value, a date is content).
  const label = trimmed.replace(/^(?:\(?\d{1,2}[.)]|\(?[A-H][.)])\s+/, "").replace(/[\s:]+$/, "");
  const words = label.split(" ");
  const headingForm =
    label.length >= 3 &&
    label.length <= 60 &&
    words.length <= 7 &&
    /^[A-Z]/.test(label) &&
    !/\d/.test(label) &&
    !/[.!?;]$/.test(label) &&
    !ABSENCE_RE.test(label);
  if (!headingForm) return null;
  const capitals = /[A-Z]{2}/.test(label) && label === label.toUpperCase();
  const titled = words.every(
    (w) => /^[A-Z&/(-]/.test(w) || /^(?:of|and|or|the|to|for|on|at|in|with|by)$/.test(w),
  );
  const styled = trimmed.endsWith(":") || capitals || isUnderline(next) || (titled && words.length > 1);
  const kind = classifyHeadingWords(label, styled ? 1 : 0);
  if (kind) return { kind, contentAt: line.length, known: true };
  // Unknown heading ("LABS AT DISCHARGE:", "SAFETY NETTING", "Wound care" underlined): it still
  // ends the previous section, so a medication or allergy list does not run on into unrelated
  // text. A line that names a clinical term ("ASPIRIN", "HYPERTENSION") is content.
  const spaced =
    (previous === undefined || previous.trim() === "") &&
    next !== undefined &&
    next.trim() !== "" &&
    bulletLength(trimmed) === 0 &&
    words.length <= 4;
  const unknownForm =
    (trimmed.endsWith(":") && words.length <= 5) ||
    ((capitals || isUnderline(next) || spaced) &&
      words.length <= 5 &&
      !words.some(isClinicalTerm) &&
      findConceptMentions(label).length === 0);
  if (!unknownForm) return null;
  const resultsKind =
    /\b(?:lab|labs|laboratory|results?|chemistry|hematology|haematology|biochemistry)\b/i.test(label);
  return { kind: resultsKind ? "results" : "other", contentAt: line.length, known: false };
}

/** Split pages into lines and assign each to a section; section state carries across pages. */
export function segmentDocument(pages: readonly PageText[]): DocLine[] {
  const out: DocLine[] = [];
  let section: SectionKind = "header";
  for (const [pageIndex, page] of pages.entries()) {
    // An attached report (new letterhead with patient banner) restarts the section context.
    if (pageIndex > 0 && startsNewReport(page.text)) section = "header";
    let offset = 0;
    const rawLines = page.text.split("\n");
    let underlineOfHeading = false;
    for (const [i, raw] of rawLines.entries()) {
      const start = offset;
      offset += raw.length + 1;
      let header: ReturnType<typeof matchSectionHeader> = underlineOfHeading
        ? null
        : matchSectionHeader(raw, rawLines[i + 1], i > 0 ? rawLines[i - 1] : undefined);
      // An unknown heading in the letterhead is part of it (a clinic's name in capitals).
      if (header && !header.known && section === "header") header = null;
      if (header) section = header.kind;
      // A letter's salutation ends its letterhead: what follows is the letter's narrative.
      else if (section === "header" && SALUTATION_RE.test(raw)) section = "hpi";
      const isUnderlineOfHeading = underlineOfHeading;
      underlineOfHeading = header !== null && isUnderline(rawLines[i + 1]);
      out.push({
        page: page.pageNumber,
        start,
        text: raw,
        source: page.source,
        section,
        isSectionHeader: header !== null || isUnderlineOfHeading,
        inlineContentAt: header ? header.contentAt : isUnderlineOfHeading ? raw.length : 0,
      });
    }
  }
  return out;
}

/** Closing formulas of letters and signed notes (UK and US usage). */
const VALEDICTION_RE =
  /^(?:yours (?:sincerely|faithfully|truly)|sincerely(?: yours)?|(?:kind|best|warm|with kind) regards|regards|best wishes|many thanks|with thanks|thanks again|electronically signed(?: by)?|signed(?: electronically)?(?: by)?|dictated (?:but not read )?by|authori[sz]ed by|verified by)\b[\s,.:]*/i;

const SALUTATION_RE = /^\s*(?:dear|to whom it may concern)\b/i;

function startsNewReport(text: string): boolean {
  const head = text
    .split("\n")
    .filter((l) => l.trim() !== "")
    .slice(0, 6)
    .join("\n");
  return /\b(?:report|laboratory|patient|mrn|dob)\b/i.test(head);
}

/** Text of the line that belongs to its section (inline content of a header, or the whole line). */
export function contentOf(line: DocLine): { text: string; offset: number } {
  if (!line.isSectionHeader) return { text: line.text, offset: 0 };
  return { text: line.text.slice(line.inlineContentAt), offset: line.inlineContentAt };
}

const BULLET_RE = /^\s*(?:[-–—•*·+>~¢«»]\s*|o\s+|\(?\d{1,2}[.)]\s*|\(?[a-hA-H][.)]\s+)/;

/** Length of a leading bullet / list number ("• ", "- ", "1. ", "A. "), 0 when there is none. */
export function bulletLength(text: string): number {
  const m = BULLET_RE.exec(text);
  return m ? m[0].length : 0;
}

export function isListItem(text: string): boolean {
  return bulletLength(text) > 0 && /[A-Za-z]/.test(text.slice(bulletLength(text), bulletLength(text) + 3));
}

/** A span of text with its page and page offset, used to cite facts. */
export interface Span {
  readonly page: number;
  readonly start: number;
  readonly end: number;
}

/**
 * Join the lines of a section into paragraphs: wrapped prose lines are concatenated (with one space)
 * while list items and blank lines start new paragraphs. An offset map keeps citations exact.
 */
export interface Paragraph {
  readonly text: string;
  readonly section: SectionKind;
  /** For each character of `text`: page and page offset, or -1 for the joining spaces. */
  readonly page: number[];
  readonly offset: number[];
}

/** Sections whose lines are list entries even without bullets. */
const LINE_ITEM_SECTIONS: ReadonlySet<SectionKind> = new Set(["problems", "pmh", "pathology_diagnosis"]);

export function buildParagraphs(lines: readonly DocLine[]): Paragraph[] {
  const out: Paragraph[] = [];
  let cur: { text: string; section: SectionKind; page: number[]; offset: number[] } | null = null;
  const flush = () => {
    if (cur && cur.text.trim() !== "") out.push(cur);
    cur = null;
  };
  for (const line of lines) {
    const { text, offset } = contentOf(line);
    if (line.isSectionHeader) flush();
    if (text.trim() === "") {
      flush();
      continue;
    }
    // In a list section one short line is one item ("Asthma" / "Gout" under a problem list);
    // a line that continues the previous one starts in lower case or follows a dangling word.
    const startsItem =
      isListItem(text) ||
      (LINE_ITEM_SECTIONS.has(line.section) &&
        cur !== null &&
        /^\s*[A-Z]/.test(text) &&
        !/(?:[,;:/&(+-]|\b(?:and|or|with|of|to|the|due|secondary|without|in|on|for|from|by|at))\s*$/i.test(
          (cur as { text: string }).text,
        ));
    if (startsItem || !cur || cur.section !== line.section) flush();
    if (!cur) cur = { text: "", section: line.section, page: [], offset: [] };
    const c: { text: string; section: SectionKind; page: number[]; offset: number[] } = cur;
    if (c.text !== "") {
      c.text += " ";
      c.page.push(-1);
      c.offset.push(-1);
    }
    for (let i = 0; i < text.length; i++) {
      c.text += text[i];
      c.page.push(line.page);
      c.offset.push(line.start + offset + i);
    }
  }
  flush();
  return out;
}

/** Page span for paragraph characters [from, to). */
export function paragraphSpan(p: Paragraph, from: number, to: number): Span {
  let a = from;
  while (a < to && p.page[a] === -1) a++;
  let b = to - 1;
  while (b > a && p.page[b] === -1) b--;
  const page = p.page[a] ?? p.page[0] ?? 1;
  // A span that crosses a page break is cut at the page end: provenance is per page.
  let end = b;
  while (end > a && p.page[end] !== page) end--;
  return { page, start: p.offset[a] ?? 0, end: (p.offset[end] ?? 0) + 1 };
}
