/**
 * Generated laboratory reports for the on-box extraction (issue 11): the same kind of results
 * (blood count, renal, liver, lipids, thyroid, HbA1c, haematinics, bone) printed the many ways
 * laboratory systems print them:
 * - layouts: a table with its columns in several orders (range before unit, flag before unit,
 *   flag attached to the value), result lines with the range inline ("(ref 3.5-5.1)", "[..]"),
 *   cumulative tables with two to four dated columns (units and range after the dates, or
 *   before them), and tables whose name cells wrap onto a second line;
 * - names: the analyte's usual names and lab-system abbreviations, in capitals or not, with a
 *   specimen written after or before the name ("Sodium, serum", "Serum sodium", "(S)") or a
 *   method qualifier in brackets;
 * - UK laboratories (SI units, British spellings, day-first dates) and US ones (conventional
 *   units, month-first dates);
 * - flags as H/L, HIGH/LOW, "(H)", "[H]", "H*" or none; ranges as "a-b", "a - b", "a to b",
 *   "<b", ">a".
 * Each report has its truth beside it in the corpus's truth format (score.mjs reads both).
 * Deterministic for a seed; synthetic people only. Analytes are named the way laboratories
 * print them, written for this generator and not taken from the terminology tables, so the
 * score measures vocabulary breadth as well as layout.
 */
import { seededRandom } from "../../shared/core/seeded-random";
import { pick, type Random, sample } from "./random-choice";
import { wrap } from "./render-letter-pdf";

export type LabLayout = "table" | "inline" | "cumulative" | "cumulative-units-first" | "wrapped";
export type FlagStyle = "letter" | "word" | "parenthesised" | "bracketed" | "starred" | "none";
export type NameStyle = "usual" | "specimen" | "capitals";
export type LabLocale = "uk" | "us";

export interface LabTruth {
  name_as_printed: string;
  loinc: string;
  value: number;
  unit: string;
  ref_low: number | null;
  ref_high: number | null;
  flag: "H" | "L" | "N";
  observed_at: string;
}

export interface LabReportTruth {
  file: string;
  document_type: "lab_report";
  format: "text";
  service_date: string;
  medications: [];
  diagnoses: [];
  allergies: [];
  labs: LabTruth[];
  variant: { layout: LabLayout; flags: FlagStyle; names: NameStyle; locale: LabLocale };
}

/** A block of the report: free lines, or a table of cells (text pads them, PDF places them). */
export type LabBlock =
  | { kind: "lines"; lines: string[] }
  | {
      kind: "table";
      /** Column titles; null for a table printed without a title row. */
      header: string[] | null;
      /** Cells per printed line (a wrapped name continues on a line of its own). */
      rows: string[][];
      /** Widest a cell of each column may be before it wraps (characters). */
      widths: number[];
    };

export interface GeneratedLabReport {
  file: string;
  text: string;
  blocks: LabBlock[];
  truth: LabReportTruth;
}

interface UnitSpec {
  unit: string;
  low: number | null;
  high: number | null;
  /** Decimals printed. */
  dp: number;
  /** Spread of values drawn around the range (fraction of its width). */
  spread?: number;
}
interface AnalyteSpec {
  loinc: string;
  /** Names by locale; the first is the most usual. */
  names: Readonly<Record<LabLocale, readonly string[]>>;
  units: Readonly<Record<LabLocale, UnitSpec>>;
  /** Serum or plasma chemistry: a specimen may be printed with the name. */
  specimen?: "serum" | "plasma";
  /** A long name that wraps in narrow name columns. */
  long?: string;
}

const both = (names: readonly string[]) => ({ uk: names, us: names });
const same = (u: UnitSpec) => ({ uk: u, us: u });

const PANELS: Readonly<
  Record<string, { title: Record<LabLocale, readonly string[]>; tests: AnalyteSpec[] }>
