/**
 * Diagnoses and findings: problem-list / diagnosis entries (with printed ICD-10-CM codes), asserted
 * symptoms and findings from the narrative sections where reports state them (complaint, history,
 * indication, impression), negated findings from anywhere, and family history.
 * One entry per concept per document: later wordings of a concept already reported are dropped.
 */
import {
  type Concept,
  categoryKeyForCode,
  conceptForCode,
  findConceptMentions,
  tokenize,
} from "./clinical-lexicon";
import { clauseIds, detectAssertion } from "./detect-assertion";
import {
  buildParagraphs,
  bulletLength,
  type DocLine,
  type Paragraph,
  paragraphSpan,
  type SectionKind,
} from "./document-lines";
import type { Diagnosis } from "./schema";

/** Sections whose list items are diagnosis entries. */
const PROBLEM_SECTIONS: ReadonlySet<SectionKind> = new Set(["problems", "pmh", "pathology_diagnosis"]);
/** Sections in which asserted symptoms/findings are reported (exam and findings sections are not). */
const ASSERTED_SECTIONS: ReadonlySet<SectionKind> = new Set([
  "chief_complaint",
  "hpi",
  "indication",
  "impression",
]);
/** Sections never scanned for diagnoses. */
const IGNORED_SECTIONS: ReadonlySet<SectionKind> = new Set([
  "medications",
  "allergies",
  "vitals",
  "results",
  "social_history",
]);

/**
 * Which wording of a repeated concept is reported: the impression/indication wording before the
 * history, the history before the chief complaint (patients' words), then everything else.
 */
const SECTION_RANK: Readonly<Record<SectionKind, number>> = {
  impression: 0,
  pathology_diagnosis: 0,
  problems: 0,
  pmh: 0,
  indication: 1,
  hpi: 2,
  chief_complaint: 3,
  assessment_plan: 4,
  family_history: 4,
  ros: 5,
  exam: 5,
  findings: 5,
  hospital_course: 5,
  pathology_detail: 5,
  plan: 6,
  other: 6,
  header: 6,
  results: 6,
  medications: 6,
  allergies: 6,
  vitals: 6,
  social_history: 6,
};

/** Modifiers kept in front of a matched term ("small right pleural effusion", "productive cough"). */
const MODIFIERS = new Set([
  "small",
  "large",
  "mild",
  "mildly",
  "moderate",
  "severe",
  "minimal",
  "left",
  "right",
  "bilateral",
  "lower",
  "upper",
  "middle",
  "lobe",
  "palpable",
  "productive",
  "dry",
  "focal",
  "diffuse",
  "suspicious",
  "new",
  "recurrent",
  "persistent",
  "intermittent",
  "decompensated",
  "unintentional",
  "significant",
  "simple",
  "complex",
  "axillary",
  "peripheral",
  "discrete",
  "nocturnal",
  "exertional",
  "worsening",
  "progressive",
  "frank",
  "gross",
  "occasional",
  "sharp",
  "dull",
  "pleuritic",
  "substernal",
  "acute",
  "chronic",
  "subacute",
  "generalized",
  "localized",
  "bilateral",
  "hepatic",
  "pulmonary",
  "renal",
  "cervical",
  "inguinal",
  "obvious",
  "definite",
  "internal",
  "external",
  "tender",
  "painful",
  "painless",
  "recent",
  "ongoing",
  "nonproductive",
  "non",
  "high",
  "low",
  "grade",
  "vaginal",
  "rectal",
  "urinary",
]);

const ICD_CODE = String.raw`[A-TV-Z][0-9OIl][0-9A-Z](?:\.[0-9A-Z]{1,4})?`;
const CODE_PATTERNS: readonly RegExp[] = [
  new RegExp(String.raw`[(\[]\s*(?:ICD-?10(?:-CM)?[:\s]*)?(${ICD_CODE})\s*[)\]]`),
  new RegExp(String.raw`(?:ICD-?10(?:-CM)?|ICD|Dx code|code)\s*[:#]?\s*(${ICD_CODE})\b`, "i"),
  new RegExp(String.raw`\s[-–—:]\s*(${ICD_CODE})(?=[.,;]?(?:\s|$))`),
  new RegExp(String.raw`^(${ICD_CODE})(?=\s*[-–—:]?\s+[A-Za-z])`),
];

