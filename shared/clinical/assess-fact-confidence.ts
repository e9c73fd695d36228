/**
 * Per-fact confidence for what is not a number (issue 11): medications, diagnoses, allergies and
 * vital signs get a confidence and review reasons like lab results do (check-lab-plausibility.ts),
 * whichever provider read them, so the record, the viewer and FHIR show a doubtful reading as
 * doubtful. The evidence is the page it was read from (OCR and how sure OCR was) and whether
 * the terminology knows the name: a drug with no generic name, a diagnosis with no ICD-10-CM
 * code, an allergy to a substance no table lists is more often a misread or a model's own
 * wording than a rare drug, and a person checks it. Nothing is changed or dropped here.
 */
import {
  isLowOcrConfidence,
  type PlausibilityVerdict,
  type ReviewReason,
  readingConfidence,
} from "./check-lab-plausibility";
import type { PageText } from "./document-lines";
import { resolveGenericName } from "./extract-medications";
import type { Allergy, Diagnosis, Medication, Provenance, Vital } from "./schema";
import { ALLERGEN_NAMES } from "./terminology/allergens";

/** The most a fact whose name is not recognised, or whose page OCR was unsure of, is trusted. */
const DOUBTFUL_FACT_CONFIDENCE = 0.5;

const KNOWN_ALLERGENS = new Set(ALLERGEN_NAMES);

/** A substance an allergy list names: a drug (generic or brand), a class, a food, a contact allergen. */
export function isKnownAllergySubstance(substance: string): boolean {
  const key = substance
    .toLowerCase()
    .replace(/\s+/g, " ")
    .replace(/[^a-z0-9 -]/g, "")
    .trim();
  return (
    KNOWN_ALLERGENS.has(key) ||
    KNOWN_ALLERGENS.has(key.replace(/e?s$/, "")) ||
    KNOWN_ALLERGENS.has(`${key}s`) ||
    resolveGenericName(substance) !== null
  );
}

function verdict(
  provenance: Provenance,
  pages: ReadonlyMap<number, PageText>,
  recognised: boolean,
): PlausibilityVerdict {
  const page = pages.get(provenance.page);
  const source = { ocr: page?.source === "ocr", ocrConfidence: page?.ocrConfidence ?? null };
  const review: ReviewReason[] = [];
  if (isLowOcrConfidence(source)) review.push("low_ocr_confidence");
  if (!recognised) review.push("term_not_recognised");
  let confidence = readingConfidence(source);
  if (review.length > 0) confidence = Math.min(confidence, DOUBTFUL_FACT_CONFIDENCE);
  return { confidence: Math.round(confidence * 100) / 100, review };
}

export interface AssessedFacts {
  medications: Medication[];
  diagnoses: Diagnosis[];
  allergies: Allergy[];
  vitals: Vital[];
}

/** Every medication, diagnosis, allergy and vital with its confidence and review reasons. */
export function assessClinicalFacts(
  facts: {
    medications: readonly Medication[];
    diagnoses: readonly Diagnosis[];
    allergies: readonly Allergy[];
    vitals: readonly Vital[];
  },
  pages: readonly PageText[],
): AssessedFacts {
  const byPage = new Map(pages.map((p) => [p.pageNumber, p]));
  return {
    medications: facts.medications.map((m) => ({
      ...m,
      ...verdict(m.provenance, byPage, (m.generic_name ?? resolveGenericName(m.name)) !== null),
    })),
    diagnoses: facts.diagnoses.map((d) => ({ ...d, ...verdict(d.provenance, byPage, d.icd10 !== null) })),
    allergies: facts.allergies.map((a) => ({
      ...a,
      ...verdict(a.provenance, byPage, isKnownAllergySubstance(a.substance)),
    })),
    // A vital sign's kind is a fixed list: only the page can make it doubtful.
    vitals: facts.vitals.map((v) => ({ ...v, ...verdict(v.provenance, byPage, true) })),
  };
}