> = {
  blood_count: {
    title: {
      uk: ["Full blood count", "FULL BLOOD COUNT", "FBC"],
      us: ["CBC", "Complete blood count", "CBC WITH DIFFERENTIAL"],
    },
    tests: [
      {
        loinc: "718-7",
        names: { uk: ["Haemoglobin", "Hb", "HGB"], us: ["Hemoglobin", "HGB", "Hgb"] },
        units: {
          uk: { unit: "g/L", low: 130, high: 170, dp: 0 },
          us: { unit: "g/dL", low: 13.5, high: 17.5, dp: 1 },
        },
      },
      {
        loinc: "6690-2",
        names: {
          uk: ["White cell count", "WCC", "WBC"],
          us: ["WBC", "White blood cell count", "White blood cells"],
        },
        units: {
          uk: { unit: "x10^9/L", low: 4.0, high: 11.0, dp: 1 },
          us: { unit: "K/uL", low: 4.0, high: 11.0, dp: 1 },
        },
        long: "White blood cell count",
      },
      {
        loinc: "777-3",
        names: { uk: ["Platelets", "Platelet count", "PLT"], us: ["Platelets", "PLT", "Platelet count"] },
        units: {
          uk: { unit: "x10^9/L", low: 150, high: 400, dp: 0 },
          us: { unit: "x10^3/uL", low: 150, high: 400, dp: 0 },
        },
      },
      {
        loinc: "789-8",
        names: { uk: ["Red cell count", "RBC"], us: ["RBC", "Red blood cell count"] },
        units: {
          uk: { unit: "x10^12/L", low: 4.5, high: 5.9, dp: 2 },
          us: { unit: "M/uL", low: 4.5, high: 5.9, dp: 2 },
        },
        long: "Red blood cell count",
      },
      {
        loinc: "4544-3",
        names: { uk: ["Haematocrit", "HCT"], us: ["Hematocrit", "HCT"] },
        units: {
          uk: { unit: "L/L", low: 0.4, high: 0.52, dp: 3 },
          us: { unit: "%", low: 40, high: 52, dp: 1 },
        },
      },
      {
        loinc: "787-2",
        names: { uk: ["MCV", "Mean cell volume"], us: ["MCV", "Mean corpuscular volume"] },
        units: same({ unit: "fL", low: 80, high: 100, dp: 0 }),
        long: "Mean corpuscular volume",
      },
      {
        loinc: "785-6",
        names: { uk: ["MCH", "Mean cell haemoglobin"], us: ["MCH"] },
        units: same({ unit: "pg", low: 27, high: 32, dp: 1 }),
      },
    ],
  },
  renal: {
    title: {
      uk: ["Urea and electrolytes", "U&E", "RENAL PROFILE"],
      us: ["Basic metabolic panel", "BMP", "Chemistry"],
    },
    tests: [
      {
        loinc: "2951-2",
        names: both(["Sodium", "Na"]),
        units: {
          uk: { unit: "mmol/L", low: 133, high: 146, dp: 0 },
          us: { unit: "mmol/L", low: 135, high: 145, dp: 0 },
        },
        specimen: "serum",
      },
      {
        loinc: "2823-3",
        names: both(["Potassium", "K"]),
        units: {
          uk: { unit: "mmol/L", low: 3.5, high: 5.3, dp: 1 },
          us: { unit: "mmol/L", low: 3.5, high: 5.1, dp: 1 },
        },
        specimen: "serum",
      },
      {
        loinc: "3094-0",
        names: { uk: ["Urea"], us: ["BUN", "Urea nitrogen", "Blood urea nitrogen"] },
        units: {
          uk: { unit: "mmol/L", low: 2.5, high: 7.8, dp: 1 },
          us: { unit: "mg/dL", low: 7, high: 20, dp: 0 },
        },
        specimen: "serum",
      },
      {
        loinc: "2160-0",
        names: both(["Creatinine", "Creat"]),
        units: {
          uk: { unit: "umol/L", low: 59, high: 104, dp: 0 },
          us: { unit: "mg/dL", low: 0.7, high: 1.3, dp: 2 },
        },
        specimen: "serum",
      },
      {
        loinc: "2075-0",
        names: { uk: ["Chloride"], us: ["Chloride", "Cl"] },
        units: same({ unit: "mmol/L", low: 98, high: 107, dp: 0 }),
        specimen: "serum",
      },
      {
        loinc: "2345-7",
        names: { uk: ["Glucose", "Plasma glucose"], us: ["Glucose", "GLU"] },
        units: {
          uk: { unit: "mmol/L", low: 3.5, high: 6.0, dp: 1 },
          us: { unit: "mg/dL", low: 70, high: 99, dp: 0 },
        },
        specimen: "plasma",
      },
    ],
  },
  liver: {
    title: {
      uk: ["Liver function tests", "LFT", "LIVER PROFILE"],
      us: ["Hepatic function panel", "Liver panel"],
    },
    tests: [
      {
        loinc: "1742-6",
        names: { uk: ["ALT", "Alanine transaminase"], us: ["ALT", "ALT (SGPT)", "Alanine aminotransferase"] },
        units: {
          uk: { unit: "IU/L", low: 0, high: 41, dp: 0 },
          us: { unit: "U/L", low: 7, high: 56, dp: 0 },
        },
        long: "Alanine aminotransferase",
      },
      {
        loinc: "1920-8",
        names: {
          uk: ["AST", "Aspartate transaminase"],
          us: ["AST", "AST (SGOT)", "Aspartate aminotransferase"],
        },
        units: {
          uk: { unit: "IU/L", low: 0, high: 40, dp: 0 },
          us: { unit: "U/L", low: 10, high: 40, dp: 0 },
        },
        long: "Aspartate aminotransferase",
      },
      {
        loinc: "6768-6",
        names: { uk: ["Alkaline phosphatase", "ALP"], us: ["Alkaline phosphatase", "ALK PHOS", "ALP"] },
        units: {
          uk: { unit: "IU/L", low: 30, high: 130, dp: 0 },
          us: { unit: "U/L", low: 44, high: 147, dp: 0 },
        },
        long: "Alkaline phosphatase",
      },
      {
        loinc: "2324-2",
        names: { uk: ["Gamma GT", "GGT"], us: ["GGT", "Gamma-glutamyl transferase"] },
        units: {
          uk: { unit: "IU/L", low: 0, high: 60, dp: 0 },
          us: { unit: "U/L", low: 8, high: 61, dp: 0 },
        },
        long: "Gamma-glutamyl transferase",
      },
      {
        loinc: "1975-2",
        names: {
          uk: ["Bilirubin", "Total bilirubin"],
          us: ["Bilirubin, total", "Total bilirubin", "T. Bili"],
        },
        units: {
          uk: { unit: "umol/L", low: 0, high: 21, dp: 0 },
          us: { unit: "mg/dL", low: 0.1, high: 1.2, dp: 1 },
        },
        specimen: "serum",
      },
      {
        loinc: "1751-7",
        names: both(["Albumin", "Alb"]),
        units: {
          uk: { unit: "g/L", low: 35, high: 50, dp: 0 },
          us: { unit: "g/dL", low: 3.5, high: 5.0, dp: 1 },
        },
        specimen: "serum",
      },
      {
        loinc: "2885-2",
        names: { uk: ["Total protein"], us: ["Total protein", "Protein, total"] },
        units: {
          uk: { unit: "g/L", low: 60, high: 80, dp: 0 },
          us: { unit: "g/dL", low: 6.0, high: 8.3, dp: 1 },
        },
        specimen: "serum",
      },
    ],
  },
  lipids: {
    title: { uk: ["Lipid profile", "LIPIDS"], us: ["Lipid panel", "LIPID PANEL"] },
    tests: [
      {
        loinc: "2093-3",
        names: both(["Total cholesterol", "Cholesterol", "Cholesterol, total"]),
        units: {
          uk: { unit: "mmol/L", low: null, high: 5.0, dp: 1 },
          us: { unit: "mg/dL", low: null, high: 200, dp: 0 },
        },
        specimen: "serum",
      },
      {
        loinc: "2085-9",
        names: both(["HDL cholesterol", "HDL-C", "HDL"]),
        units: {
          uk: { unit: "mmol/L", low: 1.0, high: null, dp: 2 },
          us: { unit: "mg/dL", low: 40, high: null, dp: 0 },
        },
        specimen: "serum",
      },
      {
        loinc: "13457-7",
        names: both(["LDL cholesterol (calc)", "LDL-C (calculated)", "Calculated LDL"]),
        units: {
          uk: { unit: "mmol/L", low: null, high: 3.0, dp: 1 },
          us: { unit: "mg/dL", low: null, high: 100, dp: 0 },
        },
      },
      {
        loinc: "2571-8",
        names: both(["Triglycerides", "Triglyceride", "TRIG"]),
        units: {
          uk: { unit: "mmol/L", low: null, high: 1.7, dp: 1 },
          us: { unit: "mg/dL", low: null, high: 150, dp: 0 },
        },
        specimen: "serum",
      },
    ],
  },
  thyroid: {
    title: { uk: ["Thyroid function tests", "TFT"], us: ["Thyroid panel", "THYROID"] },
    tests: [
      {
        loinc: "3016-3",
        names: {
          uk: ["TSH", "Thyroid stimulating hormone"],
          us: ["TSH", "Thyrotropin", "TSH (3rd generation)"],
        },
        units: {
          uk: { unit: "mU/L", low: 0.27, high: 4.2, dp: 2 },
          us: { unit: "uIU/mL", low: 0.45, high: 4.5, dp: 2 },
        },
        long: "Thyroid stimulating hormone",
      },
      {
        loinc: "3024-7",
        names: { uk: ["Free T4", "FT4", "Free thyroxine"], us: ["Free T4", "FT4", "Thyroxine, free"] },
        units: {
          uk: { unit: "pmol/L", low: 12, high: 22, dp: 1 },
          us: { unit: "ng/dL", low: 0.8, high: 1.8, dp: 2 },
        },
      },
    ],
  },
  diabetes: {
    title: { uk: ["Diabetes monitoring", "HBA1C"], us: ["Diabetes", "GLYCATED HEMOGLOBIN"] },
    tests: [
      {
        loinc: "4548-4",
        names: { uk: ["HbA1c", "HbA1c (IFCC)"], us: ["Hemoglobin A1c", "HbA1c", "A1C"] },
        units: {
          uk: { unit: "mmol/mol", low: 20, high: 41, dp: 0 },
          us: { unit: "%", low: 4.0, high: 5.6, dp: 1 },
        },
      },
    ],
  },
  haematinics: {
    title: { uk: ["Haematinics", "IRON STUDIES"], us: ["Anemia panel", "IRON STUDIES"] },
    tests: [
      {
        loinc: "2276-4",
        names: both(["Ferritin"]),
        units: {
          uk: { unit: "ug/L", low: 30, high: 400, dp: 0 },
          us: { unit: "ng/mL", low: 30, high: 400, dp: 0 },
        },
        specimen: "serum",
      },
      {
        loinc: "2132-9",
        names: { uk: ["Vitamin B12", "B12"], us: ["Vitamin B12", "Cobalamin"] },
        units: {
          uk: { unit: "ng/L", low: 180, high: 900, dp: 0 },
          us: { unit: "pg/mL", low: 200, high: 900, dp: 0 },
        },
        specimen: "serum",
      },
      {
        loinc: "2284-8",
        names: both(["Folate", "Folic acid"]),
        units: {
          uk: { unit: "ug/L", low: 3.0, high: 20.0, dp: 1 },
          us: { unit: "ng/mL", low: 3.0, high: 17.0, dp: 1 },
        },
        specimen: "serum",
      },
    ],
  },
  bone: {
    title: { uk: ["Bone profile", "BONE"], us: ["Bone health", "MINERALS"] },
    tests: [
      {
        loinc: "17861-6",
        names: both(["Calcium", "Ca"]),
        units: {
          uk: { unit: "mmol/L", low: 2.2, high: 2.6, dp: 2 },
          us: { unit: "mg/dL", low: 8.5, high: 10.5, dp: 1 },
        },
        specimen: "serum",
      },
      {
        loinc: "2777-1",
        names: { uk: ["Phosphate"], us: ["Phosphorus", "Phos"] },
        units: {
          uk: { unit: "mmol/L", low: 0.8, high: 1.5, dp: 2 },
          us: { unit: "mg/dL", low: 2.5, high: 4.5, dp: 1 },
        },
        specimen: "serum",
      },
      {
        loinc: "1989-3",
        names: {
          uk: ["Vitamin D (25-OH)", "25-OH vitamin D"],
          us: ["25-Hydroxyvitamin D", "Vitamin D, 25-OH"],
        },
        units: {
          uk: { unit: "nmol/L", low: 50, high: 125, dp: 0 },
          us: { unit: "ng/mL", low: 30, high: 100, dp: 0 },
        },
      },
      {
        loinc: "1988-5",
        names: both(["CRP", "C-reactive protein"]),
        units: same({ unit: "mg/L", low: null, high: 5, dp: 0 }),
        specimen: "serum",
      },
    ],
  },
};