/** OCR-tolerant code clean-up: O->0 and I/l->1 outside the leading letter. */
function cleanCode(raw: string): string | null {
  const s = raw[0]!.toUpperCase() + raw.slice(1).replace(/O/g, "0").replace(/[Il]/g, "1").toUpperCase();
  return /^[A-Z]\d[0-9A-Z](\.[0-9A-Z]{1,4})?$/.test(s) ? s : null;
}

interface Candidate {
  text: string;
  from: number;
  to: number;
  paragraph: Paragraph;
  icd10: string | null;
  icdSource: "printed" | "terminology" | null;
  negated: boolean;
  familyHistory: boolean;
  conceptKeys: string[];
  /** ICD categories of the concepts; used only against problem entries. */
  categoryKeys: string[];
  tokens: string[];
  priority: number;
}

const SPECIMEN_WORDS =
  /\b(biopsy|biopsies|polypectomy|resection|excision|core|specimen|aspirate|curettage|o'clock|margin|smear|cytology|fna|lobectomy|ectomy)\b/i;
const STOP_TOKENS = new Set(["of", "the", "a", "an", "and", "in", "on", "to", "for", "with", "unspecified"]);

function contentTokens(text: string): string[] {
  return tokenize(text)
    .map((t) => t.norm)
    .filter((t) => !STOP_TOKENS.has(t));
}

export function extractDiagnoses(lines: readonly DocLine[]): Diagnosis[] {
  const paragraphs = buildParagraphs(lines).filter(
    (p) => !IGNORED_SECTIONS.has(p.section) && p.section !== "header",
  );
  const candidates: Candidate[] = [];
  for (const p of paragraphs) {
    if (PROBLEM_SECTIONS.has(p.section)) {
      const item = parseProblemItem(p);
      if (item) candidates.push(...splitProblemList(item));
    }
    candidates.push(...mentionCandidates(p));
  }
  // Problem entries first (coded before uncoded), then narrative mentions in document order.
  candidates.sort((a, b) => a.priority - b.priority);
  const accepted: Candidate[] = [];
  for (const c of candidates) {
    if (!accepted.some((a) => sameConcept(a, c))) accepted.push(c);
  }
  // Report in document order for readability.
  accepted.sort((a, b) => paragraphOrder(paragraphs, a, b));
  return accepted.map((c) => ({
    // A finding that wraps onto the next line reads as one phrase; provenance keeps the span.
    text: c.text.replace(/\s+/g, " "),
    icd10: c.icd10,
    icd10_source: c.icdSource,
    negated: c.negated,
    family_history: c.familyHistory,
    provenance: paragraphSpan(c.paragraph, c.from, c.to),
  }));
}

function paragraphOrder(paragraphs: readonly Paragraph[], a: Candidate, b: Candidate): number {
  const pa = paragraphs.indexOf(a.paragraph);
  const pb = paragraphs.indexOf(b.paragraph);
  return pa - pb || a.from - b.from;
}

function sameConcept(a: Candidate, b: Candidate): boolean {
  if (a.negated !== b.negated || a.familyHistory !== b.familyHistory) return false;
  if (a.icd10 && b.icd10 && a.icdSource === "printed" && b.icdSource === "printed")
    return a.icd10 === b.icd10;
  if (b.conceptKeys.length > 0 && b.conceptKeys.every((k) => a.conceptKeys.includes(k))) return true;
  // A narrative wording of a listed problem ("type 2 diabetes" vs "... with hyperglycemia (E11.65)").
  if (a.priority < 2 && b.categoryKeys.length > 0 && b.categoryKeys.every((k) => a.categoryKeys.includes(k)))
    return true;
  const subset = (x: string[], y: string[]) => x.length > 0 && x.every((t) => y.includes(t));
  return subset(b.tokens, a.tokens) || subset(a.tokens, b.tokens);
}

/** Diagnosis entry from a problem-list / diagnosis-section item. */
function parseProblemItem(p: Paragraph): Candidate | null {
  const text = p.text;
  let from = bulletLength(text);
  // "A. " specimen letters after a bullet ("• A. Sigmoid colon, ...").
  const letter = /^[A-H][.)]\s+/.exec(text.slice(from));
  if (letter) from += letter[0].length;
  // Only the first sentence names the diagnosis; later sentences are commentary.
  let to = text.length;
  const sentenceEnd = /\.\s+(?=[A-Z])/.exec(text.slice(from));
  let code: string | null = null;
  let codeAt = -1;
  let codeEnd = -1;
  const firstSentence = sentenceEnd ? text.slice(from, from + sentenceEnd.index + 1) : text.slice(from);
  for (const re of CODE_PATTERNS) {
    const m = re.exec(firstSentence);
    if (m?.[1]) {
      const cleaned = cleanCode(m[1]);
      if (!cleaned) continue;
      code = cleaned;
      codeAt = from + m.index;
      codeEnd = from + m.index + m[0].length;
      break;
    }
  }
  if (sentenceEnd) to = from + sentenceEnd.index;
  // "benign colonic mucosa, no diagnostic abnormality": what follows ", no" is a negated finding.
  const negatedTail = /[,;]\s*(?:no|negative for|free of)\b/i.exec(text.slice(from, to));
  if (negatedTail) to = from + negatedTail.index;
  let body = text.slice(from, to);
  let bodyFrom = from;
  // Pathology style "Site, procedure: DIAGNOSIS (code)": the diagnosis follows the colon.
  const colon = body.indexOf(":");
  if (colon > 0) {
    const before = body.slice(0, colon);
    const codeAfterColon = codeAt >= from + colon;
    if (SPECIMEN_WORDS.test(before) || (codeAfterColon && p.section === "pathology_diagnosis")) {
      bodyFrom = from + colon + 1;
      body = body.slice(colon + 1);
    } else if (!codeAfterColon || code === null) {
      body = before;
    }
  }
  // Remove the code and its wrapper, trailing punctuation and status words.
  let dx = text.slice(bodyFrom, bodyFrom + body.length);
  if (code !== null && codeAt >= bodyFrom && codeAt < bodyFrom + body.length + 2) {
    dx = text.slice(bodyFrom, codeAt);
    if (codeAt === bodyFrom) dx = text.slice(codeEnd, bodyFrom + body.length);
  }
  const lead = /^[\s\-–—:,.]*/.exec(dx)?.[0].length ?? 0;
  const dxStart = (codeAt === bodyFrom && code !== null ? codeEnd : bodyFrom) + lead;
  dx = dx
    .slice(lead)
    .replace(/\s*\((?:suspected|resolved|stable|chronic|controlled|improving|new)\)\s*$/i, "")
    .replace(/[\s\-–—:;,.]+$/, "");
  if (dx === "" || /^(none|n\/a|no known|nil|negative for|no |not )/i.test(dx)) return null;
  const tokens = contentTokens(dx);
  if (tokens.length === 0) return null;
  const mentions = findConceptMentions(dx);
  const concepts = mentions.map((m) => m.concept);
  if (code === null) {
    const wordCount = dx.split(/\s+/).length;
    const acceptUnknown =
      (p.section === "problems" || p.section === "pmh") && wordCount <= 8 && !/\d{3,}/.test(dx);
    if (concepts.length === 0 && !acceptUnknown) return null;
  }
  const printedConcept = code ? conceptForCode(code) : null;
  const main = pickMain(concepts);
  const keys = unique([...(printedConcept ? [printedConcept.key] : []), ...concepts.map((c) => c.key)]);
  return {
    text: dx,
    from: dxStart,
    to: dxStart + dx.length,
    paragraph: p,
    icd10: code ?? main?.icd10 ?? null,
    icdSource: code ? "printed" : main?.icd10 ? "terminology" : null,
    negated: false,
    familyHistory: false,
    conceptKeys: keys,
    categoryKeys: unique(
      [code, ...concepts.map((c) => c.icd10)].filter((c): c is string => c !== null).map(categoryKeyForCode),
    ),
    tokens,
    priority: code ? 0 : 1,
  };
}

