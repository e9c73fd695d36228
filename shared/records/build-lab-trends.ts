/**
 * Lab trends: a patient's dated numeric results grouped by test (LOINC, else the printed name),
 * in one unit (the normalised one when the record has it), oldest first, with the reference
 * range and the direction of the latest change.
 *
 * Direction does not need a list of every marker: moving TOWARD the reference range is
 * improving, moving away is worsening, staying inside it is stable. A short table of markers
 * where one side is better even at the range edge (HbA1c, LDL lower; HDL, eGFR higher) decides
 * for those when a value is outside the range or no range was printed. A change within
 * STABLE_TOLERANCE is stable. Without a range and without a known better side, a change is
 * "unknown": no guess.
 */
import type { FactProvenance, PatientRecord, RecordLab } from "./build-patient-record";

export type TrendDirection = "improving" | "worsening" | "stable" | "unknown";
export type MarkerPreference = "lower" | "higher";

/**
 * Markers with a better side (LOINC). Sources: ADA Standards of Care (HbA1c, glucose), ACC/AHA
 * cholesterol guideline (LDL, non-HDL, total cholesterol, triglycerides lower; HDL higher),
 * KDIGO 2024 (eGFR higher, urine albumin/creatinine lower), and inflammation/injury markers
 * (CRP, ALT, AST, NT-proBNP, BNP) whose rise is the concern. Not listed: anything where both
 * too low and too high are bad (potassium, sodium, TSH, hemoglobin...): the range decides.
 */
export const MARKER_PREFERENCES: Readonly<Record<string, MarkerPreference>> = {
  "4548-4": "lower", // Hemoglobin A1c/Hemoglobin.total in Blood
  "17856-6": "lower", // Hemoglobin A1c/Hemoglobin.total in Blood by HPLC
  "59261-8": "lower", // Hemoglobin A1c/Hemoglobin.total in Blood by IFCC (mmol/mol)
  "1558-6": "lower", // Fasting glucose [Mass/volume] in Serum or Plasma
  "2345-7": "lower", // Glucose [Mass/volume] in Serum or Plasma
  "13457-7": "lower", // Cholesterol in LDL [Mass/volume] by calculation
  "18262-6": "lower", // Cholesterol in LDL [Mass/volume] by Direct assay
  "2089-1": "lower", // Cholesterol in LDL [Mass/volume] in Serum or Plasma
  "43396-1": "lower", // Cholesterol non HDL [Mass/volume]
  "2093-3": "lower", // Cholesterol [Mass/volume] in Serum or Plasma
  "2571-8": "lower", // Triglyceride [Mass/volume] in Serum or Plasma
  "2085-9": "higher", // Cholesterol in HDL [Mass/volume] in Serum or Plasma
  "33914-3": "higher", // eGFR (MDRD)
  "62238-1": "higher", // eGFR (CKD-EPI)
  "98979-8": "higher", // eGFR (CKD-EPI 2021)
  "48642-3": "higher", // eGFR non-black
  "48643-1": "higher", // eGFR black
  "69405-9": "higher", // eGFR
  "9318-7": "lower", // Albumin/Creatinine [Mass Ratio] in Urine
  "14959-1": "lower", // Microalbumin/Creatinine [Mass Ratio] in Urine
  "1988-5": "lower", // C reactive protein [Mass/volume] in Serum or Plasma
  "30522-7": "lower", // C reactive protein, high sensitivity
  "1742-6": "lower", // Alanine aminotransferase
  "1920-8": "lower", // Aspartate aminotransferase
  "33762-6": "lower", // NT-proBNP
  "30934-4": "lower", // BNP
};

const UNCHARTED_REVIEWS: ReadonlySet<string> = new Set(["implausible_value", "decimal_suspect"]);

/** A change smaller than this share of the previous value (or of the range width) is noise. */
export const STABLE_TOLERANCE = 0.05;

export interface TrendPoint {
  observedAt: string;
  value: number;
  flag: "H" | "L" | "N" | null;
  provenance: FactProvenance[];
}

export interface LabTrend {
  /** LOINC, or "name:<lower-case printed name>" when the record has no code. */
  key: string;
  loinc: string | null;
  name: string;
  unit: string | null;
  refLow: number | null;
  refHigh: number | null;
  preference: MarkerPreference | null;
  points: TrendPoint[];
  /** The latest change (last point against the one before); "stable" with one point. */
  direction: TrendDirection;
  /** The latest value is outside the reference range. */
  outOfRange: boolean;
}