const LAYOUTS: readonly LabLayout[] = ["table", "inline", "cumulative", "cumulative-units-first", "wrapped"];
const FLAG_STYLES: readonly FlagStyle[] = ["letter", "word", "parenthesised", "bracketed", "starred", "none"];
const NAME_STYLES: readonly NameStyle[] = ["usual", "specimen", "capitals"];

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const pad2 = (n: number) => String(n).padStart(2, "0");

interface Day {
  iso: string;
  y: number;
  m: number;
  d: number;
}
function dayOf(epochDay: number): Day {
  const date = new Date(epochDay * 86_400_000);
  const y = date.getUTCFullYear();
  const m = date.getUTCMonth() + 1;
  const d = date.getUTCDate();
  return { iso: `${y}-${pad2(m)}-${pad2(d)}`, y, m, d };
}
/** A date the way the laboratory prints it: day first in the UK, month first in the US. */
function printDate(day: Day, locale: LabLocale, style: number): string {
  if (locale === "uk")
    return [
      `${pad2(day.d)}/${pad2(day.m)}/${day.y}`,
      `${pad2(day.d)}-${MONTHS[day.m - 1]}-${day.y}`,
      `${day.d} ${MONTHS[day.m - 1]} ${day.y}`,
    ][style % 3]!;
  return [
    `${pad2(day.m)}/${pad2(day.d)}/${day.y}`,
    `${MONTHS[day.m - 1]} ${day.d}, ${day.y}`,
    `${day.m}/${day.d}/${day.y}`,
  ][style % 3]!;
}
/** The short form a cumulative table's column title uses. */
function columnDate(day: Day, locale: LabLocale, style: number): string {
  if (style % 2 === 0)
    return locale === "uk"
      ? `${pad2(day.d)}/${pad2(day.m)}/${day.y}`
      : `${pad2(day.m)}/${pad2(day.d)}/${day.y}`;
  return locale === "uk"
    ? `${pad2(day.d)}-${MONTHS[day.m - 1]}-${String(day.y).slice(2)}`
    : `${pad2(day.m)}/${pad2(day.d)}/${String(day.y).slice(2)}`;
}

