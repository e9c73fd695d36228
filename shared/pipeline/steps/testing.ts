/**
 * Test helpers for the step handlers: synthetic documents (no real patient), documents and runs
 * seeded the way the uploader and the job runner create them, and a whole-run driver. Not used
 * by production code.
 */
import { randomBytes } from "node:crypto";
import { expect } from "vitest";
import { buildTestPdf } from "../../../test/fixtures/clinical/build-test-pdf";
import { testKeyRing } from "../../../test/helpers/identity";
import type { Database, Sql } from "../../db/database";
import { createOnBoxEmbeddingProvider } from "../../embeddings/create-on-box-embedding-provider";
import { createLlmGateway, type LlmGatewayDeps } from "../../llm/create-llm-gateway";
import type { LlmGateway } from "../../llm/llm-gateway";
import {
  type EmbeddingProvider,
  PIPELINE_STEPS,
  type StepContext,
  type StepInput,
  type StepOutcome,
} from "../pipeline-steps";
import { STEP_HANDLERS } from "./step-handlers";

/**
 * The production gateway with no external provider: every call answers on-box and leaves an
 * egress event, exactly as for a clinic that never allowed external AI.
 */
export function onBoxGateway(
  db: Database,
  embeddings: EmbeddingProvider = createOnBoxEmbeddingProvider(),
  extra: Partial<LlmGatewayDeps> = {},
): LlmGateway {
  return createLlmGateway({
    db,
    auditKeys: testKeyRing("AUDIT_KEYS"),
    deployment: { phiProcessors: [], redactionEnabled: false },
    providers: {},
    onBoxEmbeddings: embeddings,
    ...extra,
  });
}

/** A PDF with a real text layer, one array of lines per page, in Courier so columns stay apart. */
export function buildLinesPdf(pages: readonly (readonly string[])[]): Uint8Array {
  const objects: string[] = [
    "<< /Type /Catalog /Pages 2 0 R >>",
    `<< /Type /Pages /Kids [${pages.map((_, i) => `${3 + 2 * i} 0 R`).join(" ")}] /Count ${pages.length} >>`,
  ];
  const font = 3 + 2 * pages.length;
  pages.forEach((lines, i) => {
    const content = [
      "BT",
      "/F1 10 Tf",
      "13 TL",
      "1 0 0 1 50 760 Tm",
      ...lines.map((l) => `(${l.replace(/([()\\])/g, "\\$1")}) '`),
      "ET",
    ].join("\n");
    objects.push(
      `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents ${4 + 2 * i} 0 R /Resources << /Font << /F1 ${font} 0 R >> >> >>`,
    );
    objects.push(`<< /Length ${content.length} >>\nstream\n${content}\nendstream`);
  });
  objects.push("<< /Type /Font /Subtype /Type1 /BaseFont /Courier >>");
  return buildTestPdf(objects);
}

/** A two-page synthetic clinic note: medications, coded and negated diagnoses, family history, allergy, vitals. */
export const CLINIC_NOTE_PAGES: readonly (readonly string[])[] = [
  [
    "RIVERSIDE FAMILY MEDICINE",
    "Clinic Note - Office Visit",
    "Visit date: 03/26/2024",
    "Patient: TESTPATIENT, SYNTHETIC      DOB: 01/02/1960",
    "",
    "CHIEF COMPLAINT: Follow-up of diabetes and blood pressure.",
    "",
    "HISTORY OF PRESENT ILLNESS:",
    "The patient returns for follow-up of type 2 diabetes mellitus. She reports good",
    "adherence to her medications and walks thirty minutes most days of the week.",
    "She denies chest pain. No history of stroke. Home glucose readings are mostly",
    "between 110 and 140 in the morning, with no episodes of hypoglycemia reported.",
    "Her blood pressure at home has been in the 130s over 80s on most readings.",
    "She has no new complaints today and asks about her cholesterol results.",
    "She sleeps well, eats three meals a day and has cut down on sweetened drinks.",
    "She checks her feet daily and has seen the eye clinic within the past year.",
    "She would like to keep her current regimen if the numbers allow it and asks",
    "whether the walking program could replace one of her tablets in the future.",
    "We reviewed her home log together and discussed targets for the next visit.",
    "She asked about travel next month; we agreed she will carry her tablets in her",
    "hand luggage and keep to her usual meal times across the time zones she visits.",
    "She has had her influenza vaccine this season and is up to date on screening.",
    "No recent hospital visits. She lives with her husband, who is supportive, and",
    "she continues to work part time at the library three mornings of every week.",
    "She does not smoke and drinks alcohol rarely, one glass of wine on weekends.",
    "",
    "PAST MEDICAL HISTORY:",
    "1. Type 2 diabetes mellitus (E11.9)",
    "2. Essential hypertension (I10)",
    "3. Hyperlipidemia (E78.5)",
    "",
    "FAMILY HISTORY:",
    "Mother with breast cancer.",
    "",
    "MEDICATIONS:",
    "Metformin 500 mg PO twice daily",
    "Lisinopril 10 mg PO daily",
    "Atorvastatin 20 mg PO at bedtime",
    "",
    "ALLERGIES:",
    "Penicillin - hives",
    "",
    "VITALS:",
    "BP 134/82 mmHg   HR 76 bpm   Temp 98.6 F   SpO2 98%",
  ],
  [
    "RIVERSIDE FAMILY MEDICINE                 Visit date: 03/26/2024",
    "",
    "ASSESSMENT AND PLAN:",
    "1. Type 2 diabetes mellitus (E11.9): above goal. Continue metformin and",
    "   reinforce diet and exercise. Recheck in three months.",
    "2. Essential hypertension (I10): at goal on lisinopril. Continue.",
    "3. Hyperlipidemia (E78.5): at goal on atorvastatin. Continue.",
    "Return to clinic in three months, sooner if any new symptoms develop.",
  ],
];

