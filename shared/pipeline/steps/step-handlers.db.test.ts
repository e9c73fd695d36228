/**
 * The six step handlers against PGlite with the real migrations, the Supabase Storage stand-in
 * and the real OCR engine: whole runs on a text PDF and a scanned PDF, redelivery of every step,
 * re-processing as a new version, bad input, and a document deleted while its job runs.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  startTestStorageStandin,
  type TestStorageStandin,
} from "../../../scripts/local/supabase-storage/testing";
import { buildGreyPng } from "../../../test/fixtures/clinical/build-test-image";
import { buildTestPdf, buildTextPdf } from "../../../test/fixtures/clinical/build-test-pdf";
import { testKeyRing } from "../../../test/helpers/identity";
import { createTenant, startTestDatabase, type TestDatabase } from "../../../test/helpers/test-database";
import { ok } from "../../core/result";
import { createOnBoxEmbeddingProvider } from "../../embeddings/create-on-box-embedding-provider";
import { buildPatientRecord, type PatientRecord } from "../../records/build-patient-record";
import { createSupabaseObjectStorage } from "../../storage/create-supabase-object-storage";
import type { ObjectStorage } from "../../storage/object-storage";
import { createOcrEngine, lazyOcr, type OcrEngine } from "../../text";
import { loadNodeOcrAssets } from "../../text/node-ocr-assets";
import { SYNTHETIC_LAB_LINES, syntheticLabScannedPdf } from "../../text/testing/synthetic-lab-page";
import { PIPELINE_STEPS, type StepContext, type StepInput } from "../pipeline-steps";
import { extractorName, PIPELINE_ACTOR_ID, STEP_HANDLERS } from "./step-handlers";
import {
  buildLinesPdf,
  CLINIC_NOTE_PAGES,
  createRun,
  createTestPatient,
  onBoxGateway,
  type PipelineFixture,
  parseVector,
  runAllSteps,
  seedDocument,
  versionState,
} from "./testing";

let database: TestDatabase;
let standin: TestStorageStandin;
let storage: ObjectStorage;
let fixture: PipelineFixture;
let ctx: StepContext;
let tenantId: string;
const ocr = lazyOcr(async () => createOcrEngine(await loadNodeOcrAssets()));

beforeAll(async () => {
  [database, standin] = await Promise.all([startTestDatabase(), startTestStorageStandin()]);
  storage = createSupabaseObjectStorage({
    url: standin.url,
    serviceRoleKey: standin.serviceRoleKey,
    bucket: standin.bucket,
  });
  tenantId = await createTenant(database.owner, "pipeline-steps");
  fixture = {
    owner: database.owner,
    tenantId,
    async putObject(path, bytes, contentType) {
      const signed = await storage.createSignedUploadUrl(path);
      if (!signed.ok) throw new Error(signed.error.code);
      const res = await fetch(signed.value.url, {
        method: "PUT",
        headers: { "content-type": contentType },
        body: new Uint8Array(bytes),
      });
      if (res.status !== 200) throw new Error(`upload failed: ${res.status}`);
    },
  };
  ctx = {
    db: database.db,
    storage,
    getOcr: ocr.get,
    llm: onBoxGateway(database.db),
    auditKeys: testKeyRing("AUDIT_KEYS"),
    now: () => new Date(),
    requestId: "test-pipeline-steps",
  };
}, 60_000);
afterAll(async () => {
  ocr.dispose();
  await Promise.all([database?.stop(), standin?.stop()]);
});

const text = (s: string) => new TextEncoder().encode(s);

async function recordOf(patientId: string): Promise<PatientRecord> {
  const r = await database.db.withTenant({ tenantId, requestId: "test-record", actorId: "test" }, (tx) =>
    buildPatientRecord(tx, patientId),
  );
  if (!r.ok) throw new Error(r.error.code);
  return r.value;
}

async function documentRow(id: string) {
  const [row] = await database.owner<{ status: string; current_version_id: string | null }[]>`
    select status, current_version_id from medchr.documents where id = ${id}`;
  return row;
}

async function countRows(table: "document_pages" | "extracted_facts" | "document_chunks", versionId: string) {
  const [row] = await database.owner<{ n: number }[]>`
    select count(*)::int as n from ${database.owner(`medchr.${table}`)} where version_id = ${versionId}`;
  return row!.n;
}

describe("a whole run on a two-page text-layer clinic note", () => {
  let patientId: string;
  let documentId: string;
  let run: StepInput;

  beforeAll(async () => {
    patientId = await createTestPatient(database.owner, tenantId);
    ({ documentId } = await seedDocument(
      fixture,
      patientId,
      buildLinesPdf(CLINIC_NOTE_PAGES),
      "application/pdf",
    ));
    run = await createRun(fixture, patientId, documentId);
  });

  it("extracts pages, classification, facts with provenance, chunks and embeddings, then publishes the version", async () => {
    const outcomes = await runAllSteps(ctx, run);
    expect(outcomes.extract_text).toMatchObject({ ok: true, metrics: { pages: 2, ocrPages: 0 } });
    expect(outcomes.finalize).toMatchObject({ ok: true, metrics: { superseded: 0 } });

    const state = await versionState(database.owner, run.versionId);
    expect(state.version).toMatchObject({
      status: "ready",
      extractor: "on-box-rules@1",
      page_count: 2,
      document_type: "clinic_note",
      service_date: "2024-03-26",
      facility: "RIVERSIDE FAMILY MEDICINE",
    });
    expect(extractorName).toBe("on-box-rules@1");
    expect(await documentRow(documentId)).toEqual({ status: "processed", current_version_id: run.versionId });

    expect(state.pages.map((p) => [p.page, p.source, p.ocr_confidence])).toEqual([
      [1, "text_layer", null],
      [2, "text_layer", null],
    ]);
    const pageText = (n: number) => state.pages[n - 1]!.text as string;
    expect(pageText(1).split("\n")[0]).toBe("RIVERSIDE FAMILY MEDICINE");

    // Facts: every row cites the span it came from, and data carries the same provenance.
    const byKind = (kind: string) => state.facts.filter((f) => f.kind === kind);
    expect(byKind("medication").map((f) => [f.data.generic_name, f.data.dose, f.dedup_key])).toEqual([
      ["metformin", "500 mg", "medication|metformin|500mg"],
      ["lisinopril", "10 mg", "medication|lisinopril|10mg"],
      ["atorvastatin", "20 mg", "medication|atorvastatin|20mg"],
    ]);
    for (const f of state.facts) {
      expect(f).toMatchObject({ patient_id: patientId, document_id: documentId });
      expect(f.data.provenance).toEqual({ page: f.page, start: f.char_start, end: f.char_end });
      expect(f.char_end).toBeGreaterThan(f.char_start);
    }
    const cited = (f: { page: number; char_start: number; char_end: number }) =>
      pageText(f.page).slice(f.char_start, f.char_end);
    for (const m of byKind("medication")) expect(cited(m).startsWith(m.data.name)).toBe(true);
    const diagnoses = byKind("diagnosis").map((f) => ({
      text: f.data.text,
      icd10: f.data.icd10,
      negated: f.data.negated,
      family: f.data.family_history,
      cited: cited(f),
    }));
    expect(diagnoses).toEqual(
      expect.arrayContaining([
        { text: "chest pain", icd10: "R07.9", negated: true, family: false, cited: "chest pain" },
        expect.objectContaining({ text: "Type 2 diabetes mellitus", icd10: "E11.9", negated: false }),
        expect.objectContaining({ text: "breast cancer", negated: false, family: true }),
      ]),
    );
    expect(byKind("allergy").map((f) => [f.data.substance, f.data.reaction])).toEqual([
      ["Penicillin", "hives"],
    ]);
    expect(cited(byKind("allergy")[0]!)).toContain("Penicillin");
    expect(byKind("vital").find((f) => f.data.type === "bp")).toMatchObject({
      data: { value: "134/82", unit: "mmHg" },
      dedup_key: "vital|bp|134/82|mmhg|2024-03-26",
    });

    // Chunks: exact slices of their page, page 1 (over 1,500 characters) in several pieces.
    expect(pageText(1).length).toBeGreaterThan(1500);
    expect(state.chunks.filter((c) => c.page === 1).length).toBeGreaterThanOrEqual(2);
    expect(state.chunks.filter((c) => c.page === 2)).toHaveLength(1);
    for (const c of state.chunks) {
      expect(pageText(c.page).slice(c.char_start, c.char_end)).toBe(c.text);
      expect(c.embedding_model).toBe("on-box-hash-256@1");
      const v = parseVector(c.embedding);
      expect(v).toHaveLength(256);
      expect(Math.hypot(...v)).toBeCloseTo(1, 5);
    }
    const [chunkMeta] = await database.owner`
      select distinct patient_id, document_id from medchr.document_chunks where version_id = ${run.versionId}`;
    expect(chunkMeta).toEqual({ patient_id: patientId, document_id: documentId });
  });

  it("the record shows the facts, negated diagnoses kept and marked, each with its provenance", async () => {
    const record = await recordOf(patientId);
    expect(record.documents).toEqual([
      expect.objectContaining({
        id: documentId,
        status: "processed",
        versionId: run.versionId,
        version: 1,
        documentType: "clinic_note",
        serviceDate: "2024-03-26",
        extractor: "on-box-rules@1",
      }),
    ]);
    expect(record.medications.map((m) => m.genericName)).toEqual(["metformin", "lisinopril", "atorvastatin"]);
    const chestPain = record.diagnoses.find((d) => d.text === "chest pain");
    expect(chestPain).toMatchObject({ negated: true, familyHistory: false });
    expect(chestPain!.provenance).toEqual([
      expect.objectContaining({ documentId, versionId: run.versionId, page: 1, extractor: "on-box-rules@1" }),
    ]);
    expect(record.diagnoses.find((d) => d.icd10 === "E11.9")).toMatchObject({ negated: false });
    expect(record.vitals.find((v) => v.type === "bp")).toMatchObject({
      value: "134/82",
      observedAt: "2024-03-26",
    });
  });

  it("re-processing makes a second version: no duplicates, version 1's facts and chunks gone after finalize", async () => {
    const before = await recordOf(patientId);
    const second = await createRun(fixture, patientId, documentId);
    for (const step of PIPELINE_STEPS.filter((s) => s !== "finalize")) {
      expect(await STEP_HANDLERS[step](ctx, second)).toMatchObject({ ok: true });
    }
    // Built but not final: the record still reads version 1 only, nothing twice.
    const during = await recordOf(patientId);
    expect(during).toEqual(before);
    expect(await countRows("extracted_facts", second.versionId)).toBeGreaterThan(0);

    const v1Facts = await countRows("extracted_facts", run.versionId);
    const v1Chunks = await countRows("document_chunks", run.versionId);
    expect(v1Facts).toBeGreaterThan(10);
    expect(await STEP_HANDLERS.finalize(ctx, second)).toEqual({
      ok: true,
      metrics: { superseded: 1, factsRemoved: v1Facts, chunksRemoved: v1Chunks },
    });
    const after = await recordOf(patientId);
    expect(after.medications.map((m) => m.genericName)).toEqual(["metformin", "lisinopril", "atorvastatin"]);
    expect(after.diagnoses).toHaveLength(before.diagnoses.length);
    for (const item of [...after.medications, ...after.diagnoses, ...after.allergies, ...after.vitals]) {
      expect(item.provenance.map((p) => p.versionId)).toEqual([second.versionId]);
    }
    expect(after.documents[0]).toMatchObject({ versionId: second.versionId, version: 2 });

    expect(await countRows("extracted_facts", run.versionId)).toBe(0);
    expect(await countRows("document_chunks", run.versionId)).toBe(0);
    // The old text stays as history; only what the record and retrieval read is removed.
    expect(await countRows("document_pages", run.versionId)).toBe(2);
    const versions = await database.owner`
      select version, status from medchr.document_versions where document_id = ${documentId} order by version`;
    expect(versions).toEqual([
      { version: 1, status: "superseded" },
      { version: 2, status: "ready" },
    ]);
    const chunkVersions = await database.owner<{ version_id: string }[]>`
      select distinct version_id from medchr.document_chunks where document_id = ${documentId}`;
    expect(chunkVersions.map((r) => r.version_id)).toEqual([second.versionId]);
  });

  it("a late redelivery to the superseded version writes nothing", async () => {
    const [old] = await database.owner<{ id: string; job_id: string }[]>`
      select id, job_id from medchr.document_versions where document_id = ${documentId} and version = 1`;
    const stale: StepInput = { ...run, versionId: old!.id };
    for (const step of PIPELINE_STEPS) {
      expect(await STEP_HANDLERS[step](ctx, stale)).toEqual({ ok: true, metrics: { skipped: 1 } });
    }
    expect(await countRows("extracted_facts", old!.id)).toBe(0);
    expect(await countRows("document_chunks", old!.id)).toBe(0);
    const [current] =
      await database.owner`select current_version_id from medchr.documents where id = ${documentId}`;
    expect(current!.current_version_id).not.toBe(old!.id);
  });
});

describe("a scanned PDF (OCR) and a text-layer lab report of the same results", () => {
  let patientId: string;
  let scanned: StepInput;
  let typed: StepInput;

  beforeAll(async () => {
    patientId = await createTestPatient(database.owner, tenantId);
    const a = await seedDocument(fixture, patientId, syntheticLabScannedPdf(), "application/pdf");
    scanned = await createRun(fixture, patientId, a.documentId);
    const b = await seedDocument(fixture, patientId, buildLinesPdf([SYNTHETIC_LAB_LINES]), "application/pdf");
    typed = await createRun(fixture, patientId, b.documentId);
  });

  it("OCRs the scan into pages, lab facts with LOINC and provenance, chunks and embeddings", async () => {
    const outcomes = await runAllSteps(ctx, scanned);
    expect(outcomes.extract_text).toMatchObject({ metrics: { pages: 1, ocrPages: 1 } });
    const state = await versionState(database.owner, scanned.versionId);
    expect(state.version).toMatchObject({
      status: "ready",
      document_type: "lab_report",
      service_date: "2025-03-13",
    });
    expect(state.pages[0]).toMatchObject({ page: 1, source: "ocr" });
    expect(state.pages[0]!.ocr_confidence).toBeGreaterThan(80);
    const labs = state.facts.filter((f) => f.kind === "lab");
    expect(labs.find((l) => l.data.loinc === "2345-7")).toMatchObject({
      data: { name: "Glucose", value: 105, unit: "mg/dL", flag: "H", observed_at: "2025-03-13" },
      dedup_key: "lab|loinc:2345-7|2025-03-13|105 mg/dL",
    });
    for (const l of labs) {
      expect(l.data.loinc).toMatch(/^\d+-\d$/);
      expect((state.pages[0]!.text as string).slice(l.char_start, l.char_end)).toContain(l.data.name);
    }
    expect(state.chunks.length).toBeGreaterThanOrEqual(1);
    for (const c of state.chunks) expect(parseVector(c.embedding)).toHaveLength(256);
  }, 60_000);

  it("the record de-duplicates the same lab across the two documents: one item, two provenance entries", async () => {
    await runAllSteps(ctx, typed);
    const record = await recordOf(patientId);
    expect(record.documents).toHaveLength(2);
    const glucose = record.labs.filter((l) => l.loinc === "2345-7");
    expect(glucose).toHaveLength(1);
    expect(glucose[0]!.provenance.map((p) => p.documentId).sort()).toEqual(
      [scanned.documentId, typed.documentId].sort(),
    );
    expect(glucose[0]!.provenance.map((p) => p.versionId).sort()).toEqual(
      [scanned.versionId, typed.versionId].sort(),
    );
    // Both documents carry the same 13 results: each is one item cited twice.
    expect(record.labs).toHaveLength(13);
    for (const lab of record.labs) expect(lab.provenance).toHaveLength(2);
  });
});

describe("every step is idempotent", () => {
  it("running each step twice leaves the same rows as running it once; finalize twice is a no-op", async () => {
    const patientId = await createTestPatient(database.owner, tenantId);
    const { documentId } = await seedDocument(
      fixture,
      patientId,
      buildLinesPdf(CLINIC_NOTE_PAGES),
      "application/pdf",
    );
    const run = await createRun(fixture, patientId, documentId);
    for (const step of PIPELINE_STEPS) {
      const first = await STEP_HANDLERS[step](ctx, run);
      expect(first).toMatchObject({ ok: true });
      const once = await versionState(database.owner, run.versionId);
      const documentOnce = await documentRow(documentId);
      const second = await STEP_HANDLERS[step](ctx, run);
      expect(second).toMatchObject({ ok: true });
      expect({ step, state: await versionState(database.owner, run.versionId) }).toEqual({
        step,
        state: once,
      });
      expect(await documentRow(documentId)).toEqual(documentOnce);
      if (step === "finalize") expect(second).toEqual({ ok: true, metrics: { skipped: 1 } });
      if (step === "embed") expect(second).toEqual({ ok: true, metrics: { embedded: 0, batches: 0 } });
    }
    // And the redeliveries did not leave a second copy anywhere.
    const record = await recordOf(patientId);
    expect(record.medications).toHaveLength(3);
    expect(record.allergies).toHaveLength(1);
  });

  it("a step that crashes after writing, before commit, leaves nothing; the retry writes it once", async () => {
    const patientId = await createTestPatient(database.owner, tenantId);
    const { documentId } = await seedDocument(
      fixture,
      patientId,
      buildLinesPdf(CLINIC_NOTE_PAGES),
      "application/pdf",
    );
    const run = await createRun(fixture, patientId, documentId);
    const reference = await createRun(
      fixture,
      patientId,
      (await seedDocument(fixture, patientId, buildLinesPdf(CLINIC_NOTE_PAGES), "application/pdf"))
        .documentId,
    );
    await runAllSteps(ctx, reference);
    const expected = await versionState(database.owner, reference.versionId);

    /** The connection dies after the handler's `n`th transaction did all its work, before commit. */
    const crashOnTransaction = (n: number): StepContext["db"] => {
      let calls = 0;
      return {
        ...database.db,
        withTenant: (scope, fn) =>
          database.db.withTenant(scope, async (tx) => {
            const result = await fn(tx);
            calls += 1;
            if (calls === n) throw new Error("connection lost before commit");
            return result;
          }),
      };
    };
    // Each handler reads in one transaction and writes in the next; finalize does both in one.
    for (const step of PIPELINE_STEPS) {
      const before = await versionState(database.owner, run.versionId);
      const documentBefore = await documentRow(documentId);
      const crashed = { ...ctx, db: crashOnTransaction(step === "finalize" ? 1 : 2) };
      await expect(STEP_HANDLERS[step](crashed, run)).rejects.toThrow("connection lost");
      expect({ step, state: await versionState(database.owner, run.versionId) }).toEqual({
        step,
        state: before,
      });
      expect(await documentRow(documentId)).toEqual(documentBefore);
      expect(await STEP_HANDLERS[step](ctx, run)).toMatchObject({ ok: true });
    }
    const state = await versionState(database.owner, run.versionId);
    const strip = (s: typeof state) => ({
      ...s,
      facts: s.facts.map(({ patient_id: _p, document_id: _d, ...rest }) => rest),
    });
    expect(strip(state)).toEqual(strip(expected));
  });

  it("embed embeds each chunk once through the gateway and records the model beside it", async () => {
    const patientId = await createTestPatient(database.owner, tenantId);
    const { documentId } = await seedDocument(
      fixture,
      patientId,
      buildLinesPdf(CLINIC_NOTE_PAGES),
      "application/pdf",
    );
    const run = await createRun(fixture, patientId, documentId);
    for (const step of ["extract_text", "classify", "extract_facts", "chunk"] as const) {
      await STEP_HANDLERS[step](ctx, run);
    }
    const chunks = await countRows("document_chunks", run.versionId);
    const calls: number[] = [];
    const onBox = createOnBoxEmbeddingProvider();
    const counting = {
      model: onBox.model,
      dimensions: onBox.dimensions,
      embed: (texts: readonly string[]) => {
        calls.push(texts.length);
        return onBox.embed(texts);
      },
    };
    const withCounting = { ...ctx, llm: onBoxGateway(database.db, counting) };
    expect(await STEP_HANDLERS.embed(withCounting, run)).toEqual({
      ok: true,
      metrics: { embedded: chunks, batches: 1 },
    });
    // A redelivery embeds only what is still missing: nothing.
    expect(await STEP_HANDLERS.embed(withCounting, run)).toEqual({
      ok: true,
      metrics: { embedded: 0, batches: 0 },
    });
    expect(calls).toEqual([chunks]);
    const models = await database.owner<{ model: string }[]>`
      select distinct embedding_model as model from medchr.document_chunks where version_id = ${run.versionId}`;
    expect(models.map((m) => m.model)).toEqual([onBox.model]);
    // Every gateway call left an egress event: on-box, nothing sent, for this document.
    const egress = await database.owner<
      { processor: string; outcome: string; purpose: string; chars_sent: number }[]
    >`
      select processor, outcome, purpose, chars_sent from medchr.llm_egress_events
      where document_id = ${run.documentId} and purpose = 'embedding'`;
    expect(egress).toEqual([{ processor: "on-box", outcome: "on_box", purpose: "embedding", chars_sent: 0 }]);
    expect(await STEP_HANDLERS.finalize(ctx, run)).toMatchObject({ ok: true });
  });
});

