/**
 * Lab test name lookup: printed name (any of the curated variants, OCR-tolerant) -> LOINC entry.
 */
import { LAB_TESTS, type LabTestDef } from "./terminology/lab-tests";

/**
 * Lower case, micro sign to u, punctuation to single spaces ("%" kept: "% Saturation"), and
 * British spellings folded onto American ones (haemoglobin/hemoglobin, oestradiol/estradiol,
 * faecal/fecal, sulphate/sulfate), so that either spelling of any name in the table is known
 * without listing both. Table and printed names are folded alike.
 */
export function normaliseLabName(s: string): string {
  return s
    .normalize("NFKC")
    .toLowerCase()
    .replace(/[µμ]/g, "u")
    .replace(/[^a-z0-9%]+/g, " ")
    .replace(/ae|oe/g, "e")
    .replace(/sulph/g, "sulf")
    .trim();
}

/**
 * OCR confuses glyphs of similar shape (A1c/Alc/Ale, CO2/C02/COZ, B12/Bl2). Names are also indexed by
 * a "shape key" that folds those glyphs together; it is used only when the exact name is unknown.
 */
export function shapeKey(normalised: string): string {
  return normalised
    .replace(/[0]/g, "o")
    .replace(/[1i|!]/g, "l")
    .replace(/[5]/g, "s")
    .replace(/[2]/g, "z")
    .replace(/e/g, "c");
}

interface NameIndex {
  exact: Map<string, LabTestDef[]>;
  shape: Map<string, LabTestDef[]>;
  /** Longest alias length in words, to bound prefix search. */
  maxWords: number;
}

let index: NameIndex | null = null;

function buildIndex(): NameIndex {
  const exact = new Map<string, LabTestDef[]>();
  const shape = new Map<string, LabTestDef[]>();
  let maxWords = 1;
  const add = (map: Map<string, LabTestDef[]>, key: string, test: LabTestDef) => {
    const list = map.get(key) ?? [];
    if (!list.includes(test)) list.push(test);
    map.set(key, list);
  };
  for (const test of LAB_TESTS) {
    for (const alias of [test.name, ...test.aliases]) {
      const key = normaliseLabName(alias);
      if (!key) continue;
      add(exact, key, test);
      maxWords = Math.max(maxWords, key.split(" ").length);
    }
  }
  for (const [key, tests] of exact) for (const t of tests) add(shape, shapeKey(key), t);
  return { exact, shape, maxWords };
}

function getIndex(): NameIndex {
  index ??= buildIndex();
  return index;
}

export interface LabNameMatch {
  readonly candidates: readonly LabTestDef[];
  /** End offset of the matched name in the original string. */
  readonly end: number;
  readonly matchedName: string;
  readonly fuzzy: boolean;
}

/**
 * Longest known lab name at the start of `text` (after `from`), matched on whole words.
 * Short all-letter aliases (Na, K, Cl, Hb...) must be followed by a non-letter, which the word
 * boundary guarantees.
 */
export function matchLabNameAt(text: string, from = 0): LabNameMatch | null {
  const idx = getIndex();
  // Word tokens with their original offsets.
  const words: { norm: string; start: number; end: number }[] = [];
  const re = /[A-Za-z0-9%µμ]+/g;
  re.lastIndex = from;
  for (let m = re.exec(text); m && words.length < idx.maxWords + 1; m = re.exec(text)) {
    // Stop at a gap of 2+ spaces: table columns, not part of a name.
    const prev = words[words.length - 1];
    if (prev && /\s{2,}/.test(text.slice(prev.end, m.index))) break;
    // Stop at a number that follows the name with a space: it is the result, not part of the name.
    words.push({ norm: normaliseLabName(m[0]), start: m.index, end: m.index + m[0].length });
  }
  if (words.length === 0 || words[0]!.start !== skipSpaces(text, from)) return null;
  // Longest name first; at each length the exact spelling wins over the OCR-tolerant one, so
  // "Hemoglobin Alc" is read as HbA1c rather than as "Hemoglobin" followed by junk.
  for (let n = Math.min(words.length, idx.maxWords); n >= 1; n--) {
    const key = words
      .slice(0, n)
      .map((w) => w.norm)
      .join(" ");
    const hit = idx.exact.get(key);
    if (hit) return { candidates: hit, end: words[n - 1]!.end, matchedName: key, fuzzy: false };
    if (key.length < 3 || /^\d/.test(words[n - 1]!.norm)) continue;
    const fuzzy = idx.shape.get(shapeKey(key));
    if (fuzzy) return { candidates: fuzzy, end: words[n - 1]!.end, matchedName: key, fuzzy: true };
  }
  return null;
}

function skipSpaces(text: string, from: number): number {
  let i = from;
  while (i < text.length && /\s/.test(text[i]!)) i++;
  return i;
}

export interface LabContext {
  /** The current panel/section header mentions urine (urinalysis, dipstick, "urine"). */
  readonly urine: boolean;
}

/**
 * Choose among same-named tests (Glucose serum vs urine dipstick, Protein total vs urine, pH):
 * specimen context, result type and unit compatibility each add evidence.
 */
export function chooseLabTest(
  candidates: readonly LabTestDef[],
  evidence: { context: LabContext; qualitative: boolean | null; ucum: string | null },
): LabTestDef | null {
  if (candidates.length === 0) return null;
  if (candidates.length === 1) return candidates[0]!;
  let best: LabTestDef | null = null;
  let bestScore = -Infinity;
  for (const c of candidates) {
    let score = 0;
    const isUrine = c.specimen === "urine";
    if (evidence.context.urine === isUrine) score += 2;
    if (evidence.qualitative !== null && evidence.qualitative === Boolean(c.qualitative || c.unit === ""))
      score += 2;
    if (evidence.ucum) {
      if (c.unit === evidence.ucum || (c.toCanonical && evidence.ucum in c.toCanonical)) score += 3;
      else if (c.unit === "" && c.qualitative) score -= 2;
    }
    if (score > bestScore) {
      best = c;
      bestScore = score;
    }
  }
  return best;
}

/** Direct lookup of a printed name (exact, then OCR-tolerant). */
export function lookupLabTest(
  printedName: string,
  context: LabContext = { urine: false },
): LabTestDef | null {
  const idx = getIndex();
  const key = normaliseLabName(printedName);
  const hit = idx.exact.get(key) ?? idx.shape.get(shapeKey(key));
  return hit ? chooseLabTest(hit, { context, qualitative: null, ucum: null }) : null;
}
