/**
 * Precision, recall and F1 of an extraction against a generated truth, with the matching rules
 * of the corpus scorer (../shared/corpus/score.mjs) for the kinds the generated letters carry:
 * one-to-one matches per document, micro-averaged. Medications by normalised drug name,
 * diagnoses by normalised text (equal, or one token set inside the other) with the negated
 * flag agreeing, allergies by normalised substance (same rule). Duplicate predictions with
 * the same key count once.
 */
import type { ClinicalExtraction } from "../../shared/clinical/schema";
import type { GeneratedTruth } from "./generate-clinical-letters";
import type { LabTruth } from "./generate-lab-reports";

export interface Tally {
  truePositives: number;
  predicted: number;
  expected: number;
}

export const emptyTally = (): Tally => ({ truePositives: 0, predicted: 0, expected: 0 });

export function f1Of(t: Tally): { precision: number; recall: number; f1: number } {
  const precision = t.predicted === 0 ? (t.expected === 0 ? 1 : 0) : t.truePositives / t.predicted;
  const recall = t.expected === 0 ? 1 : t.truePositives / t.expected;
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return { precision, recall, f1 };
}

export function addTally(into: Tally, t: Tally): void {
  into.truePositives += t.truePositives;
  into.predicted += t.predicted;
  into.expected += t.expected;
}

const STOP = new Set(["of", "the", "a", "an", "and", "in", "on", "to", "for", "with"]);
const tokens = (s: string) =>
  s
    .normalize("NFKC")
    .toLowerCase()
    .replace(/ae/g, "e")
    .replace(/oe/g, "e")
    .replace(/['’`]/g, "")
    .split(/[^a-z0-9]+/)
    .filter((t) => t && !STOP.has(t));
const subset = (a: string[], b: string[]) => a.length > 0 && a.every((t) => b.includes(t));
const textMatch = (a: string, b: string) => {
  const x = tokens(a);
  const y = tokens(b);
  return subset(x, y) || subset(y, x);
};
const drugKey = (name: string) => tokens(name)[0] ?? "";

function tallyOf<P, T>(
  predicted: readonly P[],
  expected: readonly T[],
  keyOf: (p: P) => string,
  matches: (p: P, t: T) => boolean,
): Tally {
  const seen = new Set<string>();
  const unique = predicted.filter((p) => {
    const k = keyOf(p);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
  const open = [...expected];
  let truePositives = 0;
  for (const p of unique) {
    const i = open.findIndex((t) => matches(p, t));
    if (i >= 0) {
      open.splice(i, 1);
      truePositives++;
    }
  }
  return { truePositives, predicted: unique.length, expected: expected.length };
}

export interface DocumentScore {
  medications: Tally;
  diagnoses: Tally;
  allergies: Tally;
  /** Negated truth diagnoses that came out asserted (shown as active): must stay 0. */
  negatedShownActive: number;
}

export function scoreDocument(prediction: ClinicalExtraction, truth: GeneratedTruth): DocumentScore {
  const medications = tallyOf(
    prediction.medications,
    truth.medications,
    (m) => drugKey(m.generic_name ?? m.name),
    (m, t) => drugKey(m.generic_name ?? m.name) === drugKey(t.name) || drugKey(m.name) === drugKey(t.name),
  );
  const diagnoses = tallyOf(
    prediction.diagnoses,
    truth.diagnoses,
    (d) => `${tokens(d.text).join(" ")}|${d.negated}`,
    (d, t) => d.negated === t.negated && textMatch(d.text, t.text),
  );
  const allergies = tallyOf(
    prediction.allergies,
    truth.allergies,
    (a) => tokens(a.substance).join(" "),
    (a, t) => textMatch(a.substance, t.substance),
  );
  const negatedShownActive = truth.diagnoses.filter(
    (t) => t.negated && prediction.diagnoses.some((d) => !d.negated && textMatch(d.text, t.text)),
  ).length;
  return { medications, diagnoses, allergies, negatedShownActive };
}

/**
 * Lab results, stricter than the corpus scorer: the same LOINC code, the value within 1 % (both
 * as printed, in the printed unit) and the same collection date, so a cumulative table's value
 * read under the wrong date does not count.
 */
export function scoreLabs(prediction: ClinicalExtraction, truth: readonly LabTruth[]): Tally {
  const open = [...truth];
  let truePositives = 0;
  for (const p of prediction.labs) {
    const value = typeof p.value === "number" ? p.value : Number.NaN;
    const i = open.findIndex(
      (t) =>
        t.loinc === p.loinc &&
        Math.abs(t.value - value) <= Math.max(Math.abs(t.value) * 0.01, 1e-9) &&
        t.observed_at === p.observed_at,
    );
    if (i >= 0) {
      open.splice(i, 1);
      truePositives++;
    }
  }
  return { truePositives, predicted: prediction.labs.length, expected: truth.length };
}