describe("bad input fails the step with the right retryability, writing nothing", () => {
  let patientId: string;
  beforeAll(async () => {
    patientId = await createTestPatient(database.owner, tenantId);
  });

  async function extractFrom(
    bytes: Uint8Array,
    mediaType: Parameters<typeof seedDocument>[3] = "application/pdf",
  ) {
    const { documentId } = await seedDocument(fixture, patientId, bytes, mediaType);
    const run = await createRun(fixture, patientId, documentId);
    const outcome = await STEP_HANDLERS.extract_text(ctx, run);
    return { outcome, run };
  }

  const catalog = "<< /Type /Catalog /Pages 2 0 R >>";

  it.each([
    {
      name: "an encrypted PDF",
      bytes: buildTestPdf(
        [
          catalog,
          "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
          "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>",
          `<< /Filter /Standard /V 1 /R 2 /O <${"11".repeat(32)}> /U <${"22".repeat(32)}> /P -4 >>`,
        ],
        `/Encrypt 4 0 R /ID [<${"ab".repeat(16)}> <${"ab".repeat(16)}>]`,
      ),
      code: "pdf_encrypted",
    },
    {
      name: "a corrupt PDF",
      bytes: text("%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 9 0 R >> garbage\n%%EOF"),
      code: "pdf_corrupt",
    },
    {
      name: "a truncated PDF",
      bytes: buildTextPdf(["Sodium 140 mmol/L"]).slice(0, 200),
      code: "pdf_corrupt",
    },
    {
      name: "a PDF with no pages",
      bytes: buildTestPdf([catalog, "<< /Type /Pages /Kids [] /Count 0 >>"]),
      code: "pdf_no_pages",
    },
    { name: "an empty file", bytes: new Uint8Array(0), code: "empty_input" },
    {
      name: "bytes of no supported format",
      bytes: text("\u0000\u0001\u0002binary\u0000junk"),
      code: "unsupported_format",
    },
  ])("$name -> $code, not retryable", async ({ bytes, code }) => {
    const { outcome, run } = await extractFrom(bytes);
    expect(outcome).toMatchObject({ ok: false, failure: { code, retryable: false } });
    if (!outcome.ok) expect(outcome.failure.message).toMatch(/^[A-Z][^\n]{5,200}$/);
    expect(await countRows("document_pages", run.versionId)).toBe(0);
    const [version] =
      await database.owner`select page_count from medchr.document_versions where id = ${run.versionId}`;
    expect(version!.page_count).toBeNull();
  });

  it("a PDF bomb over the page limit -> too_many_pages, not retryable", async () => {
    const { documentId } = await seedDocument(
      fixture,
      patientId,
      buildTextPdf(["page"], 5),
      "application/pdf",
    );
    const run = await createRun(fixture, patientId, documentId);
    expect(await STEP_HANDLERS.extract_text({ ...ctx, textLimits: { maxPages: 4 } }, run)).toMatchObject({
      ok: false,
      failure: { code: "too_many_pages", retryable: false },
    });
    expect(await STEP_HANDLERS.extract_text({ ...ctx, textLimits: { maxBytes: 100 } }, run)).toMatchObject({
      ok: false,
      failure: { code: "input_too_large", retryable: false },
    });
  });

  it("storage down is retryable; a missing object is not", async () => {
    const { documentId } = await seedDocument(
      fixture,
      patientId,
      buildLinesPdf(CLINIC_NOTE_PAGES),
      "application/pdf",
    );
    const run = await createRun(fixture, patientId, documentId);
    const down = createSupabaseObjectStorage({
      url: standin.url,
      serviceRoleKey: "not-the-service-role-key-at-all",
      bucket: standin.bucket,
    });
    expect(await STEP_HANDLERS.extract_text({ ...ctx, storage: down }, run)).toMatchObject({
      ok: false,
      failure: { code: "storage_unavailable", retryable: true },
    });
    const missing = await seedDocument(fixture, patientId, text("never uploaded"), "text/plain", {
      upload: false,
    });
    const missingRun = await createRun(fixture, patientId, missing.documentId);
    expect(await STEP_HANDLERS.extract_text(ctx, missingRun)).toMatchObject({
      ok: false,
      failure: { code: "object_missing", retryable: false },
    });
  });

  it("OCR that cannot start is retryable (a property of the isolate, not of the document)", async () => {
    const { documentId } = await seedDocument(fixture, patientId, buildGreyPng(40, 40), "image/png");
    const run = await createRun(fixture, patientId, documentId);
    const noOcr = {
      ...ctx,
      getOcr: async () => ({ ok: false, error: { code: "ocr_unavailable", message: "x" } }) as const,
    };
    expect(await STEP_HANDLERS.extract_text(noOcr, run)).toMatchObject({
      ok: false,
      failure: { code: "ocr_unavailable", retryable: true },
    });
  });

  it("a quarantined document is never processed", async () => {
    const { documentId } = await seedDocument(fixture, patientId, text("EICAR stand-in"), "text/plain", {
      scanResult: "infected",
    });
    const run = await createRun(fixture, patientId, documentId);
    expect(await STEP_HANDLERS.extract_text(ctx, run)).toMatchObject({
      ok: false,
      failure: { code: "document_quarantined", retryable: false },
    });
  });

  it("an image with no text and a Windows-1252 text file run to the end with what they have", async () => {
    const blank = await seedDocument(fixture, patientId, buildGreyPng(400, 300), "image/png");
    const blankRun = await createRun(fixture, patientId, blank.documentId);
    await runAllSteps(ctx, blankRun);
    const blankState = await versionState(database.owner, blankRun.versionId);
    expect(blankState.pages).toEqual([
      { page: 1, text: expect.any(String), source: "ocr", ocr_confidence: 0 },
    ]);
    expect(blankState.chunks).toEqual([]);
    expect(blankState.version).toMatchObject({ status: "ready", page_count: 1, document_type: "other" });

    // "Café" and "µg" in Windows-1252, with a form feed as a page break.
    const cp1252 = Uint8Array.from([
      ...text("Clinic note\nVisit date: 03/26/2024\nCaf"),
      0xe9,
      ...text(" visit. B12 200 "),
      0xb5,
      ...text("g daily\n\fPage two\n"),
    ]);
    const file = await seedDocument(fixture, patientId, cp1252, "text/plain");
    const fileRun = await createRun(fixture, patientId, file.documentId);
    await runAllSteps(ctx, fileRun);
    const fileState = await versionState(database.owner, fileRun.versionId);
    expect(fileState.pages.map((p) => [p.page, p.source])).toEqual([
      [1, "text_file"],
      [2, "text_file"],
    ]);
    expect(fileState.pages[0]!.text).toContain("Café visit. B12 200 µg daily");
  }, 30_000);

  it("text the database cannot store (NUL, lone surrogates) is replaced one code unit for one", async () => {
    const { documentId } = await seedDocument(fixture, patientId, buildGreyPng(40, 40), "image/png");
    const run = await createRun(fixture, patientId, documentId);
    const recognised = "Glucose\u0000105 mg/dL \ud800 x \udc00";
    const fakeOcr: OcrEngine = {
      recognize: async () => ({
        ok: true,
        value: { text: recognised, confidence: 91, width: 40, height: 40 },
      }),
      dispose: () => {},
    };
    expect(
      await STEP_HANDLERS.extract_text({ ...ctx, getOcr: async () => ({ ok: true, value: fakeOcr }) }, run),
    ).toMatchObject({
      ok: true,
    });
    const [page] = await database.owner<{ text: string }[]>`
      select text from medchr.document_pages where version_id = ${run.versionId}`;
    expect(page!.text).toBe("Glucose\ufffd105 mg/dL \ufffd x \ufffd");
    expect(page!.text).toHaveLength(recognised.length);
  });
});

