/**
 * Assertion status of a concept mention inside one sentence: negated (NegEx-style cues with clause
 * scope), uncertain or hypothetical (not reported as a finding), historical, and family history.
 * Cues are matched on normalised word tokens; clause breaks bound their scope.
 */
import type { Token } from "./clinical-lexicon";

export interface Assertion {
  readonly negated: boolean;
  readonly uncertain: boolean;
  readonly historical: boolean;
  readonly familyHistory: boolean;
}

type Cue = readonly string[];

const PRE_NEGATION: readonly Cue[] = [
  ["no"],
  ["not"],
  ["denies"],
  ["denied"],
  ["deny"],
  ["denying"],
  ["without"],
  ["negative", "for"],
  ["neg", "for"],
  ["free", "of"],
  ["absence", "of"],
  ["absent"],
  ["never"],
  ["nor"],
  ["ruled", "out"],
  ["rules", "out"],
  ["no", "evidence", "of"],
  ["resolution", "of"],
  ["non"],
  ["neither"],
];
const PSEUDO_NEGATION: readonly Cue[] = [
  ["no", "change"],
  ["no", "significant", "change"],
  ["no", "interval", "change"],
  ["not", "only"],
  ["no", "increase"],
  ["no", "further"],
  ["without", "difficulty"],
  ["not", "certain"],
  ["gram", "negative"],
  ["not", "excluded"],
  ["cannot", "be", "excluded"],
  ["not", "been", "excluded"],
  ["not", "ruled", "out"],
];
const POST_NEGATION: readonly Cue[] = [
  ["ruled", "out"],
  ["was", "ruled", "out"],
  ["were", "ruled", "out"],
  ["is", "ruled", "out"],
  ["has", "been", "ruled", "out"],
  ["was", "excluded"],
  ["were", "excluded"],
  ["excluded"],
  ["not", "seen"],
  ["not", "identified"],
  ["not", "present"],
  ["not", "demonstrated"],
  ["not", "detected"],
  ["is", "absent"],
  ["are", "absent"],
  ["was", "negative"],
  ["were", "negative"],
  ["negative"],
  ["resolved", "completely"],
];
const UNCERTAIN_PRE: readonly Cue[] = [
  ["possible"],
  ["possibly"],
  ["probable"],
  ["probably"],
  ["likely"],
  ["suspected"],
  ["suspect"],
  ["suspicion"],
  ["suspicious", "for"],
  ["concerning", "for"],
  ["concern", "for"],
  ["worrisome", "for"],
  ["questionable"],
  ["rule", "out"],
  ["r", "o"],
  ["evaluate", "for"],
  ["evaluation", "for"],
  ["evaluation", "of"],
  ["assess", "for"],
  ["screening", "for"],
  ["screen", "for"],
  ["risk", "of"],
  ["risk", "for"],
  ["at", "risk"],
  ["if"],
  ["unless"],
  ["should"],
  ["may"],
  ["might"],
  ["could"],
  ["cannot", "exclude"],
  ["can", "be", "seen", "with"],
  ["differential"],
  ["versus"],
  ["vs"],
  ["consider"],
  ["considering"],
  ["prevent"],
  ["prevention", "of"],
  ["prophylaxis"],
  ["return", "if"],
  ["in", "case", "of"],
  ["watch", "for"],
  ["monitor", "for"],
  ["signs", "of"],
  ["symptoms", "of"],
  ["referral", "for"],
  ["goal"],
  ["counseled"],
  ["counseling"],
  ["discussed"],
];
const UNCERTAIN_POST: readonly Cue[] = [
  ["is", "suspected"],
  ["was", "suspected"],
  ["suspected"],
  ["not", "excluded"],
  ["cannot", "be", "excluded"],
  ["is", "possible"],
  ["is", "likely"],
  ["questioned"],
  ["develops"],
  ["develop"],
  ["recurs"],
  ["worsens"],
  ["goal"],
];
/**
 * "without arrhythmia other than atrial fibrillation": the negated concept is named only to carve
 * out an exception, so the sentence asserts a member of it; neither negated nor asserted.
 */
const EXCEPTION_POST: readonly Cue[] = [["other", "than"], ["except"], ["apart", "from"], ["besides"]];
const HISTORICAL: readonly Cue[] = [
  ["ago"],
  ["previous"],
  ["previously"],
  ["prior"],
  ["remote"],
  ["last"],
  ["resolved"],
];
const FAMILY: readonly string[] = [
  "mother",
  "father",
  "sister",
  "brother",
  "aunt",
  "uncle",
  "grandmother",
  "grandfather",
  "cousin",
  "sibling",
  "siblings",
  "parent",
  "parents",
  "son",
  "daughter",
  "maternal",
  "paternal",
  "mom",
  "dad",
  "niece",
  "nephew",
  "grandparent",
];
/** Words that end the scope of a negation or uncertainty cue (NegEx terminators). */
const TERMINATORS = new Set([
  "but",
  "however",
  "although",
  "though",
  "except",
  "aside",
  "apart",
  "which",
  "whereas",
  "yet",
  "while",
  "other",
  "secondary",
  "presented",
  "presents",
  "presenting",
  "reports",
  "reported",
  "complains",
  "has",
  "had",
  "showed",
  "shows",
]);