interface Scaled {
  lab: RecordLab;
  value: number;
  unit: string | null;
  /** Factor from printed to the series unit (1 when printed). */
  factor: number;
}

function scaled(lab: RecordLab): Scaled | null {
  if (typeof lab.value !== "number" || !Number.isFinite(lab.value)) return null;
  if (lab.valueNormalized !== null && lab.unitNormalized && lab.value !== 0) {
    return {
      lab,
      value: lab.valueNormalized,
      unit: lab.unitNormalized,
      factor: lab.valueNormalized / lab.value,
    };
  }
  return { lab, value: lab.value, unit: lab.unitUcum ?? lab.unit, factor: 1 };
}

/** How far outside [low, high] a value is (0 inside); null without a range. */
export function distanceOutside(value: number, low: number | null, high: number | null): number | null {
  if (low === null && high === null) return null;
  if (low !== null && value < low) return low - value;
  if (high !== null && value > high) return value - high;
  return 0;
}

export function trendDirection(
  previous: number,
  latest: number,
  range: { low: number | null; high: number | null },
  preference: MarkerPreference | null,
): TrendDirection {
  const width =
    range.low !== null && range.high !== null && range.high > range.low ? range.high - range.low : null;
  const tolerance = STABLE_TOLERANCE * (width ?? Math.max(Math.abs(previous), Number.EPSILON));
  const delta = latest - previous;
  if (Math.abs(delta) <= tolerance) return "stable";
  const before = distanceOutside(previous, range.low, range.high);
  const after = distanceOutside(latest, range.low, range.high);
  if (before === 0 && after === 0) return "stable";
  if (preference) return (preference === "lower") === delta < 0 ? "improving" : "worsening";
  if (before === null || after === null) return "unknown";
  if (Math.abs(after - before) <= tolerance) return "stable";
  return after < before ? "improving" : "worsening";
}

export function buildLabTrends(record: Pick<PatientRecord, "labs">): LabTrend[] {
  const series = new Map<string, Scaled[]>();
  for (const lab of record.labs) {
    if (!lab.observedAt) continue;
    // A number that is probably misread (outside a living patient's range, a lost decimal point)
    // would draw a spike that is not the patient's: it stays in the record, marked, off the chart.
    if (lab.review.some((r) => UNCHARTED_REVIEWS.has(r))) continue;
    const s = scaled(lab);
    if (!s) continue;
    const key = `${lab.loinc ?? `name:${lab.name.trim().toLowerCase()}`}|${s.unit ?? ""}`;
    const list = series.get(key) ?? [];
    list.push(s);
    series.set(key, list);
  }
  const trends: LabTrend[] = [];
  for (const [key, points] of series) {
    points.sort((a, b) =>
      a.lab.observedAt! < b.lab.observedAt! ? -1 : a.lab.observedAt! > b.lab.observedAt! ? 1 : 0,
    );
    const latest = points.at(-1)!;
    const withRange = [...points].reverse().find((p) => p.lab.refLow !== null || p.lab.refHigh !== null);
    const refLow = withRange?.lab.refLow != null ? withRange.lab.refLow * withRange.factor : null;
    const refHigh = withRange?.lab.refHigh != null ? withRange.lab.refHigh * withRange.factor : null;
    const loinc = latest.lab.loinc;
    const preference = loinc ? (MARKER_PREFERENCES[loinc] ?? null) : null;
    const previous = points.at(-2);
    const direction = previous
      ? trendDirection(previous.value, latest.value, { low: refLow, high: refHigh }, preference)
      : "stable";
    const outside = distanceOutside(latest.value, refLow, refHigh);
    trends.push({
      key: key.split("|")[0]!,
      loinc,
      name: latest.lab.name,
      unit: latest.unit,
      refLow,
      refHigh,
      preference,
      points: points.map((p) => ({
        observedAt: p.lab.observedAt!,
        value: p.value,
        flag: p.lab.flag,
        provenance: p.lab.provenance,
      })),
      direction,
      outOfRange: outside !== null ? outside > 0 : latest.lab.flag === "H" || latest.lab.flag === "L",
    });
  }
  return trends.sort((a, b) => a.name.localeCompare(b.name));
}