describe("a document deleted while its job runs", () => {
  let patientId: string;
  beforeAll(async () => {
    patientId = await createTestPatient(database.owner, tenantId);
  });

  const deleteDocument = (id: string) => database.owner`delete from medchr.documents where id = ${id}`;

  it("every later step reports document_deleted, not retryable, and nothing is left", async () => {
    const { documentId } = await seedDocument(
      fixture,
      patientId,
      buildLinesPdf(CLINIC_NOTE_PAGES),
      "application/pdf",
    );
    const run = await createRun(fixture, patientId, documentId);
    await STEP_HANDLERS.extract_text(ctx, run);
    await STEP_HANDLERS.classify(ctx, run);
    await deleteDocument(documentId);
    for (const step of PIPELINE_STEPS) {
      expect({ step, outcome: await STEP_HANDLERS[step](ctx, run) }).toEqual({
        step,
        outcome: {
          ok: false,
          failure: {
            code: "document_deleted",
            message: "The document was deleted while it was being processed.",
            retryable: false,
          },
        },
      });
    }
    expect(await countRows("document_pages", run.versionId)).toBe(0);
  });

  it("deleted during text extraction (OCR outside the transaction): the pages are never written", async () => {
    const { documentId } = await seedDocument(
      fixture,
      patientId,
      buildLinesPdf(CLINIC_NOTE_PAGES),
      "application/pdf",
    );
    const run = await createRun(fixture, patientId, documentId);
    const deletingStorage: ObjectStorage = {
      ...storage,
      async readObject(path, options) {
        const bytes = await storage.readObject(path, options);
        await deleteDocument(documentId);
        return bytes;
      },
    };
    expect(await STEP_HANDLERS.extract_text({ ...ctx, storage: deletingStorage }, run)).toMatchObject({
      ok: false,
      failure: { code: "document_deleted", retryable: false },
    });
    expect(await countRows("document_pages", run.versionId)).toBe(0);
  });

  it("deleted after its object was removed: document_deleted, not object_missing", async () => {
    const { documentId, storagePath } = await seedDocument(fixture, patientId, text("note"), "text/plain");
    const run = await createRun(fixture, patientId, documentId);
    const racing: ObjectStorage = {
      ...storage,
      async readObject(path, options) {
        await deleteDocument(documentId);
        expect(await storage.removeObjects([storagePath])).toEqual(ok({ removed: 1 }));
        return storage.readObject(path, options);
      },
    };
    expect(await STEP_HANDLERS.extract_text({ ...ctx, storage: racing }, run)).toMatchObject({
      ok: false,
      failure: { code: "document_deleted" },
    });
  });

  it("a processed document can be deleted: its versions, facts and chunks go with it", async () => {
    const { documentId } = await seedDocument(
      fixture,
      patientId,
      buildLinesPdf(CLINIC_NOTE_PAGES),
      "application/pdf",
    );
    const run = await createRun(fixture, patientId, documentId);
    await runAllSteps(ctx, run);
    await deleteDocument(documentId);
    expect(await documentRow(documentId)).toBeUndefined();
    for (const table of ["document_pages", "extracted_facts", "document_chunks"] as const) {
      expect(await countRows(table, run.versionId)).toBe(0);
    }
  });
});

