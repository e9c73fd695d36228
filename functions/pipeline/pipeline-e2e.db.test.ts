/**
 * Issue 5 acceptance, end to end in Node with the real pieces: the documents API registers a
 * text PDF and a scanned PDF (Supabase Storage stand-in behind the storage function), the
 * registration starts processing (job + first step published through @upstash/qstash's Client
 * to the QStash stand-in), the stand-in delivers every step signed, to the pipeline app (the
 * Worker's code: signature on the raw body through the shared middleware, the real step
 * handlers, OCR, on-box embeddings, reading the file through the STORAGE binding), and every
 * next step is published again through QStash. The stand-in delivers every message TWICE
 * (duplicateDeliveries), and after the run each message is redelivered once more: nothing
 * changes. Then POST /process makes version 2, which replaces version 1's facts and chunks.
 *
 * The workerd side (the same route and OCR inside workerd) is pipeline-e2e.workers.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type QStashStandin, startQStashStandin } from "../../scripts/local/qstash/server";
import { startDocumentProcessing } from "../../shared/jobs/start-document-processing";
import { PIPELINE_STEPS } from "../../shared/pipeline/pipeline-steps";
import { createQStashJobQueue } from "../../shared/queue/create-qstash-job-queue";
import { buildPatientRecord } from "../../shared/records/build-patient-record";
import type { TextResult } from "../../shared/text";
import { loadNodeOcrAssets } from "../../shared/text/node-ocr-assets";
import { createOcrEngine, type OcrEngine } from "../../shared/text/ocr-engine";
import { SYNTHETIC_LAB_LINES, syntheticLabScannedPdf } from "../../shared/text/testing/synthetic-lab-page";
import { buildTextPdf } from "../../test/fixtures/clinical/build-test-pdf";
import { testKeyRing } from "../../test/helpers/identity";
import { testEnv } from "../../test/helpers/test-env";
import {
  buildDocumentsTestApp,
  type DocumentsHarness,
  insertPatient,
  makeCaller,
  startDocumentsHarness,
  supabaseClientFor,
} from "../api/routes/documents/testing";
import { registerJobRoutes } from "../api/routes/jobs";
import { registerReportRoutes } from "../api/routes/reports";
import { buildPipelineApp } from "./app";

// Loopback, so the stand-in accepts it as a destination; deliveries never leave the process.
const ORIGIN = "http://127.0.0.1:9";
const TOKEN = "qstash-token-e2e-0123456789abcdef";
const KEYS = {
  QSTASH_CURRENT_SIGNING_KEY: "sig_e2e_current_0123456789abcdefg",
  QSTASH_NEXT_SIGNING_KEY: "sig_e2e_next_0123456789abcdefghijk",
};

let h: DocumentsHarness;
let standin: QStashStandin;
let pipelineEnv: Record<string, unknown>;
let ocr: Promise<TextResult<OcrEngine>> | null = null;
const pipelineApp = buildPipelineApp({
  getOcr: () => {
    ocr ??= loadNodeOcrAssets().then(createOcrEngine);
    return ocr;
  },
});
/** What the pipeline answered, per delivery (status and runner result). */
const answers: Array<{ step: string; status: number; result: string }> = [];

// biome-ignore lint/suspicious/noExplicitAny: response bodies are checked field by field
type Body = Record<string, any>;

const TEXT_PDF_LINES = [
  "RIVERSIDE FAMILY MEDICINE            Visit date: 02/10/2025",
  "CLINIC NOTE",
  "Assessment: Type 2 diabetes mellitus (E11.9). Denies chest pain.",
  "Medications: Metformin 500 mg PO BID",
  "Allergies: Penicillin (rash)",
  "LABS",
  ...SYNTHETIC_LAB_LINES.slice(7, 12),
];

beforeAll(async () => {
  standin = await startQStashStandin({
    token: TOKEN,
    currentSigningKey: KEYS.QSTASH_CURRENT_SIGNING_KEY,
    nextSigningKey: KEYS.QSTASH_NEXT_SIGNING_KEY,
    retryDelaysMs: [50, 100, 200],
    duplicateDeliveries: true,
    // The pipeline "Worker" is this process: deliveries go to its fetch handler, as a request
    // for exactly the URL QStash was given.
    fetchImpl: async (input, init) => {
      const request = new Request(input as string, init);
      const response = await pipelineApp.fetch(request, pipelineEnv);
      const text = await response.clone().text();
      let result = "";
      try {
        result = (JSON.parse(text) as Body).result ?? (JSON.parse(text) as Body).error?.code ?? "";
      } catch {
        result = "";
      }
      answers.push({
        step: new URL(request.url).pathname.split("/").pop()!,
        status: response.status,
        result,
      });
      return response;
    },
  });
  const qstash = { ...KEYS, QSTASH_TOKEN: TOKEN, QSTASH_URL: standin.url, PUBLIC_ORIGIN: ORIGIN };
  h = await startDocumentsHarness(qstash);
  pipelineEnv = testEnv(h.database.url, {
    ...qstash,
    STORAGE: h.env.STORAGE,
    STORAGE_INTERNAL_TOKEN: h.env.STORAGE_INTERNAL_TOKEN,
  });
}, 120_000);
afterAll(async () => {
  await standin?.stop();
  await h?.stop();
  const engine = await ocr;
  if (engine?.ok) engine.value.dispose();
});

