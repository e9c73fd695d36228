/**
 * Line and section model shared by the extractors. Every line keeps its page number and character
 * offsets into that page's text so that each extracted fact can cite exactly where it was read.
 */
export interface PageText {
  readonly pageNumber: number;
  readonly text: string;
  readonly source: "text_layer" | "ocr";
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

/**
 * Recognise a section header. Returns the kind and, for "HEADER: content" lines, where the content
 * starts; null when the line is not a header.
 */
export function matchSectionHeader(line: string): { kind: SectionKind; contentAt: number } | null {
  // OCR keeps wide gaps (and specks at the margin) as runs of spaces; collapse them first.
  const trimmed = line.trim().replace(/\s+/g, " ");
  if (trimmed === "") return null;
  const whole = trimmed.length <= 80 ? HEADER_MAP.get(headerKey(trimmed)) : undefined;
  if (whole && !/\d{2,}/.test(trimmed)) return { kind: whole, contentAt: line.length };
  const colon = /^([^:]{2,45}):/.exec(line.replace(/^\s*[^A-Za-z\s]{1,3}\s*/, (m) => " ".repeat(m.length)));
  if (colon) {
    const key = headerKey(colon[1] ?? "");
    const kind = HEADER_MAP.get(key);
    if (kind && key.split(" ").length <= HEADER_MAX_WORDS) {
      let at = colon[0].length;
      while (at < line.length && /\s/.test(line[at]!)) at++;
      return { kind, contentAt: at };
    }
  }
  // Unknown heading that ends with a colon ("LABS AT DISCHARGE:", "Wound care:"): it still ends the
  // previous section, so a medication or allergy list does not run on into unrelated text.
  const generic = /^[^a-z0-9]*([A-Za-z][A-Za-z /&,()'-]{1,40}):$/.exec(trimmed);
  if (generic && generic[1]!.split(/\s+/).length <= 5 && /^[A-Z]/.test(generic[1]!)) {
    const kind: SectionKind =
      /\b(?:lab|labs|laboratory|results?|chemistry|hematology|haematology|biochemistry)\b/i.test(generic[1]!)
        ? "results"
        : "other";
    return { kind, contentAt: line.length };
  }
  return null;
}

/** Split pages into lines and assign each to a section; section state carries across pages. */
export function segmentDocument(pages: readonly PageText[]): DocLine[] {
  const out: DocLine[] = [];
  let section: SectionKind = "header";
  for (const [pageIndex, page] of pages.entries()) {
    // An attached report (new letterhead with patient banner) restarts the section context.
    if (pageIndex > 0 && startsNewReport(page.text)) section = "header";
    let offset = 0;
    for (const raw of page.text.split("\n")) {
      const start = offset;
      offset += raw.length + 1;
      const header = matchSectionHeader(raw);
      if (header) section = header.kind;
      out.push({
        page: page.pageNumber,
        start,
        text: raw,
        source: page.source,
        section,
        isSectionHeader: header !== null,
        inlineContentAt: header ? header.contentAt : 0,
      });
    }
  }
  return out;
}

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
    const startsItem = isListItem(text);
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