function matchCue(tokens: readonly Token[], at: number, cue: Cue): boolean {
  for (let k = 0; k < cue.length; k++) if (tokens[at + k]?.norm !== cue[k]) return false;
  return true;
}

/**
 * Clause id per token: a new clause starts after ; or : or a sentence-internal break, at terminator
 * words, and at "and a/an/the" (a new noun phrase that is not part of a negated list).
 */
export function clauseIds(text: string, tokens: readonly Token[]): number[] {
  const ids: number[] = [];
  let id = 0;
  for (let i = 0; i < tokens.length; i++) {
    const prev = tokens[i - 1];
    if (prev) {
      const gap = text.slice(prev.end, tokens[i]!.start);
      // "Denies: fever, chills" - a colon right after a negation cue introduces its list.
      const cueColon =
        /^\s*:\s*$/.test(gap) && ["denies", "denied", "negative", "no", "without"].includes(prev.norm);
      if (!cueColon && (/[;:()[\]]/.test(gap) || /\.\s/.test(gap))) id++;
      else if (TERMINATORS.has(tokens[i]!.norm)) id++;
      else if (tokens[i]!.norm === "and" && /^(a|an|the|\d+)$/.test(tokens[i + 1]?.norm ?? "")) id++;
    }
    ids.push(id);
  }
  return ids;
}

const MAX_SCOPE = 12;

function precededBy(
  tokens: readonly Token[],
  ids: readonly number[],
  first: number,
  cues: readonly Cue[],
  pseudo: readonly Cue[] = [],
): boolean {
  const clause = ids[first];
  for (let j = first - 1; j >= 0 && first - j <= MAX_SCOPE && ids[j] === clause; j--) {
    for (const cue of cues) {
      if (j + cue.length > first) continue;
      if (!matchCue(tokens, j, cue)) continue;
      if (pseudo.some((p) => matchCue(tokens, j, p))) continue;
      return true;
    }
  }
  return false;
}

function followedBy(
  tokens: readonly Token[],
  ids: readonly number[],
  last: number,
  cues: readonly Cue[],
  window: number,
): boolean {
  const clause = ids[last - 1];
  for (let j = last; j < tokens.length && j - last < window && ids[j] === clause; j++) {
    for (const cue of cues) if (matchCue(tokens, j, cue)) return true;
  }
  return false;
}

export function detectAssertion(
  text: string,
  tokens: readonly Token[],
  ids: readonly number[],
  firstToken: number,
  lastToken: number,
  inFamilySection: boolean,
): Assertion {
  const cueNegated =
    precededBy(tokens, ids, firstToken, PRE_NEGATION, PSEUDO_NEGATION) ||
    followedBy(tokens, ids, lastToken, POST_NEGATION, 4);
  const exception = cueNegated && EXCEPTION_POST.some((cue) => matchCue(tokens, lastToken, cue));
  const negated = cueNegated && !exception;
  const uncertain =
    exception ||
    precededBy(tokens, ids, firstToken, UNCERTAIN_PRE) ||
    followedBy(tokens, ids, lastToken, UNCERTAIN_POST, 3) ||
    /\?/.test(text);
  const historical =
    precededBy(tokens, ids, firstToken, HISTORICAL) || followedBy(tokens, ids, lastToken, HISTORICAL, 6);
  // A relative named before the condition ("Maternal aunt had breast cancer") or after it as its
  // bearer ("breast cancer in her mother"); a relative who merely came along does not count.
  const accompanying = tokens.some((t) => ["accompanied", "brought", "escorted", "lives"].includes(t.norm));
  const relativeBefore = tokens.slice(0, firstToken).some((t) => FAMILY.includes(t.norm));
  const relativeAfter = tokens
    .slice(lastToken, lastToken + 4)
    .some(
      (t, i, after) =>
        FAMILY.includes(t.norm) && after.slice(0, i).some((w) => ["in", "of"].includes(w.norm)),
    );
  const familyHistory =
    inFamilySection ||
    (!accompanying && (relativeBefore || relativeAfter)) ||
    tokens
      .slice(0, firstToken)
      .some((t, i) => t.norm === "family" && ["history", "hx"].includes(tokens[i + 1]?.norm ?? ""));
  return { negated, uncertain, historical, familyHistory };
}
