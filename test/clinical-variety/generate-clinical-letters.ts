/**
 * Generated variety for the on-box extraction (issue 11): the same kind of clinical content
 * (medications, problems, negated findings, allergies) written the many ways clinics write it:
 * heading wordings and styles (colon, capitals, underlined, numbered, title case set apart by
 * spacing), list styles, UK and US spellings and frequencies, negation phrasings (single,
 * listed after one trigger, ended by "but"/"however"), and unrelated sections or a letter's
 * sign-off after each list, which must end it. Each document has its truth beside it, in the
 * corpus's truth format, so the same scorer reads both. Deterministic for a seed; synthetic
 * people only.
 *
 * The content pools use terms the terminology already knows on purpose: this set measures the
 * document mechanics (sections, scopes, lists), not vocabulary breadth, which has its own tests.
 */
import { seededRandom } from "../../shared/core/seeded-random";
import { pick, sample } from "./random-choice";

export interface GeneratedTruth {
  file: string;
  document_type: "clinic_note";
  format: "text";
  service_date: string;
  medications: { name: string }[];
  diagnoses: { text: string; icd10: null; negated: boolean }[];
  allergies: { substance: string; reaction: string | null }[];
  labs: [];
  /** Which variants made this document (for scores by variant). */
  variant: {
    headings: HeadingStyle;
    lists: ListStyle;
    vocabulary: "usual" | "varied";
    negation: NegationStyle;
    locale: Locale;
  };
}

export interface GeneratedDocument {
  file: string;
  text: string;
  /** The letter's lines by part, for layouts that set them differently (two columns). */
  parts: { head: string[]; body: string[]; closing: string[] };
  truth: GeneratedTruth;
}

export type HeadingStyle = "colon" | "capitals" | "underlined" | "numbered" | "title";
export type ListStyle = "bullets" | "plain" | "numbered" | "inline";
export type NegationStyle = "single" | "listed" | "terminated";

/** `us`: the US name where it differs from the British approved name (INN/BAN vs USAN). */
const DRUGS: readonly { name: string; us?: string; doses: readonly string[] }[] = [
  { name: "Metformin", doses: ["500 mg", "850 mg", "1 g"] },
  { name: "Lisinopril", doses: ["5 mg", "10 mg", "20 mg"] },
  { name: "Ramipril", doses: ["2.5 mg", "5 mg", "10 mg"] },
  { name: "Amlodipine", doses: ["5 mg", "10 mg"] },
  { name: "Atorvastatin", doses: ["20 mg", "40 mg", "80 mg"] },
  { name: "Simvastatin", doses: ["20 mg", "40 mg"] },
  { name: "Levothyroxine", doses: ["50 micrograms", "75 mcg", "100 mcg"] },
  { name: "Omeprazole", doses: ["20 mg", "40 mg"] },
  { name: "Lansoprazole", doses: ["15 mg", "30 mg"] },
  { name: "Bisoprolol", doses: ["1.25 mg", "2.5 mg", "5 mg"] },
  { name: "Furosemide", doses: ["20 mg", "40 mg"] },
  { name: "Apixaban", doses: ["2.5 mg", "5 mg"] },
  { name: "Sertraline", doses: ["50 mg", "100 mg"] },
  { name: "Losartan", doses: ["25 mg", "50 mg"] },
  { name: "Allopurinol", doses: ["100 mg", "300 mg"] },
  { name: "Gabapentin", doses: ["300 mg", "600 mg"] },
  { name: "Salbutamol", us: "Albuterol", doses: ["100 micrograms/dose", "2 puffs"] },
  { name: "Tamsulosin", doses: ["400 micrograms", "0.4 mg"] },
  { name: "Paracetamol", us: "Acetaminophen", doses: ["1 g", "500 mg"] },
  { name: "Warfarin", doses: ["3 mg", "5 mg"] },
  { name: "Doxazosin", doses: ["2 mg", "4 mg"] },
  { name: "Citalopram", doses: ["10 mg", "20 mg"] },
];
/** Where a letter was written decides its date order, frequencies and sign-off. */
export type Locale = "uk" | "us";
const FREQUENCIES: Readonly<Record<Locale, readonly string[]>> = {
  uk: ["once daily", "twice daily", "OD", "BD", "at night", "nocte", "every morning", "TDS"],
  us: ["daily", "twice daily", "PO daily", "PO BID", "at bedtime", "three times a day", "every morning"],
};