describe("handlers check the run they are given", () => {
  let patientId: string;
  let run: StepInput;
  beforeAll(async () => {
    patientId = await createTestPatient(database.owner, tenantId);
    const { documentId } = await seedDocument(
      fixture,
      patientId,
      buildLinesPdf(CLINIC_NOTE_PAGES),
      "application/pdf",
    );
    run = await createRun(fixture, patientId, documentId);
  });

  it("a version of another document, or another patient, is refused", async () => {
    const other = await seedDocument(fixture, patientId, text("other"), "text/plain");
    const otherRun = await createRun(fixture, patientId, other.documentId);
    expect(await STEP_HANDLERS.classify(ctx, { ...run, versionId: otherRun.versionId })).toMatchObject({
      ok: false,
      failure: { code: "version_not_found", retryable: false },
    });
    const otherPatient = await createTestPatient(database.owner, tenantId);
    expect(await STEP_HANDLERS.classify(ctx, { ...run, patientId: otherPatient })).toMatchObject({
      ok: false,
      failure: { code: "job_mismatch", retryable: false },
    });
  });

  it("another tenant's transaction sees nothing of this run (RLS): document_deleted, nothing written", async () => {
    const otherTenant = await createTenant(database.owner, "pipeline-other");
    expect(await STEP_HANDLERS.extract_text(ctx, { ...run, tenantId: otherTenant })).toMatchObject({
      ok: false,
      failure: { code: "document_deleted" },
    });
    expect(await countRows("document_pages", run.versionId)).toBe(0);
  });

  it("steps after extract_text need its pages; finalize needs every step", async () => {
    expect(await STEP_HANDLERS.classify(ctx, run)).toMatchObject({
      ok: false,
      failure: { code: "pages_missing", retryable: false },
    });
    expect(await STEP_HANDLERS.finalize(ctx, run)).toMatchObject({
      ok: false,
      failure: { code: "version_incomplete", retryable: false },
    });
    await STEP_HANDLERS.extract_text(ctx, run);
    await STEP_HANDLERS.classify(ctx, run);
    await STEP_HANDLERS.extract_facts(ctx, run);
    await STEP_HANDLERS.chunk(ctx, run);
    // Chunks without embeddings: not publishable yet.
    expect(await STEP_HANDLERS.finalize(ctx, run)).toMatchObject({
      ok: false,
      failure: { code: "version_incomplete" },
    });
    expect((await documentRow(run.documentId))!.current_version_id).toBeNull();
  });

  it("embedding provider failures: unavailable is retryable, wrong shapes are not", async () => {
    const onBox = createOnBoxEmbeddingProvider();
    const down = {
      ...onBox,
      model: onBox.model,
      dimensions: 256,
      embed: async () => ({ ok: false, error: { code: "unavailable", message: "down" } }) as const,
    };
    expect(await STEP_HANDLERS.embed({ ...ctx, llm: onBoxGateway(database.db, down) }, run)).toMatchObject({
      ok: false,
      failure: { code: "embedding_unavailable", retryable: true },
    });
    const short = {
      ...onBox,
      model: onBox.model,
      dimensions: 256,
      embed: async (t: readonly string[]) => ok(t.map(() => [1, 0])),
    };
    expect(await STEP_HANDLERS.embed({ ...ctx, llm: onBoxGateway(database.db, short) }, run)).toMatchObject({
      ok: false,
      failure: { code: "embedding_invalid", retryable: false },
    });
    const wide = { ...onBox, model: "wide@1", dimensions: 1536 };
    expect(await STEP_HANDLERS.embed({ ...ctx, llm: onBoxGateway(database.db, wide) }, run)).toMatchObject({
      ok: false,
      failure: { code: "embedding_invalid", retryable: false },
    });
    const [unembedded] = await database.owner<{ n: number }[]>`
      select count(*)::int as n from medchr.document_chunks where version_id = ${run.versionId} and embedding is not null`;
    expect(unembedded!.n).toBe(0);
  });

  it("a failed run stays failed; an older run cannot replace a newer current version", async () => {
    await database.owner`update medchr.document_versions set status = 'failed' where id = ${run.versionId}`;
    for (const step of PIPELINE_STEPS) {
      expect(await STEP_HANDLERS[step](ctx, run)).toMatchObject({
        ok: false,
        failure: { code: "version_failed", retryable: false },
      });
    }
    await database.owner`update medchr.document_versions set status = 'building' where id = ${run.versionId}`;
    const newer = await createRun(fixture, patientId, run.documentId);
    await runAllSteps(ctx, newer);
    // The newer run's finalize superseded the older, unfinished one: its finalize has nothing to do.
    expect(await STEP_HANDLERS.finalize(ctx, run)).toEqual({ ok: true, metrics: { skipped: 1 } });
    // Even an older run still marked building never takes the document back.
    await database.owner`update medchr.document_versions set status = 'building' where id = ${run.versionId}`;
    expect(await STEP_HANDLERS.finalize(ctx, run)).toMatchObject({
      ok: false,
      failure: { code: "newer_version_current", retryable: false },
    });
    expect((await documentRow(run.documentId))!.current_version_id).toBe(newer.versionId);
  });

  it("runs its transactions as the pipeline's system actor", async () => {
    expect(PIPELINE_ACTOR_ID).toMatch(/^[a-z][a-z0-9_.:-]{0,63}$/);
    const seen = await database.db.withTenant(
      { tenantId, requestId: "t", actorId: PIPELINE_ACTOR_ID },
      (tx) => tx<{ actor: string }[]>`select medchr.current_actor_id() as actor`,
    );
    expect(seen[0]!.actor).toBe("system:pipeline");
  });
});
