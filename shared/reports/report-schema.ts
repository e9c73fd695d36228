/**
 * The Client Health Report's shapes. Two layers:
 *
 *  - `DraftNarrativeSchema`: what a drafter (an external model through the gateway, or the
 *    on-box extractive drafter) answers: the five narrative sections as claims, each claim
 *    citing chunks by id with the span it quotes. ONE schema for both providers (the JSON
 *    Schema the model is asked for is generated from it).
 *  - `ReportContentSchema`: what is stored and shown: the narrative after citation checks
 *    (every claim marked verified / unsupported / not needing a source, every citation
 *    resolved to document, page and characters), plus the tables built from the structured
 *    record (labs, medications, diagnoses, allergies, vitals), each row citing its source.
 *
 * Nothing here knows HTTP or storage.
 */
import { z } from "zod";

/** Sections written as prose claims, in display order. */
export const NARRATIVE_SECTIONS = [
  "summary",
  "key_findings",
  "interpretation",
  "data_gaps",
  "follow_up_questions",
] as const;
export type NarrativeSection = (typeof NARRATIVE_SECTIONS)[number];

/** Sections that are tables of record data, in display order. */
export const TABLE_SECTIONS = ["labs", "medications", "diagnoses", "allergies", "vitals"] as const;
export type TableSection = (typeof TABLE_SECTIONS)[number];

export const REPORT_SECTIONS = [...NARRATIVE_SECTIONS, ...TABLE_SECTIONS] as const;
export type ReportSection = (typeof REPORT_SECTIONS)[number];

/**
 * Sections whose claims state facts about the patient: a claim there without a verified
 * citation is unsupported. Data gaps and follow-up questions say what is missing or what to
 * ask; they cite when they can but need not.
 */
export const FACT_SECTIONS: ReadonlySet<NarrativeSection> = new Set([
  "summary",
  "key_findings",
  "interpretation",
]);

/** Limits: a report is read by a clinician in minutes; a model must not flood it. */
export const MAX_CLAIMS_PER_SECTION = 25;
export const MAX_CITATIONS_PER_CLAIM = 8;
export const MAX_CLAIM_CHARS = 1000;
export const MAX_QUOTE_CHARS = 400;
export const MAX_TABLE_ROWS = 500;

// ---------------------------------------------------------------------------------------
// What a drafter answers.

export const DraftCitationSchema = z.strictObject({
  /** The id of a chunk given to the drafter. */
  chunkId: z.string().min(1).max(64),
  /** The exact span of that chunk the claim rests on. */
  quote: z.string().min(1).max(MAX_QUOTE_CHARS),
});

export const DraftClaimSchema = z.strictObject({
  /** One sentence (light markdown allowed: bold, italics, links; sanitised for display). */
  text: z.string().trim().min(1).max(MAX_CLAIM_CHARS),
  citations: z.array(DraftCitationSchema).max(MAX_CITATIONS_PER_CLAIM),
});
export type DraftClaim = z.infer<typeof DraftClaimSchema>;

const draftSection = z.array(DraftClaimSchema).max(MAX_CLAIMS_PER_SECTION);
export const DraftNarrativeSchema = z.strictObject({
  summary: draftSection,
  key_findings: draftSection,
  interpretation: draftSection,
  data_gaps: draftSection,
  follow_up_questions: draftSection,
});
export type DraftNarrative = z.infer<typeof DraftNarrativeSchema>;

// ---------------------------------------------------------------------------------------
// What is stored and shown.

/** A citation resolved against this patient's current chunks. */
export const ReportCitationSchema = z.strictObject({
  chunkId: z.uuid(),
  documentId: z.uuid(),
  page: z.number().int().min(1),
  /** [charStart, charEnd) of the quote in the page's text. */
  charStart: z.number().int().min(0),
  charEnd: z.number().int().min(0),
  quote: z.string().min(1).max(MAX_QUOTE_CHARS),
});
export type ReportCitation = z.infer<typeof ReportCitationSchema>;

/**
 * verified: at least one citation resolved to its quote in this patient's source text.
 * unsupported: a fact claim with no citation that resolves (shown flagged, counted).
 * not_required: a data gap or question without a citation.
 * clinician: written or changed by a clinician (their own responsibility; citations kept if any).
 */
export const CLAIM_SUPPORT = ["verified", "unsupported", "not_required", "clinician"] as const;
export type ClaimSupport = (typeof CLAIM_SUPPORT)[number];