const PROBLEMS: readonly string[] = [
  "Essential hypertension",
  "Type 2 diabetes mellitus",
  "Hypothyroidism",
  "Asthma",
  "Atrial fibrillation",
  "Osteoarthritis",
  "Gastro-oesophageal reflux disease",
  "Hyperlipidaemia",
  "Chronic kidney disease",
  "Gout",
  "Depression",
  "Migraine",
  "Osteoporosis",
  "Benign prostatic hyperplasia",
  "Heart failure",
  "Chronic obstructive pulmonary disease",
];
/** Conditions a letter rules out; never also among the patient's problems. */
const RULED_OUT: readonly string[] = [
  "chest pain",
  "stroke",
  "pulmonary embolism",
  "pneumonia",
  "myocardial infarction",
  "deep vein thrombosis",
  "fever",
  "syncope",
];
const NEGATIONS: readonly ((finding: string) => string)[] = [
  (f) => `She denies ${f}.`,
  (f) => `No history of ${f}.`,
  (f) => `There is no evidence of ${f}.`,
  (f) => `He reports no ${f}.`,
  (f) => `${f[0]!.toUpperCase()}${f.slice(1)} was ruled out.`,
  (f) => `Negative for ${f}.`,
  (f) => `No ${f}.`,
];
const joinList = (items: readonly string[]) =>
  items.length < 2 ? (items[0] ?? "") : `${items.slice(0, -1).join(", ")} or ${items.at(-1)}`;
/** "No fever, cough or chest pain": every finding of the list is negated. */
const LIST_NEGATIONS: readonly ((findings: readonly string[]) => string)[] = [
  (f) => `She denies ${joinList(f)}.`,
  (f) => `No ${joinList(f)}.`,
  (f) => `There was no evidence of ${joinList(f)} on assessment.`,
];
/** A negation whose scope ends at "but"/"however": the problem after it stays asserted. */
const TERMINATED_NEGATIONS: readonly ((finding: string, present: string) => string)[] = [
  (f, p) => `No ${f}, but she has ${p.toLowerCase()}.`,
  (f, p) => `He denies ${f}; however he has known ${p.toLowerCase()}.`,
];

const ALLERGENS: readonly string[] = [
  "Penicillin",
  "Amoxicillin",
  "Codeine",
  "Morphine",
  "Aspirin",
  "Ibuprofen",
  "Latex",
  "Peanuts",
  "Shellfish",
  "Erythromycin",
  "Trimethoprim",
  "Clarithromycin",
  "Sulfonamides",
];
const REACTIONS = ["rash", "hives", "anaphylaxis", "facial swelling", "nausea", "wheeze", "angioedema"];

/** Heading wordings per section: the usual first, then the ones clinics also use. */
const HEADINGS = {
  medications: [
    "Medications",
    "Current medications",
    "Current medicines",
    "Regular medications",
    "Repeat medications",
    "Drug history",
    "Medicines",
    "Regular medicines",
    "Current drug treatment",
    "Prescribed medications",
    "Medication on admission",
    "Home medicines",
    "Medication reconciliation",
    "Your medicines",
    "Long-term medications",
  ],
  allergies: [
    "Allergies",
    "Known allergies",
    "Drug allergies",
    "Allergies and sensitivities",
    "Adverse drug reactions",
    "Intolerances",
    "Allergy status",
    "Allergies & intolerances",
    "Sensitivities",
    "Reactions to medicines",
    "Allergy and intolerance record",
  ],
  problems: [
    "Problem list",
    "Diagnoses",
    "Active problems",
    "Current problems",
    "Medical problems",
    "Active conditions",
    "Ongoing problems",
    "Comorbidities",
    "Past medical history",
    "Medical background",
    "Background",
    "Significant history",
    "Health problems",
    "Long-term conditions",
    "Known diagnoses",
  ],
} as const;