function drawValue(r: Random, u: UnitSpec): number {
  const low = u.low ?? (u.high !== null ? u.high * 0.4 : 1);
  const high = u.high ?? low * 2.2;
  const width = high - low;
  // Mostly within range; a quarter outside it, within physiological reach.
  const outside = r() < 0.25;
  let v = outside
    ? r() < 0.5
      ? low - width * (0.05 + r() * 0.3)
      : high + width * (0.05 + r() * 0.6)
    : low + width * r();
  if (v <= 0) v = low * (0.5 + r() * 0.4) || width * 0.1;
  const factor = 10 ** u.dp;
  return Math.max(1 / factor, Math.round(v * factor) / factor);
}

function flagOf(v: number, u: UnitSpec): "H" | "L" | "N" {
  if (u.high !== null && v > u.high) return "H";
  if (u.low !== null && v < u.low) return "L";
  return "N";
}

function printFlag(style: FlagStyle, flag: "H" | "L" | "N"): string {
  if (flag === "N" || style === "none") return "";
  switch (style) {
    case "letter":
      return flag;
    case "word":
      return flag === "H" ? "HIGH" : "LOW";
    case "parenthesised":
      return `(${flag})`;
    case "bracketed":
      return `[${flag}]`;
    case "starred":
      return `${flag}*`;
  }
}

