/**
 * The one output contract of every clinical-extraction provider (on-box rules today, an LLM
 * provider later). Field names follow the corpus truth format (snake_case) so that predictions,
 * stored facts and evaluation share one shape. Independent of HTTP and storage.
 */
import { z } from "zod";
import { REVIEW_REASONS } from "./check-lab-plausibility";

const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "expected yyyy-mm-dd");

/** Where a fact was read: page number and character offsets [start, end) into that page's text. */
export const ProvenanceSchema = z
  .object({
    page: z.number().int().min(1),
    start: z.number().int().min(0),
    end: z.number().int().min(0),
  })
  .refine((p) => p.end >= p.start, { message: "end must not precede start" });
export type Provenance = z.infer<typeof ProvenanceSchema>;

export const DocumentTypeSchema = z.enum([
  "lab_report",
  "clinic_note",
  "discharge_summary",
  "imaging_report",
  "pathology_report",
  "other",
]);
export type DocumentType = z.infer<typeof DocumentTypeSchema>;

export const DocumentClassificationSchema = z.object({
  document_type: DocumentTypeSchema,
  service_date: isoDate.nullable(),
  facility: z.string().nullable(),
  /** 0..1: share of the type evidence that points at the chosen type. */
  confidence: z.number().min(0).max(1),
});
export type DocumentClassification = z.infer<typeof DocumentClassificationSchema>;

export const LabResultSchema = z.object({
  /** Test name as printed. */
  name: z.string().min(1),
  loinc: z
    .string()
    .regex(/^\d{1,7}-\d$/)
    .nullable(),
  /** Number as printed, or the printed string for "<0.01", ">90", "Negative", "2+". */
  value: z.union([z.number(), z.string().min(1)]),
  /** Unit as printed. */
  unit: z.string().nullable(),
  unit_ucum: z.string().nullable(),
  /** Value converted to the test's canonical UCUM unit (null when not numeric or not convertible). */
  value_normalized: z.number().nullable(),
  unit_normalized: z.string().nullable(),
  ref_low: z.number().nullable(),
  ref_high: z.number().nullable(),
  ref_text: z.string().nullable(),
  flag: z.enum(["H", "L", "N"]).nullable(),
  observed_at: isoDate.nullable(),
  provenance: ProvenanceSchema,
  /**
   * 0..1: how sure the reading is (check-lab-plausibility.ts); absent on results stored before
   * it was computed.
   */
  confidence: z.number().min(0).max(1).optional(),
  /** Why the result needs a person to look at it; empty or absent when nothing is against it. */
  review: z.array(z.enum(REVIEW_REASONS)).optional(),
});
export type LabResult = z.infer<typeof LabResultSchema>;

/**
 * How sure a medication, diagnosis, allergy or vital sign is, and why a person should check it
 * (assess-fact-confidence.ts); absent on facts stored before it was computed.
 */
const assessed = {
  confidence: z.number().min(0).max(1).optional(),
  review: z.array(z.enum(REVIEW_REASONS)).optional(),
};

export const MedicationSchema = z.object({
  name: z.string().min(1),
  /** Generic name from the drug table (brand names resolved), null when the drug is unknown. */
  generic_name: z.string().nullable(),
  dose: z.string().nullable(),
  route: z.string().nullable(),
  frequency: z.string().nullable(),
  provenance: ProvenanceSchema,
  ...assessed,
});
export type Medication = z.infer<typeof MedicationSchema>;

export const DiagnosisSchema = z.object({
  text: z.string().min(1),
  icd10: z
    .string()
    .regex(/^[A-Z]\d[0-9A-Z](\.[0-9A-Z]{1,4})?$/)
    .nullable(),
  /** "printed" when the code is on the document, "terminology" when looked up from the text. */
  icd10_source: z.enum(["printed", "terminology"]).nullable(),
  negated: z.boolean(),
  family_history: z.boolean(),
  provenance: ProvenanceSchema,
  ...assessed,
});
export type Diagnosis = z.infer<typeof DiagnosisSchema>;

export const AllergySchema = z.object({
  substance: z.string().min(1),
  reaction: z.string().nullable(),
  provenance: ProvenanceSchema,
  ...assessed,
});
export type Allergy = z.infer<typeof AllergySchema>;

export const VitalSchema = z.object({
  type: z.enum(["bp", "hr", "rr", "temp", "spo2", "weight", "height", "bmi"]),
  value: z.string().min(1),
  unit: z.string().nullable(),
  provenance: ProvenanceSchema,
  ...assessed,
});
export type Vital = z.infer<typeof VitalSchema>;

export const ClinicalExtractionSchema = z.object({
  /** Which provider produced this ("on-box-rules", "llm:<model>", ...). */
  provider: z.string().min(1),
  classification: DocumentClassificationSchema,
  labs: z.array(LabResultSchema),
  medications: z.array(MedicationSchema),
  diagnoses: z.array(DiagnosisSchema),
  allergies: z.array(AllergySchema),
  /** True when the document states no known (drug) allergies; distinguishes "none" from "not stated". */
  no_known_allergies: z.boolean(),
  vitals: z.array(VitalSchema),
});
export type ClinicalExtraction = z.infer<typeof ClinicalExtractionSchema>;