/**
 * The api function as the lead wires it: the registration hook starts processing (here built
 * from the harness, the way documentProcessingHook builds it from the request) and the jobs
 * routes sit beside the documents routes.
 */
function apiApp() {
  const queue = createQStashJobQueue({ token: TOKEN, baseUrl: standin.url });
  const app = buildDocumentsTestApp({
    onRegistered: async (document, context) => {
      const started = await startDocumentProcessing(
        {
          db: h.database.db,
          scope: { tenantId: context.tenantId, actorId: "e2e", requestId: context.requestId },
          audit: {
            auditKeys: testKeyRing("AUDIT_KEYS"),
            actor: { type: "system", id: "e2e.register" },
            ip: null,
            userAgent: null,
            requestId: context.requestId,
          },
          queue,
          publicOrigin: ORIGIN,
        },
        { documentId: document.id },
      );
      if (!started.ok || !started.value.published) throw new Error("processing did not start");
    },
  });
  registerJobRoutes(app, { queueFor: () => queue });
  registerReportRoutes(app, { queueFor: () => queue });
  return app;
}

async function upload(
  call: ReturnType<typeof makeCaller>,
  patientId: string,
  bytes: Uint8Array,
  filename: string,
) {
  const presigned = (await (
    await call(`/api/v1/patients/${patientId}/documents/presign-upload`, {
      method: "POST",
      headers: h.clinicianA.headers,
      body: { filename, contentType: "application/pdf", size: bytes.length },
    })
  ).json()) as Body;
  const put = await supabaseClientFor(h.standin)
    .storage.from(h.standin.bucket)
    .uploadToSignedUrl(presigned.path, presigned.token, bytes, { contentType: "application/pdf" });
  expect(put.error).toBeNull();
  const res = await call(`/api/v1/patients/${patientId}/documents/register-upload`, {
    method: "POST",
    headers: h.clinicianA.headers,
    body: { uploadId: presigned.uploadId },
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as Body).document.id as string;
}

async function jobOf(documentId: string) {
  const jobs = await h.database.owner<
    { id: string; status: string; attempts: number; steps: Body[]; error_code: string | null }[]
  >`
    select id, status, attempts, steps, error_code from medchr.jobs where document_id = ${documentId} order by created_at`;
  return jobs;
}

async function snapshot(documentId: string) {
  const [counts] = await h.database.owner<Body[]>`
    select
      (select count(*)::int from medchr.document_pages p join medchr.document_versions v on v.id = p.version_id
        where v.document_id = ${documentId}) as pages,
      (select count(*)::int from medchr.extracted_facts where document_id = ${documentId}) as facts,
      (select count(*)::int from medchr.document_chunks where document_id = ${documentId}) as chunks,
      (select count(*)::int from medchr.audit_events where resource_id in
        (select id::text from medchr.jobs where document_id = ${documentId})) as job_events,
      (select status from medchr.documents where id = ${documentId}) as status,
      (select current_version_id from medchr.documents where id = ${documentId}) as current_version_id`;
  return { counts: counts!, jobs: await jobOf(documentId) };
}

describe("ingestion end to end (Node, real QStash protocol)", () => {
  it("a text PDF and a scanned PDF go through every step once, with provenance; duplicates change nothing", async () => {
    const app = apiApp();
    const call = makeCaller(app, () => h.env);
    const patientId = await insertPatient(h.database.owner, h.tenantA);
    const textDoc = await upload(call, patientId, buildTextPdf(TEXT_PDF_LINES), "note.pdf");
    const scanDoc = await upload(call, patientId, syntheticLabScannedPdf(), "scan.pdf");
    await standin.waitForIdle(90_000);

    for (const documentId of [textDoc, scanDoc]) {
      const [job] = await jobOf(documentId);
      expect(job, documentId).toMatchObject({ status: "succeeded", error_code: null });
      // Each step ran exactly once, although every message was delivered at least twice.
      expect(job!.steps.map((s) => [s.step, s.status, s.attempts])).toEqual(
        PIPELINE_STEPS.map((s) => [s, "succeeded", 1]),
      );
      expect(job!.attempts).toBe(PIPELINE_STEPS.length);
      const jobView = (await (
        await call(`/api/v1/jobs/${job!.id}`, { headers: h.clinicianA.headers })
      ).json()) as Body;
      expect(jobView.job).toMatchObject({ status: "succeeded", currentStep: "finalize", error: null });
      for (const s of jobView.job.steps) expect(s.ms).toEqual(expect.any(Number));
    }
    // Every delivery was acknowledged; each step was delivered (at least) twice.
    expect(answers.filter((a) => a.status !== 200)).toEqual([]);
    for (const step of PIPELINE_STEPS) {
      expect(answers.filter((a) => a.step === step).length, step).toBeGreaterThanOrEqual(4);
    }
    expect(answers.filter((a) => a.result === "advanced" || a.result === "succeeded")).toHaveLength(12);

    // Pages: the text layer for the text PDF, OCR for the scan.
    const pages = await h.database.owner<
      { document_id: string; page: number; source: string; text: string; ocr_confidence: number | null }[]
    >`
      select v.document_id, p.page, p.source, p.text, p.ocr_confidence from medchr.document_pages p
      join medchr.document_versions v on v.id = p.version_id where v.document_id in (${textDoc}, ${scanDoc})`;
    expect(pages.find((p) => p.document_id === textDoc)).toMatchObject({ page: 1, source: "text_layer" });
    const scanned = pages.find((p) => p.document_id === scanDoc)!;
    expect(scanned).toMatchObject({ page: 1, source: "ocr" });
    expect(scanned.ocr_confidence).toBeGreaterThan(80);

    // The record: labs from both documents with provenance pointing at the page text.
    const record = await h.database.db.withTenant({ tenantId: h.tenantA, requestId: "e2e" }, (tx) =>
      buildPatientRecord(tx, patientId),
    );
    if (!record.ok) throw new Error("no record");
    expect(record.value.documents.map((d) => d.id).sort()).toEqual([textDoc, scanDoc].sort());
    // One glucose per document: the two reports have different dates, so the record keeps both.
    const glucose = record.value.labs.filter((l) => l.loinc === "2345-7");
    for (const lab of glucose) expect(lab).toMatchObject({ value: 105, flag: "H" });
    const provenance = glucose.flatMap((l) => l.provenance);
    expect(new Set(provenance.map((p) => p.documentId))).toEqual(new Set([textDoc, scanDoc]));
    for (const p of provenance) {
      const page = pages.find((x) => x.document_id === p.documentId && x.page === p.page)!;
      expect(page.text.slice(p.charStart, p.charEnd)).toMatch(/Glucose/);
    }
    expect(record.value.labs.find((l) => l.loinc === "718-7")?.flag).toBe("L");
    expect(record.value.medications.map((m) => m.name.toLowerCase())).toContain("metformin");

    // Chunks: embedded, with document, page, offsets and version.
    const chunks = await h.database.owner<Body[]>`
      select c.document_id, c.version_id, c.page, c.char_start, c.char_end, c.text, c.embedding_model,
        c.embedding is not null as embedded, d.current_version_id
      from medchr.document_chunks c join medchr.documents d on d.id = c.document_id
      where c.document_id in (${textDoc}, ${scanDoc})`;
    for (const documentId of [textDoc, scanDoc]) {
      const own = chunks.filter((c) => c.document_id === documentId);
      expect(own.length, documentId).toBeGreaterThan(0);
      for (const c of own) {
        expect(c).toMatchObject({ embedded: true, embedding_model: expect.stringMatching(/^on-box/) });
        expect(c.version_id).toBe(c.current_version_id);
        const page = pages.find((x) => x.document_id === documentId && x.page === c.page)!;
        expect(page.text.slice(c.char_start, c.char_end)).toBe(c.text);
      }
    }

    // Redeliver every message once more, after the fact: nothing changes.
    const before = [await snapshot(textDoc), await snapshot(scanDoc)];
    answers.length = 0;
    const messages = standin.messages().filter((m) => m.kind === "message" && m.url.startsWith(ORIGIN));
    expect(messages).toHaveLength(12);
    for (const m of messages) await standin.redeliver(m.messageId);
    await standin.waitForIdle(30_000);
    expect(answers).toHaveLength(12);
    expect(answers.every((a) => a.status === 200 && a.result === "ignored")).toBe(true);
    expect([await snapshot(textDoc), await snapshot(scanDoc)]).toEqual(before);
    expect(before[0]!.counts.status).toBe("processed");
  }, 150_000);

  it("re-processing makes version 2 and replaces version 1's facts and chunks, never duplicating them", async () => {
    const app = apiApp();
    const call = makeCaller(app, () => h.env);
    const patientId = await insertPatient(h.database.owner, h.tenantA);
    const documentId = await upload(call, patientId, buildTextPdf(TEXT_PDF_LINES), "again.pdf");
    await standin.waitForIdle(60_000);
    const first = await snapshot(documentId);
    expect(first.counts.facts).toBeGreaterThan(0);

    const res = await call(`/api/v1/documents/${documentId}/process`, {
      method: "POST",
      headers: h.clinicianA.headers,
      body: {},
    });
    expect(res.status).toBe(202);
    const { jobId } = (await res.json()) as Body;
    await standin.waitForIdle(60_000);
    const second = await snapshot(documentId);
    expect(second.jobs.map((j) => j.status)).toEqual(["succeeded", "succeeded"]);
    expect(second.jobs[1]!.id).toBe(jobId);
    expect(second.counts.current_version_id).not.toBe(first.counts.current_version_id);
    expect(second.counts.facts).toBe(first.counts.facts);
    expect(second.counts.chunks).toBe(first.counts.chunks);
    const versions = await h.database.owner<{ version: number; status: string }[]>`
      select version, status from medchr.document_versions where document_id = ${documentId} order by version`;
    expect(versions).toEqual([
      { version: 1, status: "superseded" },
      { version: 2, status: "ready" },
    ]);
  }, 120_000);

  it("a corrupt PDF fails its job at the first step with a safe error; the document is failed", async () => {
    const app = apiApp();
    const call = makeCaller(app, () => h.env);
    const patientId = await insertPatient(h.database.owner, h.tenantA);
    const corrupt = new TextEncoder().encode(`%PDF-1.7\n${"garbage ".repeat(200)}\n%%EOF\n`);
    const documentId = await upload(call, patientId, corrupt, "broken.pdf");
    await standin.waitForIdle(60_000);
    const [job] = await jobOf(documentId);
    expect(job).toMatchObject({ status: "failed", error_code: "pdf_corrupt" });
    expect(job!.steps[0]).toMatchObject({ step: "extract_text", status: "failed", attempts: 1 });
    const view = (await (
      await call(`/api/v1/jobs/${job!.id}`, { headers: h.clinicianA.headers })
    ).json()) as Body;
    expect(view.job.error).toEqual({ code: "pdf_corrupt", message: expect.any(String) });
    expect((await snapshot(documentId)).counts.status).toBe("failed");
  }, 60_000);

  it("a report drafted through the same path: POST 202, the draft_report step delivered by QStash, a verified draft", async () => {
    const app = apiApp();
    const call = makeCaller(app, () => h.env);
    const patientId = await insertPatient(h.database.owner, h.tenantA);
    await upload(call, patientId, buildTextPdf(TEXT_PDF_LINES), "note.pdf");
    await standin.waitForIdle(60_000);
    answers.length = 0;

    const res = await call(`/api/v1/patients/${patientId}/reports`, {
      method: "POST",
      headers: h.clinicianA.headers,
      body: {},
    });
    expect(res.status).toBe(202);
    const { reportId, jobId } = (await res.json()) as Body;
    expect(res.headers.get("location")).toBe(`/api/v1/reports/${reportId}`);
    await standin.waitForIdle(60_000);
    // The step was delivered twice (duplicateDeliveries) and ran once.
    expect(answers.filter((a) => a.step === "draft_report").map((a) => a.status)).toEqual([200, 200]);
    const job = (await (
      await call(`/api/v1/jobs/${jobId}`, { headers: h.clinicianA.headers })
    ).json()) as Body;
    expect(job.job).toMatchObject({ kind: "report.draft", status: "succeeded", currentStep: "draft_report" });
    expect(job.job.steps).toEqual([
      expect.objectContaining({ step: "draft_report", status: "succeeded", attempts: 1 }),
    ]);

    const report = (
      (await (await call(`/api/v1/reports/${reportId}`, { headers: h.clinicianA.headers })).json()) as Body
    ).report;
    expect(report).toMatchObject({ status: "draft", revision: 1, unsupportedCount: 0, provider: "on-box" });
    const summary = report.content.summary.map((c: Body) => c.text).join(" ");
    expect(summary).toMatch(/Type 2 diabetes mellitus/);
    expect(summary).toMatch(/Metformin/);
    for (const claim of report.content.summary) {
      expect(claim.support).toBe("verified");
      for (const c of claim.citations) expect(report.sources[c.chunkId].text).toContain(c.quote);
    }
  }, 120_000);
});