function printRange(r: Random, u: UnitSpec, style: number): string {
  const f = (n: number) => n.toFixed(u.dp);
  if (u.low === null) return pick(r, [`<${f(u.high!)}`, `< ${f(u.high!)}`]);
  if (u.high === null) return pick(r, [`>${f(u.low)}`, `> ${f(u.low)}`]);
  return [`${f(u.low)}-${f(u.high)}`, `${f(u.low)} - ${f(u.high)}`, `${f(u.low)} to ${f(u.high)}`][
    style % 3
  ]!;
}

function printName(r: Random, a: AnalyteSpec, locale: LabLocale, style: NameStyle): string {
  const base = pick(r, a.names[locale]);
  if (style === "capitals") return base.toUpperCase();
  if (style === "specimen" && a.specimen) {
    const s = a.specimen;
    const S = s === "serum" ? "S" : "P";
    return pick(r, [
      `${base}, ${s}`,
      `${s[0]!.toUpperCase()}${s.slice(1)} ${base.toLowerCase()}`,
      `${base} (${S})`,
      `${base} (${s})`,
    ]);
  }
  return base;
}

/** Text of a table: cells padded to their column, at least three spaces between columns. */
export function tableLines(block: Extract<LabBlock, { kind: "table" }>): string[] {
  const rows = block.header ? [block.header, ...block.rows] : block.rows;
  const widths = block.widths.map((_, c) => Math.max(...rows.map((row) => (row[c] ?? "").length)));
  return rows.map((row) =>
    row
      .map((cell, c) => (c === row.length - 1 ? cell : cell.padEnd(widths[c]! + 3)))
      .join("")
      .trimEnd(),
  );
}