/** Sections a letter has after a list, under headings no table lists: each must end the list. */
const FOLLOWING: readonly { heading: string; body: string[] }[] = [
  { heading: "Social circumstances", body: ["Lives with her partner. Independent with daily activities."] },
  {
    heading: "Plan going forward",
    body: ["Continue current treatment.", "Review in clinic in three months."],
  },
  { heading: "Safety netting", body: ["Advised to seek help if symptoms worsen."] },
  { heading: "Information given", body: ["Leaflet provided on diet and exercise."] },
  { heading: "Next review", body: ["Telephone review in six weeks."] },
  { heading: "Actions for GP", body: ["Please repeat renal function in two weeks."] },
  { heading: "Outcome", body: ["Discharged back to the care of the GP."] },
  { heading: "Things we discussed", body: ["We talked about her blood pressure readings at home."] },
  { heading: "Driving", body: ["She may continue to drive."] },
  { heading: "Wound care", body: ["Keep the dressing dry for five days."] },
];

const CLOSINGS: Readonly<Record<Locale, readonly string[][]>> = {
  uk: [
    ["Yours sincerely,", "", "Dr Elena Marsh", "Consultant Physician"],
    ["Kind regards", "", "Dr Tomas Reyes MRCP", "Specialty Registrar"],
    ["Best wishes,", "Dr Hannah Olsen", "General Practitioner", "cc: Patient"],
  ],
  us: [
    ["Electronically signed by", "Dr Priya Natarajan, MD", "Internal Medicine"],
    ["Sincerely,", "", "Marcus Bell, MD", "Family Medicine"],
    ["Signed", "Dana Whitaker, NP", "Primary Care"],
  ],
};

function heading(style: HeadingStyle, words: string, index: number): string[] {
  switch (style) {
    case "colon":
      return [`${words}:`];
    case "capitals":
      return [words.toUpperCase()];
    case "underlined":
      return [words, "-".repeat(words.length)];
    case "numbered":
      return [`${index}. ${words.toUpperCase()}`];
    case "title":
      return [
        words
          .split(" ")
          .map((w) => (w.length > 2 || w === "&" ? `${w[0]!.toUpperCase()}${w.slice(1)}` : w))
          .join(" "),
      ];
  }
}

function list(style: ListStyle, items: readonly string[]): string[] {
  switch (style) {
    case "bullets":
      return items.map((i) => `• ${i}`);
    case "plain":
      return [...items];
    case "numbered":
      return items.map((i, n) => `${n + 1}) ${i}`);
    case "inline":
      return [items.join("; ")];
  }
}

const HEADING_STYLES: readonly HeadingStyle[] = ["colon", "capitals", "underlined", "numbered", "title"];
const LIST_STYLES: readonly ListStyle[] = ["bullets", "plain", "numbered", "inline"];