/**
 * "HTN, DM2; hyperlipidemia" on one problem line is three problems. An uncoded item is split on
 * commas/semicolons only when every part names a known concept, so "Atrial fibrillation, paroxysmal"
 * or "Migraine, unspecified, not intractable" stay whole.
 */
function splitProblemList(item: Candidate): Candidate[] {
  if (item.icdSource === "printed" || !/[,;]/.test(item.text)) return [item];
  const parts: { text: string; from: number }[] = [];
  const re = /[^,;]+/g;
  for (let m = re.exec(item.text); m; m = re.exec(item.text)) {
    const lead = /^\s*(?:and\s+)?/.exec(m[0])![0].length;
    const text = m[0].slice(lead).trim();
    if (text) parts.push({ text, from: item.from + m.index + lead });
  }
  if (parts.length < 2) return [item];
  const withConcepts = parts.map((part) => ({
    part,
    concepts: findConceptMentions(part.text).map((x) => x.concept),
  }));
  if (!withConcepts.every((x) => x.concepts.length > 0)) return [item];
  return withConcepts.map(({ part, concepts }) => {
    const main = pickMain(concepts);
    return {
      ...item,
      text: part.text,
      from: part.from,
      to: part.from + part.text.length,
      icd10: main?.icd10 ?? null,
      icdSource: main?.icd10 ? "terminology" : null,
      conceptKeys: concepts.map((c) => c.key),
      categoryKeys: concepts.flatMap((c) => (c.icd10 ? [categoryKeyForCode(c.icd10)] : [])),
      tokens: contentTokens(part.text),
    };
  });
}

