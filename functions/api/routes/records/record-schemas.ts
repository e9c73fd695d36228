/**
 * Response shapes of the patient record API (camelCase, like every response). They describe
 * shared/records/build-patient-record.ts PatientRecord for the OpenAPI document.
 */
import { z } from "@hono/zod-openapi";
import { REVIEW_REASONS } from "../../../../shared/clinical/check-lab-plausibility";
import { DocumentTypeSchema } from "../../../../shared/clinical/schema";
import { DOCUMENT_STATUSES } from "../../../../shared/documents/document-view";

const isoDate = z.string().describe("YYYY-MM-DD");

const ProvenanceSchema = z
  .object({
    documentId: z.uuid(),
    versionId: z.uuid().describe("The extraction version of the document the fact was read from"),
    page: z.number().int().min(1),
    charStart: z.number().int().min(0).describe("Offset into the page text, UTF-16 code units"),
    charEnd: z.number().int().min(0).describe("Exclusive end offset"),
    extractor: z.string().nullable().describe('What produced the fact, e.g. "on-box-rules@1"'),
  })
  .openapi("FactProvenance");

const cited = { provenance: z.array(ProvenanceSchema).min(1).describe("Every place the item was read") };

/** How sure a medication, diagnosis, allergy or vital sign is, and why to check it. */
const assessed = {
  confidence: z
    .number()
    .min(0)
    .max(1)
    .nullable()
    .describe(
      "How sure the reading is, 0 to 1 (its surest citation); null for facts read before it was computed",
    ),
  review: z
    .array(z.enum(REVIEW_REASONS))
    .describe(
      "Why a person should check the item before relying on it (a name no terminology knows, unsure OCR); empty when nothing is against it",
    ),
};

const LabSchema = z
  .object({
    name: z.string().describe("As printed"),
    loinc: z.string().nullable(),
    value: z.union([z.number(), z.string()]).describe('Number, or the printed text ("<0.01", "Negative")'),
    unit: z.string().nullable().describe("As printed"),
    unitUcum: z.string().nullable(),
    valueNormalized: z.number().nullable().describe("In the test's canonical unit"),
    unitNormalized: z.string().nullable(),
    refLow: z.number().nullable(),
    refHigh: z.number().nullable(),
    refText: z.string().nullable(),
    flag: z.enum(["H", "L", "N"]).nullable(),
    observedAt: isoDate.nullable(),
    confidence: z
      .number()
      .min(0)
      .max(1)
      .nullable()
      .describe("How sure the reading is, 0 to 1; null for results read before it was computed"),
    review: z
      .array(z.enum(REVIEW_REASONS))
      .describe(
        "Why a person should check the number before relying on it (outside what a living patient can have, a decimal point probably lost, a flag that disagrees, unsure OCR); empty when nothing is against it",
      ),
    ...cited,
  })
  .openapi("RecordLab");

const MedicationSchema = z
  .object({
    name: z.string(),
    genericName: z.string().nullable(),
    dose: z.string().nullable(),
    route: z.string().nullable(),
    frequency: z.string().nullable(),
    ...assessed,
    ...cited,
  })
  .openapi("RecordMedication");

const DiagnosisSchema = z
  .object({
    text: z.string(),
    icd10: z.string().nullable().describe("ICD-10-CM"),
    icd10Source: z.enum(["printed", "terminology"]).nullable(),
    negated: z.boolean().describe('"denies", "no history of", "negative for", "ruled out"'),
    familyHistory: z.boolean(),
    ...assessed,
    ...cited,
  })
  .openapi("RecordDiagnosis");

const AllergySchema = z
  .object({ substance: z.string(), reaction: z.string().nullable(), ...assessed, ...cited })
  .openapi("RecordAllergy");

const VitalSchema = z
  .object({
    type: z.enum(["bp", "hr", "rr", "temp", "spo2", "weight", "height", "bmi"]),
    value: z.string(),
    unit: z.string().nullable(),
    observedAt: isoDate.nullable().describe("Service date of the document"),
    ...assessed,
    ...cited,
  })
  .openapi("RecordVital");

const RecordDocumentSchema = z
  .object({
    id: z.uuid(),
    status: z.enum(DOCUMENT_STATUSES),
    mediaType: z.string(),
    versionId: z.uuid().nullable().describe("The current extraction version; null until one finished"),
    version: z.number().int().nullable(),
    extractor: z.string().nullable(),
    documentType: DocumentTypeSchema.nullable(),
    serviceDate: isoDate.nullable(),
    facility: z.string().nullable(),
    classificationConfidence: z.number().nullable(),
    pageCount: z.number().int().nullable(),
    createdAt: z.string(),
  })
  .openapi("RecordDocument");

export const PatientRecordSchema = z
  .object({
    patientId: z.uuid(),
    documents: z.array(RecordDocumentSchema),
    labs: z.array(LabSchema).describe("Newest first; one item per (LOINC or name, date, value)"),
    medications: z.array(MedicationSchema).describe("One item per (generic name, dose)"),
    diagnoses: z
      .array(DiagnosisSchema)
      .describe("One item per (ICD-10-CM or text, negated, family history); negated ones are kept"),
    allergies: z.array(AllergySchema).describe("One item per substance"),
    vitals: z.array(VitalSchema),
  })
  .openapi("PatientRecord");

export const PatientRecordEnvelope = z
  .object({ record: PatientRecordSchema })
  .openapi("PatientRecordEnvelope");
