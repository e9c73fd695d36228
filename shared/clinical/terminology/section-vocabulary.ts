/**
 * The words section headings are made of, so a heading is classified by what it says rather
 * than looked up as a whole phrase: "Current medicines", "Drug history", "Regular medications",
 * "Known drug allergies", "Allergies and sensitivities", "Active conditions", "Medical
 * background" all resolve without being listed. Head words name the section's content (with a
 * priority when a heading has several: "Medication allergies" is an allergy list); modifiers
 * and fillers may surround them. Compiled from the section names of HL7 C-CDA (R2.1 section
 * titles), the UK PRSB standard headings for clinical letters and discharge summaries, and
 * common EHR print layouts; none comes from a test document.
 */
import type { SectionKind } from "../document-lines";

export interface HeadWord {
  readonly kind: SectionKind;
  /** Higher wins when a heading holds head words of several kinds. */
  readonly priority: number;
}

export interface HeadWordList extends HeadWord {
  readonly words: readonly string[];
}

const head = (kind: SectionKind, priority: number, words: readonly string[]): HeadWordList => ({
  kind,
  priority,
  words,
});

/** The head-word lists as written (a test checks no word is in two of them). */
export const SECTION_HEAD_WORD_LISTS: readonly HeadWordList[] = [
  head("allergies", 100, [
    "allergy",
    "allergies",
    "allergen",
    "allergens",
    "intolerance",
    "intolerances",
    "sensitivity",
    "sensitivities",
    "reactions",
    "adrs",
    "alerts",
  ]),
  head("family_history", 90, ["family", "fh", "fhx"]),
  head("social_history", 80, [
    "social",
    "lifestyle",
    "circumstances",
    "surgical",
    "surgeries",
    "operations",
    "operative",
    "procedures",
    "habits",
    "occupation",
    "smoking",
    "alcohol",
  ]),
  // A list of drugs that were stopped or held is not the current medication list.
  head("other", 75, ["stopped", "discontinued", "ceased", "held", "withheld", "suspended", "changes"]),
  head("medications", 60, [
    "medication",
    "medications",
    "medicine",
    "medicines",
    "meds",
    "drug",
    "drugs",
    "prescription",
    "prescriptions",
    "prescribed",
    "tablets",
    "rx",
    "pharmacotherapy",
    "regimen",
    "treatment",
    "treatments",
    "therapy",
    "therapies",
  ]),
  head("vitals", 55, ["vitals", "vital", "observations", "obs"]),
  head("problems", 50, [
    "problem",
    "problems",
    "diagnosis",
    "diagnoses",
    "dx",
    "conditions",
    "condition",
    "issues",
    "comorbidities",
    "comorbidity",
    "morbidities",
  ]),
  head("pmh", 50, ["background", "pmh", "pmhx"]),
  head("ros", 45, ["ros", "systems"]),
  head("exam", 45, ["examination", "exam", "o/e"]),
  head("results", 40, [
    "results",
    "investigations",
    "labs",
    "bloods",
    "laboratory",
    "tests",
    "pathology",
    "imaging",
    "radiology",
  ]),
  head("assessment_plan", 35, ["assessment"]),
  head("impression", 30, ["impression", "impressions", "summary", "conclusion", "conclusions", "opinion"]),
  head("plan", 20, [
    "plan",
    "plans",
    "recommendations",
    "recommendation",
    "actions",
    "action",
    "management",
    "steps",
    "disposition",
    "instructions",
    "outcome",
    "review",
    "follow-up",
    "followup",
    "advice",
    "netting",
  ]),
  head("chief_complaint", 15, ["complaint", "complaints", "referral", "reason"]),
  head("other", 12, [
    "information",
    "comments",
    "comment",
    "notes",
    "note",
    "correspondence",
    "immunisations",
    "immunizations",
    "vaccinations",
    "contacts",
  ]),
  head("hpi", 10, ["history", "hx", "hpi", "subjective"]),
];

/** Lower-case head words -> the section they name. */
export const SECTION_HEAD_WORDS: ReadonlyMap<string, HeadWord> = new Map(
  SECTION_HEAD_WORD_LISTS.flatMap(({ kind, priority, words }) =>
    words.map((w) => [w, { kind, priority }] as const),
  ),
);

/**
 * Words a heading may hold besides head words. Some also qualify the head: "medical history"
 * and "past history" are the past medical history, not the present illness.
 */
export const SECTION_MODIFIERS: ReadonlySet<string> = new Set([
  "current",
  "active",
  "regular",
  "repeat",
  "home",
  "known",
  "past",
  "previous",
  "prior",
  "recent",
  "significant",
  "relevant",
  "ongoing",
  "chronic",
  "medical",
  "list",
  "lists",
  "of",
  "the",
  "and",
  "&",
  "/",
  "or",
  "on",
  "at",
  "to",
  "for",
  "with",
  "by",
  "in",
  "admission",
  "discharge",
  "patient",
  "patients",
  "patient's",
  "pre-admission",
  "status",
  "other",
  "additional",
  "new",
  "usual",
  "given",
  "going",
  "forward",
  "next",
  "main",
  "principal",
  "primary",
  "secondary",
  "major",
  "key",
  "general",
  "safety",
  "important",
  "outpatient",
  "inpatient",
  "adverse",
  "presenting",
  "present",
  "illness",
  "care",
  "clinical",
  "further",
  "agreed",
  "dose",
  "doses",
  "long-term",
  "term",
  "long",
  "encounter",
  "visit",
  "today",
  "today's",
  "this",
  "hospital",
  "pertinent",
]);

/** Modifiers that turn a "history" heading into the past medical history. */
export const PAST_HISTORY_MODIFIERS: ReadonlySet<string> = new Set([
  "medical",
  "past",
  "previous",
  "significant",
  "relevant",
]);