export const ReportClaimSchema = z.strictObject({
  text: z.string().trim().min(1).max(MAX_CLAIM_CHARS),
  support: z.enum(CLAIM_SUPPORT),
  citations: z.array(ReportCitationSchema).max(MAX_CITATIONS_PER_CLAIM),
});
export type ReportClaim = z.infer<typeof ReportClaimSchema>;

const claims = z.array(ReportClaimSchema).max(MAX_CLAIMS_PER_SECTION);
const cited = { citations: z.array(ReportCitationSchema).max(MAX_CITATIONS_PER_CLAIM) };
const shortText = (max: number) => z.string().trim().min(1).max(max);

export const LabRowSchema = z.strictObject({
  name: shortText(200),
  loinc: z.string().max(16).nullable(),
  value: z.union([z.number(), shortText(60)]),
  unit: z.string().max(40).nullable(),
  refLow: z.number().nullable(),
  refHigh: z.number().nullable(),
  refText: z.string().max(120).nullable(),
  flag: z.enum(["H", "L", "N"]).nullable(),
  observedAt: z.string().max(10).nullable(),
  ...cited,
});
export const MedicationRowSchema = z.strictObject({
  name: shortText(200),
  dose: z.string().max(120).nullable(),
  route: z.string().max(60).nullable(),
  frequency: z.string().max(120).nullable(),
  ...cited,
});
/**
 * present: an active or historical problem of the patient. negated: ruled out or denied.
 * family: a relative's condition. Only `present` rows are the patient's problems.
 */
export const DIAGNOSIS_ASSERTIONS = ["present", "negated", "family"] as const;
export const DiagnosisRowSchema = z.strictObject({
  text: shortText(300),
  icd10: z.string().max(10).nullable(),
  assertion: z.enum(DIAGNOSIS_ASSERTIONS),
  ...cited,
});
export const AllergyRowSchema = z.strictObject({
  substance: shortText(200),
  reaction: z.string().max(200).nullable(),
  ...cited,
});
export const VitalRowSchema = z.strictObject({
  type: z.enum(["bp", "hr", "rr", "temp", "spo2", "weight", "height", "bmi"]),
  value: shortText(40),
  unit: z.string().max(20).nullable(),
  observedAt: z.string().max(10).nullable(),
  ...cited,
});

export const REPORT_SECTION_SCHEMAS = {
  summary: claims,
  key_findings: claims,
  interpretation: claims,
  data_gaps: claims,
  follow_up_questions: claims,
  labs: z.array(LabRowSchema).max(MAX_TABLE_ROWS),
  medications: z.array(MedicationRowSchema).max(MAX_TABLE_ROWS),
  diagnoses: z.array(DiagnosisRowSchema).max(MAX_TABLE_ROWS),
  allergies: z.array(AllergyRowSchema).max(MAX_TABLE_ROWS),
  vitals: z.array(VitalRowSchema).max(MAX_TABLE_ROWS),
} as const satisfies Record<ReportSection, z.ZodType>;

export const ReportContentSchema = z.strictObject(REPORT_SECTION_SCHEMAS);
export type ReportContent = z.infer<typeof ReportContentSchema>;
export type LabRow = z.infer<typeof LabRowSchema>;
export type MedicationRow = z.infer<typeof MedicationRowSchema>;
export type DiagnosisRow = z.infer<typeof DiagnosisRowSchema>;
export type AllergyRow = z.infer<typeof AllergyRowSchema>;
export type VitalRow = z.infer<typeof VitalRowSchema>;

/** What a draft was made from and by (ids, enums, counts; never content). */
export const ReportProvenanceSchema = z.strictObject({
  provider: z.enum(["on-box", "openai"]),
  model: z.string().max(100),
  promptVersion: z.string().max(60),
  /** Why the on-box drafter answered when an external one was wanted (gateway refusal code). */
  fallback: z.string().max(60).nullable(),
  redacted: z.boolean(),
  /** The document versions (extraction runs) the record was built from. */
  extractionVersions: z.array(
    z.strictObject({ documentId: z.uuid(), versionId: z.uuid(), extractor: z.string().nullable() }),
  ),
  /** Every chunk the drafter was given. */
  chunkIds: z.array(z.uuid()),
  /**
   * What grounding removed from the drafter's answer: citations not found in their chunk (or not
   * this patient's) and claims that named a ruled-out or relative's condition as the patient's.
   */
  droppedByGrounding: z.number().int().min(0),
  /** Fact claims left without a verified citation (shown flagged). */
  unsupportedClaims: z.number().int().min(0),
  draftedAt: z.string(),
});
export type ReportProvenance = z.infer<typeof ReportProvenanceSchema>;
