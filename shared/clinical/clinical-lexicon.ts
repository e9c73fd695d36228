/**
 * Concept lexicon for diagnoses and findings: ICD-10-CM descriptions and synonyms plus the finding
 * and symptom table, matched on word tokens. Different wordings of one condition resolve to one
 * concept key, which is how "one entry per concept per document" is enforced.
 */
import { FINDING_CONCEPTS } from "./terminology/findings";
import { ICD10_CODES } from "./terminology/icd10";

export interface Concept {
  readonly key: string;
  readonly icd10: string | null;
  readonly preferred: string;
}

export interface Token {
  readonly norm: string;
  readonly raw: string;
  readonly start: number;
  readonly end: number;
}

export interface ConceptMention {
  readonly concept: Concept;
  /** Character offsets of the matched term (without extension) in the input text. */
  readonly start: number;
  readonly end: number;
  /** Token index range [first, last) of the match. */
  readonly firstToken: number;
  readonly lastToken: number;
}

interface Term {
  readonly tokens: readonly string[];
  readonly concept: Concept;
  /** Abbreviations such as "COPD" or "MI" only match when printed in capitals. */
  readonly caseSensitive: boolean;
}

/** Lower case, possessive and British spellings folded (haem -> hem, oesophageal -> esophageal). */
export function normToken(raw: string): string {
  return raw
    .toLowerCase()
    .replace(/['’]s$/, "")
    .replace(/ae/g, "e")
    .replace(/oe/g, "e");
}

export function tokenize(text: string): Token[] {
  const out: Token[] = [];
  const re = /[A-Za-z0-9]+(?:['’][A-Za-z]+)?/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    out.push({ norm: normToken(m[0]), raw: m[0], start: m.index, end: m.index + m[0].length });
  }
  return out;
}

/** Concept key used for de-duplication: the full ICD-10-CM code. */
export function conceptKeyForCode(code: string): string {
  return `icd:${code}`;
}

/**
 * Category key: a less specific wording of a coded problem ("type 2 diabetes" vs E11.65) shares the
 * 3-character category. Symptom (R) and status (Z) categories group unrelated concepts, so they keep
 * the full code.
 */
export function categoryKeyForCode(code: string): string {
  return /^[RZ]/.test(code) ? `icd:${code}` : `cat:${code.slice(0, 3)}`;
}

let termIndex: Map<string, Term[]> | null = null;
let codeIndex: Map<string, Concept> | null = null;

function buildIndex(): Map<string, Term[]> {
  const idx = new Map<string, Term[]>();
  codeIndex = new Map();
  const add = (phrase: string, concept: Concept) => {
    const toks = tokenize(phrase);
    if (toks.length === 0) return;
    const caseSensitive =
      toks.length === 1 && phrase.length <= 5 && /^[A-Z0-9-]+$/.test(phrase) && /[A-Z]/.test(phrase);
    const term: Term = { tokens: toks.map((t) => t.norm), concept, caseSensitive };
    const list = idx.get(term.tokens[0]!) ?? [];
    list.push(term);
    idx.set(term.tokens[0]!, list);
  };
  for (const entry of ICD10_CODES) {
    const concept: Concept = {
      key: conceptKeyForCode(entry.code),
      icd10: entry.code,
      preferred: entry.description,
    };
    codeIndex.set(entry.code, concept);
    add(entry.description, concept);
    for (const s of entry.synonyms) add(s, concept);
  }
  for (const f of FINDING_CONCEPTS) {
    const concept: Concept = { key: `finding:${f.id}`, icd10: null, preferred: f.terms[0] ?? f.id };
    for (const t of f.terms) add(t, concept);
  }
  for (const list of idx.values()) list.sort((a, b) => b.tokens.length - a.tokens.length);
  return idx;
}

function getIndex(): Map<string, Term[]> {
  termIndex ??= buildIndex();
  return termIndex;
}

export function conceptForCode(code: string): Concept | null {
  getIndex();
  return codeIndex?.get(code) ?? null;
}

/** Words that may sit inside a printed term without changing it ("cyst of the left kidney"). */
const SKIPPABLE_INSIDE = new Set(["left", "right", "bilateral", "both", "the", "l", "r"]);

function matchTerm(tokens: readonly Token[], i: number, term: Term): number {
  let j = i;
  for (let k = 0; k < term.tokens.length; k++) {
    const want = term.tokens[k]!;
    const last = k === term.tokens.length - 1;
    let tok = tokens[j];
    while (
      k > 0 &&
      tok &&
      tok.norm !== want &&
      SKIPPABLE_INSIDE.has(tok.norm) &&
      !SKIPPABLE_INSIDE.has(want)
    ) {
      j++;
      tok = tokens[j];
    }
    if (!tok) return -1;
    const ok =
      tok.norm === want ||
      (last && want.length >= 4 && (tok.norm === `${want}s` || tok.norm === `${want}es`));
    if (!ok) return -1;
    if (term.caseSensitive && tok.raw !== tok.raw.toUpperCase()) return -1;
    // Terms must not straddle a sentence or clause break inside the match.
    j++;
  }
  return j;
}

/** Longest non-overlapping concept mentions, left to right. */
export function findConceptMentions(
  text: string,
  tokens: readonly Token[] = tokenize(text),
): ConceptMention[] {
  const idx = getIndex();
  const out: ConceptMention[] = [];
  let i = 0;
  while (i < tokens.length) {
    const candidates = idx.get(tokens[i]!.norm);
    let best: { term: Term; end: number } | null = null;
    if (candidates) {
      for (const term of candidates) {
        const end = matchTerm(tokens, i, term);
        if (end < 0) continue;
        if (/[.;:!?]/.test(text.slice(tokens[i]!.end, tokens[end - 1]!.start))) continue;
        if (!best || end > best.end) best = { term, end };
      }
    }
    if (best) {
      out.push({
        concept: best.term.concept,
        start: tokens[i]!.start,
        end: tokens[best.end - 1]!.end,
        firstToken: i,
        lastToken: best.end,
      });
      i = best.end;
    } else {
      i++;
    }
  }
  return out;
}