function pickMain(concepts: readonly Concept[]): Concept | null {
  return concepts.find((c) => c.icd10) ?? concepts[0] ?? null;
}

function unique<T>(xs: readonly T[]): T[] {
  return [...new Set(xs)];
}

/** Sentence ranges of a paragraph (periods that end sentences, not decimals or abbreviations). */
function sentences(text: string): [number, number][] {
  const out: [number, number][] = [];
  let start = 0;
  const re = /[.!?](?=\s+(?:[A-Z0-9(•*\-–—]|$))|[.!?]$/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const before = text.slice(Math.max(0, m.index - 4), m.index);
    if (/\b(?:Dr|Mr|Mrs|Ms|vs|St|approx|e\.g|i\.e|No)$/i.test(before) || /\b[A-Z]$/.test(before)) continue;
    out.push([start, m.index + 1]);
    start = m.index + 1;
  }
  if (start < text.length) out.push([start, text.length]);
  return out;
}

/** Narrative mentions of known concepts, with their assertion status. */
function mentionCandidates(p: Paragraph): Candidate[] {
  const out: Candidate[] = [];
  const inFamily = p.section === "family_history";
  const assertedAllowed = ASSERTED_SECTIONS.has(p.section);
  // A&P items: the heading before the colon names a problem; the rest is plan.
  // In an assessment the first clause ("1. Chest pain, likely angina - stress test") names the problem.
  const headingEnd =
    p.section === "assessment_plan" || p.section === "plan"
      ? (() => {
          const re = p.section === "assessment_plan" ? /:|\s[-–—]\s|\.(?:\s|$)/ : /:/;
          const m = re.exec(p.text.slice(bulletLength(p.text)));
          const c = m ? m.index + bulletLength(p.text) : -1;
          return c > 0 && c < 90 ? c : -1;
        })()
      : -1;
  for (const [s, e] of sentences(p.text)) {
    const sentence = p.text.slice(s, e);
    const tokens = tokenize(sentence);
    if (tokens.length === 0) continue;
    const ids = clauseIds(sentence, tokens);
    for (const m of findConceptMentions(sentence, tokens)) {
      const a = detectAssertion(sentence, tokens, ids, m.firstToken, m.lastToken, inFamily);
      const from = s + extendLeft(sentence, tokens, m.firstToken);
      const to = s + m.end;
      let take = false;
      if (a.familyHistory) take = !a.uncertain || a.negated;
      else if (a.negated) take = true;
      else if (!a.uncertain && !a.historical) {
        take = assertedAllowed || (headingEnd >= 0 && to <= headingEnd && !PROBLEM_SECTIONS.has(p.section));
      }
      if (!take) continue;
      const text = p.text.slice(from, to);
      out.push({
        text,
        from,
        to,
        paragraph: p,
        icd10: m.concept.icd10,
        icdSource: m.concept.icd10 ? "terminology" : null,
        negated: a.negated,
        familyHistory: a.familyHistory,
        conceptKeys: [m.concept.key],
        categoryKeys: m.concept.icd10 ? [categoryKeyForCode(m.concept.icd10)] : [],
        tokens: contentTokens(text),
        priority: (a.negated || a.familyHistory ? 3 : 2) + SECTION_RANK[p.section] / 10,
      });
    }
  }
  return out;
}

/** Start offset (in the sentence) after extending a mention left over modifier words. */
function extendLeft(sentence: string, tokens: ReturnType<typeof tokenize>, first: number): number {
  let i = first;
  while (i > 0) {
    const prev = tokens[i - 1]!;
    const gap = sentence.slice(prev.end, tokens[i]!.start);
    if (!/^[\s-]*$/.test(gap) || !MODIFIERS.has(prev.norm)) break;
    i--;
  }
  return tokens[i]!.start;
}