/** One clinic letter for the seed: heading and list styles, wordings and content all drawn from it. */
export function generateClinicalLetter(seed: number): GeneratedDocument {
  const r = seededRandom(seed);
  const headings = pick(r, HEADING_STYLES);
  const lists = pick(r, LIST_STYLES);
  const usualWording = r() < 0.3;
  const locale: Locale = r() < 0.5 ? "uk" : "us";
  const wording = (kind: keyof typeof HEADINGS) =>
    usualWording ? HEADINGS[kind][0] : pick(r, HEADINGS[kind]);

  const drugs = sample(r, DRUGS, 2 + Math.floor(r() * 4)).map((d) => {
    const name = locale === "us" ? (d.us ?? d.name) : d.name;
    return { name, line: `${name} ${pick(r, d.doses)} ${pick(r, FREQUENCIES[locale])}` };
  });
  const problems = sample(r, PROBLEMS, 2 + Math.floor(r() * 3));
  const ruledOut = sample(r, RULED_OUT, 1 + Math.floor(r() * 2));
  const allergies = r() < 0.2 ? [] : sample(r, ALLERGENS, 1 + Math.floor(r() * 2));
  const allergyLines = allergies.map((a) => {
    const reaction = r() < 0.75 ? pick(r, REACTIONS) : null;
    const line = reaction ? pick(r, [`${a} - ${reaction}`, `${a} (${reaction})`, `${a}: ${reaction}`]) : a;
    return { substance: a, reaction, line };
  });
  const negationDraw = r();
  const negation: NegationStyle =
    negationDraw < 0.45 ? "single" : negationDraw < 0.8 ? "listed" : "terminated";
  const narrative =
    negation === "single"
      ? ruledOut.map((f) => pick(r, NEGATIONS)(f)).join(" ")
      : negation === "listed"
        ? pick(r, LIST_NEGATIONS)(ruledOut)
        : `${pick(r, TERMINATED_NEGATIONS)(ruledOut[0]!, problems[0]!)} ${ruledOut
            .slice(1)
            .map((f) => pick(r, NEGATIONS)(f))
            .join(" ")}`.trim();
  const month = 1 + Math.floor(r() * 12);
  const day = 1 + Math.floor(r() * 28);
  const iso = `2025-${String(month).padStart(2, "0")}-${String(day).padStart(2, "0")}`;

  const sections: { kind: keyof typeof HEADINGS; lines: string[] }[] = [];
  sections.push({ kind: "problems", lines: list(lists === "inline" ? "bullets" : lists, problems) });
  sections.push({
    kind: "medications",
    lines: list(
      lists,
      drugs.map((d) => d.line),
    ),
  });
  sections.push({
    kind: "allergies",
    lines:
      allergies.length === 0
        ? [pick(r, ["No known drug allergies", "NKDA", "None known"])]
        : list(
            lists === "inline" ? "plain" : lists,
            allergyLines.map((a) => a.line),
          ),
  });
  // Shuffle the three lists, then put an unrelated section after most of them.
  const ordered = sample(r, sections, sections.length);
  const body: string[] = [];
  let index = 1;
  for (const section of ordered) {
    body.push(...heading(headings, wording(section.kind), index++), ...section.lines, "");
    if (r() < 0.7) {
      const following = pick(r, FOLLOWING);
      body.push(...heading(headings, following.heading, index++), ...following.body, "");
    }
  }

  const head = [
    pick(r, [
      "NORTHGATE MEDICAL PRACTICE",
      "Riverside Outpatient Clinic",
      "ST BRENDA'S HOSPITAL - DIABETES CENTRE",
    ]),
    pick(r, ["Clinic letter", "Outpatient clinic letter", "Clinic Note"]),
    locale === "uk"
      ? `${pick(r, ["Date of clinic", "Clinic date", "Seen in clinic on"])}: ${String(day).padStart(2, "0")}/${String(month).padStart(2, "0")}/2025`
      : `${pick(r, ["Visit date", "Date of service", "Encounter date"])}: ${String(month).padStart(2, "0")}/${String(day).padStart(2, "0")}/2025`,
    "",
    "Dear Dr Whitfield,",
    "",
    `I reviewed this patient in clinic today for follow-up. ${narrative}`,
    "",
  ];
  const closing = [...pick(r, CLOSINGS[locale]), ""];
  const text = [...head, ...body, ...closing].join("\n");

  const file = `variety-${String(seed).padStart(4, "0")}.txt`;
  return {
    file,
    text,
    parts: { head, body, closing },
    truth: {
      file,
      document_type: "clinic_note",
      format: "text",
      service_date: iso,
      medications: drugs.map((d) => ({ name: d.name })),
      diagnoses: [
        ...problems.map((p) => ({ text: p, icd10: null, negated: false })),
        ...ruledOut.map((f) => ({ text: f, icd10: null, negated: true })),
      ],
      allergies: allergyLines.map((a) => ({ substance: a.substance, reaction: a.reaction })),
      labs: [],
      variant: { headings, lists, vocabulary: usualWording ? "usual" : "varied", negation, locale },
    },
  };
}