const LABS = [
  { name: "NORTHGATE PATHOLOGY SERVICE", locale: "uk" },
  { name: "Riverside Hospital Blood Sciences", locale: "uk" },
  { name: "Department of Clinical Biochemistry", locale: "uk" },
  { name: "LAKESIDE CLINICAL LABORATORIES", locale: "us" },
  { name: "Summit Diagnostics, Inc.", locale: "us" },
  { name: "Valley Medical Center Laboratory", locale: "us" },
] as const;

/** One laboratory report for the seed: laboratory, layout, names, flags and results drawn from it. */
export function generateLabReport(seed: number): GeneratedLabReport {
  const r = seededRandom(seed * 7919 + 17);
  const lab = pick(r, LABS);
  const locale: LabLocale = lab.locale;
  const layout = pick(r, LAYOUTS);
  const flags = pick(r, FLAG_STYLES);
  const names = pick(r, NAME_STYLES);
  const dateStyle = Math.floor(r() * 3);
  const rangeStyle = Math.floor(r() * 3);

  const cumulative = layout === "cumulative" || layout === "cumulative-units-first";
  const collectedDay = 19_700 + Math.floor(r() * 700);
  // A cumulative table shows earlier samples to the left; the latest is the report's own.
  const days = [collectedDay];
  if (cumulative)
    for (let n = 1 + Math.floor(r() * 3); n > 0; n--) days.unshift(days[0]! - 7 - Math.floor(r() * 60));
  const dates = days.map(dayOf);
  const collected = dates.at(-1)!;
  const panelNames = sample(
    r,
    Object.keys(PANELS),
    cumulative ? 1 + Math.floor(r() * 2) : 2 + Math.floor(r() * 2),
  );

  const labs: LabTruth[] = [];
  const blocks: LabBlock[] = [];
  const header: string[] = [
    lab.name,
    cumulative
      ? pick(r, ["CUMULATIVE REPORT", "Cumulative results"])
      : pick(r, ["Laboratory Report", "Test results", "Final Report"]),
    "",
    `${pick(r, ["Patient", "Name"])}: ${pick(r, ["Alder, Quinn", "MORROW, JUDE", "Pell, Ada", "Castellan, Rhys"])}    ${pick(r, ["DOB", "Date of birth"])}: ${printDate(dayOf(3_000 + Math.floor(r() * 9_000)), locale, dateStyle)}`,
    `${pick(r, ["Collected", "Specimen collected", "Date collected", "Sample taken"])}: ${printDate(collected, locale, dateStyle)} ${pad2(7 + Math.floor(r() * 4))}:${pad2(Math.floor(r() * 60))}`,
    `${pick(r, ["Reported", "Report date", "Authorised"])}: ${printDate(dayOf(collectedDay + 1), locale, dateStyle)}`,
    `${pick(r, ["Requested by", "Ordering provider", "Requesting clinician"])}: ${pick(r, ["Dr K. Osei", "Dr M. Lindqvist", "Dr R. Abara"])}`,
    "",
  ];
  blocks.push({ kind: "lines", lines: header });

  for (const panel of panelNames) {
    const spec = PANELS[panel]!;
    const tests = sample(r, spec.tests, Math.max(2, Math.ceil(spec.tests.length * (0.6 + r() * 0.4))));
    const title = pick(r, spec.title[locale]);
    const rows = tests.map((a) => {
      const u = a.units[locale];
      const name = layout === "wrapped" && a.long && r() < 0.7 ? a.long : printName(r, a, locale, names);
      const values = dates.map((day) => {
        const value = drawValue(r, u);
        const flag = flagOf(value, u);
        labs.push({
          name_as_printed: name,
          loinc: a.loinc,
          value,
          unit: u.unit,
          ref_low: u.low,
          ref_high: u.high,
          flag,
          observed_at: day.iso,
        });
        return { text: value.toFixed(u.dp), flag };
      });
      return { name, unit: u.unit, range: printRange(r, u, rangeStyle), values };
    });

    if (layout === "inline") {
      const lines = [title.toUpperCase() === title ? title : `${title}:`];
      const refWord = pick(r, ["ref", "ref:", "Ref.", "normal", "reference range"]);
      const style = Math.floor(r() * 3);
      for (const row of rows) {
        const v = row.values[0]!;
        const flag = printFlag(flags, v.flag);
        const range =
          style === 0 ? `(${refWord} ${row.range})` : style === 1 ? `[${row.range}]` : `(${row.range})`;
        lines.push(
          [`${row.name}${style === 2 ? ":" : ""}`, v.text, row.unit, flag, range]
            .filter((s) => s !== "")
            .join(" "),
        );
      }
      blocks.push({ kind: "lines", lines: [...lines, ""] });
      continue;
    }

    blocks.push({ kind: "lines", lines: [title] });
    if (cumulative) {
      const dateTitles = dates.map((d) => columnDate(d, locale, dateStyle));
      const unitsFirst = layout === "cumulative-units-first";
      const cells = (name: string, unit: string, range: string, values: string[]) =>
        unitsFirst ? [name, unit, range, ...values] : [name, ...values, unit, range];
      blocks.push({
        kind: "table",
        header: cells(
          pick(r, ["Test", "Analyte", ""]),
          "Units",
          pick(r, ["Range", "Ref range", "Reference"]),
          dateTitles,
        ),
        rows: rows.map((row) =>
          cells(
            row.name,
            row.unit,
            row.range,
            row.values.map((v) => {
              const flag = printFlag(flags, v.flag);
              return flag ? `${v.text}${flags === "letter" ? "" : " "}${flag}` : v.text;
            }),
          ),
        ),
        widths: cells("x", "x", "x", dateTitles).map(() => 40),
      });
      blocks.push({ kind: "lines", lines: [""] });
      continue;
    }

    // table and wrapped: one result column, columns in one of several orders.
    const order = pick(r, [
      ["name", "result", "flag", "unit", "range"],
      ["name", "result", "unit", "range", "flag"],
      ["name", "result", "range", "unit"],
      ["name", "result", "unit", "range"],
    ] as const);
    const titles: Record<string, string> = {
      name: pick(r, ["Test", "Analyte", "Investigation", "Component"]),
      result: pick(r, ["Result", "Value"]),
      flag: "Flag",
      unit: pick(r, ["Units", "Unit"]),
      range: pick(r, ["Reference range", "Ref. range", "Normal range", "Reference interval"]),
    };
    const flagColumn = order.includes("flag" as never);
    const nameWidth = layout === "wrapped" ? 14 + Math.floor(r() * 6) : 40;
    const tableRows: string[][] = [];
    for (const row of rows) {
      const v = row.values[0]!;
      const flag = printFlag(flags, v.flag);
      const cell: Record<string, string> = {
        name: row.name,
        result: flagColumn || !flag ? v.text : `${v.text} ${flag}`,
        flag,
        unit: row.unit,
        range: row.range,
      };
      const nameLines = wrap(row.name, nameWidth);
      tableRows.push(order.map((c) => (c === "name" ? nameLines[0]! : cell[c]!)));
      for (const more of nameLines.slice(1)) tableRows.push(order.map((c) => (c === "name" ? more : "")));
    }
    blocks.push({
      kind: "table",
      header: order.map((c) => titles[c]!),
      rows: tableRows,
      widths: order.map((c) => (c === "name" ? nameWidth : 24)),
    });
    blocks.push({ kind: "lines", lines: [""] });
  }
  blocks.push({
    kind: "lines",
    lines: [
      pick(r, [
        "Results outside the reference range are flagged.",
        "Reference ranges apply to adults.",
        "Comment: please interpret in the clinical context.",
      ]),
      pick(r, ["Validated by: Biomedical Scientist", "Electronically verified", "End of report"]),
    ],
  });

  const text = blocks.flatMap((b) => (b.kind === "lines" ? b.lines : tableLines(b))).join("\n");
  const file = `labs-${String(seed).padStart(4, "0")}.txt`;
  return {
    file,
    text,
    blocks,
    truth: {
      file,
      document_type: "lab_report",
      format: "text",
      service_date: collected.iso,
      medications: [],
      diagnoses: [],
      allergies: [],
      labs,
      variant: { layout, flags, names, locale },
    },
  };
}