export interface SeededDocument {
  documentId: string;
  storagePath: string;
}

export interface PipelineFixture {
  owner: Sql;
  tenantId: string;
  /** Puts the bytes where the uploader would (a signed upload to object storage). */
  putObject(path: string, bytes: Uint8Array, contentType: string): Promise<void>;
}

export async function createTestPatient(owner: Sql, tenantId: string): Promise<string> {
  const [row] = await owner<{ id: string }[]>`
    insert into medchr.patients (tenant_id, given_name, family_name)
    values (${tenantId}, 'Synthetic', 'Testpatient') returning id`;
  return row!.id;
}

/** A registered, clean document of the patient, as settle-upload leaves it. */
export async function seedDocument(
  f: PipelineFixture,
  patientId: string,
  bytes: Uint8Array,
  mediaType: "application/pdf" | "image/png" | "image/jpeg" | "image/tiff" | "text/plain",
  options: { upload?: boolean; scanResult?: "clean" | "infected" | "not_scanned" } = {},
): Promise<SeededDocument> {
  const storagePath = `${f.tenantId}/${patientId}/${randomBytes(16).toString("hex")}`;
  if (options.upload ?? true) await f.putObject(storagePath, bytes, mediaType);
  const scanResult = options.scanResult ?? "clean";
  const [row] = await f.owner<{ id: string }[]>`
    insert into medchr.documents (tenant_id, patient_id, storage_path, original_filename, media_type,
      size_bytes, sha256, status, scan_result, created_by)
    values (${f.tenantId}, ${patientId}, ${storagePath}, 'synthetic.pdf', ${mediaType}, ${Math.max(1, bytes.length)},
      ${"0".repeat(64)}, ${scanResult === "infected" ? "quarantined" : "uploaded"}, ${scanResult}, 'test')
    returning id`;
  return { documentId: row!.id, storagePath };
}

/** What the job runner creates for one run: a job and the next version of the document. */
export async function createRun(
  f: PipelineFixture,
  patientId: string,
  documentId: string,
): Promise<StepInput> {
  await f.owner`
    update medchr.jobs set status = 'succeeded' where document_id = ${documentId} and status in ('queued', 'running')`;
  const [job] = await f.owner<{ id: string }[]>`
    insert into medchr.jobs (tenant_id, kind, patient_id, document_id, status, created_by)
    values (${f.tenantId}, 'document.process', ${patientId}, ${documentId}, 'running', 'test')
    returning id`;
  const [version] = await f.owner<{ id: string }[]>`
    insert into medchr.document_versions (tenant_id, document_id, job_id, version)
    values (${f.tenantId}, ${documentId}, ${job!.id},
      (select coalesce(max(version), 0) + 1 from medchr.document_versions where document_id = ${documentId}))
    returning id`;
  return { tenantId: f.tenantId, jobId: job!.id, documentId, patientId, versionId: version!.id };
}

/** Runs the six steps in order, as the runner would, and expects each to succeed. */
export async function runAllSteps(ctx: StepContext, input: StepInput): Promise<Record<string, StepOutcome>> {
  const outcomes: Record<string, StepOutcome> = {};
  for (const step of PIPELINE_STEPS) {
    const outcome = await STEP_HANDLERS[step](ctx, input);
    expect({ step, outcome }).toMatchObject({ step, outcome: { ok: true } });
    outcomes[step] = outcome;
  }
  return outcomes;
}

/** pgvector's text form "[0.1,0.2,...]" as numbers. */
export const parseVector = (text: string): number[] => text.slice(1, -1).split(",").map(Number);

// biome-ignore lint/suspicious/noExplicitAny: stored fact data is checked field by field
type FactData = Record<string, any>;

export interface VersionState {
  version: Record<string, unknown> | undefined;
  pages: { page: number; text: string; source: string; ocr_confidence: number | null }[];
  facts: {
    kind: string;
    ordinal: number;
    data: FactData;
    page: number;
    char_start: number;
    char_end: number;
    dedup_key: string;
    patient_id: string;
    document_id: string;
  }[];
  chunks: {
    ordinal: number;
    page: number;
    char_start: number;
    char_end: number;
    text: string;
    embedding_model: string | null;
    embedding: string;
  }[];
}

/** Every row a run writes for a version (ids and timestamps left out), for idempotency checks. */
export async function versionState(owner: Sql, versionId: string): Promise<VersionState> {
  const [version] = await owner`
    select status, extractor, page_count, document_type, service_date::text as service_date, facility,
      classification_confidence
    from medchr.document_versions where id = ${versionId}`;
  const pages = await owner<VersionState["pages"]>`
    select page, text, source, ocr_confidence from medchr.document_pages where version_id = ${versionId} order by page`;
  const facts = await owner<VersionState["facts"]>`
    select kind, ordinal, data, page, char_start, char_end, dedup_key, patient_id, document_id
    from medchr.extracted_facts where version_id = ${versionId} order by kind, ordinal`;
  const chunks = await owner<VersionState["chunks"]>`
    select ordinal, page, char_start, char_end, text, embedding_model, embedding::text as embedding
    from medchr.document_chunks where version_id = ${versionId} order by ordinal`;
  return { version, pages: [...pages], facts: [...facts], chunks: [...chunks] };
}
