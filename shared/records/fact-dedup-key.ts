/**
 * What makes two extracted facts "the same" in a patient's record, as one string stored with
 * every fact (extracted_facts.dedup_key) and grouped on when the record is built:
 *
 *   lab        LOINC (or the normalised printed name) | observed date | value (canonical unit when known)
 *   diagnosis  ICD-10-CM (or the lower-cased text) | negated | family history
 *   medication generic name (or the printed name) | dose
 *   allergy    substance
 *   vital      type | value | unit | the document's service date
 *
 * Negated and family-history diagnoses never merge with affirmed ones: "denies chest pain" and
 * "chest pain" are different statements about the patient.
 */
import type { Allergy, Diagnosis, LabResult, Medication, Vital } from "../clinical/schema";

export type FactKind = "lab" | "medication" | "diagnosis" | "allergy" | "vital";

/** extracted_facts.dedup_key is at most 600 characters; free-text parts are capped well below. */
const MAX_PART_CHARS = 160;

/** Lower case, one space between words, no surrounding punctuation, capped. */
export function normaliseText(s: string): string {
  return s
    .normalize("NFKC")
    .toLowerCase()
    .replace(/\s+/g, " ")
    .replace(/^[\s.,;:]+|[\s.,;:]+$/g, "")
    .slice(0, MAX_PART_CHARS);
}

/** 6 significant digits: equal printed values stay equal after a unit conversion's float noise. */
function canonicalNumber(n: number): string {
  return String(Number(n.toPrecision(6)));
}

function labValueKey(lab: LabResult): string {
  if (lab.value_normalized !== null) {
    return `${canonicalNumber(lab.value_normalized)} ${lab.unit_normalized ?? ""}`.trim();
  }
  const value = typeof lab.value === "number" ? canonicalNumber(lab.value) : normaliseText(lab.value);
  const unit = lab.unit_ucum ?? (lab.unit ? normaliseText(lab.unit) : "");
  return `${value} ${unit}`.trim();
}

export function labDedupKey(lab: LabResult): string {
  const test = lab.loinc ? `loinc:${lab.loinc}` : `name:${normaliseText(lab.name)}`;
  return `lab|${test}|${lab.observed_at ?? ""}|${labValueKey(lab)}`;
}

export function diagnosisDedupKey(dx: Diagnosis): string {
  const what = dx.icd10 ? `icd10:${dx.icd10}` : `text:${normaliseText(dx.text)}`;
  return `diagnosis|${what}|${dx.negated ? "negated" : "affirmed"}|${dx.family_history ? "family" : "patient"}`;
}

export function medicationDedupKey(med: Medication): string {
  const drug = normaliseText(med.generic_name ?? med.name);
  // "500 mg" and "500mg" are the same dose.
  const dose = med.dose ? normaliseText(med.dose).replace(/\s+/g, "") : "";
  return `medication|${drug}|${dose}`;
}

export function allergyDedupKey(allergy: Allergy): string {
  return `allergy|${normaliseText(allergy.substance)}`;
}

export function vitalDedupKey(vital: Vital, serviceDate: string | null): string {
  const value = normaliseText(vital.value).replace(/\s+/g, "");
  const unit = vital.unit ? normaliseText(vital.unit) : "";
  return `vital|${vital.type}|${value}|${unit}|${serviceDate ?? ""}`;
}
