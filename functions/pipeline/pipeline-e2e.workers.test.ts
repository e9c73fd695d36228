/**
 * Issue 5 acceptance inside workerd: a text PDF and a scanned PDF uploaded through the
 * documents API (presign + register; the storage function behind the STORAGE binding, with an
 * in-memory bucket), processing requested through the jobs API, and every step delivered to the
 * pipeline app as QStash delivers it: POST with the raw JSON body and an Upstash-Signature JWT
 * made by the stand-in's own signer (scripts/local/qstash/sign-qstash-delivery.ts), retried with
 * a climbing Upstash-Retried on 5xx, and every successful delivery sent TWICE. The real step
 * handlers run here, OCR included (the Worker's bundled wasm and traineddata), on postgres over
 * TCP. Jobs succeed, the record and the chunks carry provenance, duplicates change nothing.
 *
 * QStash itself (publish API, dedup window, retries) is the Node stand-in's job and is exercised
 * with the same routes in pipeline-e2e.db.test.ts: a Node HTTP server cannot run in workerd, so
 * here the published messages are collected by a recording queue and delivered by this file.
 */
import { env } from "cloudflare:workers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signQStashDelivery } from "../../scripts/local/qstash/sign-qstash-delivery";
import { connect, createDatabase } from "../../shared/db/database";
import { createFunctionApp } from "../../shared/http/create-app";
import { STEP_DELIVERY_RETRIES } from "../../shared/jobs/job-settings";
import { createRecordingQueue, insertPatient, type PublishedMessage } from "../../shared/jobs/testing";
import { PIPELINE_STEPS } from "../../shared/pipeline/pipeline-steps";
import { buildPatientRecord } from "../../shared/records/build-patient-record";
import { lazyOcr } from "../../shared/text";
import { createOcrEngine } from "../../shared/text/ocr-engine";
import { SYNTHETIC_LAB_LINES, syntheticLabScannedPdf } from "../../shared/text/testing/synthetic-lab-page";
import { loadWorkersOcrAssets } from "../../shared/text/workers-ocr-assets";
import { buildTextPdf } from "../../test/fixtures/clinical/build-test-pdf";
import { createApiKey, type TestApiKey } from "../../test/helpers/identity";
import { testEnv } from "../../test/helpers/test-env";
import { DOCUMENT_MULTIPART_PATHS, registerDocumentRoutes } from "../api/routes/documents";
import { registerJobRoutes } from "../api/routes/jobs";
import { buildStorageApp } from "../storage/app";
import { buildPipelineApp } from "./app";
import { createMemoryObjectStorage } from "./testing/memory-object-storage";

const urls = env as unknown as { TEST_DATABASE_URL: string; TEST_OWNER_DATABASE_URL: string };
const owner = connect(urls.TEST_OWNER_DATABASE_URL);

const ORIGIN = "https://medchr.workers.test";
const CURRENT = "sig_workers_current_0123456789abcd";
const NEXT = "sig_workers_next_0123456789abcdefgh";
const INTERNAL_TOKEN = "storage-internal-token-workers-0123456789";

const bucket = createMemoryObjectStorage();
const storageApp = buildStorageApp({ objectStorage: () => bucket });
const storageEnv = testEnv(urls.TEST_DATABASE_URL, { STORAGE_INTERNAL_TOKEN: INTERNAL_TOKEN });
const STORAGE = { fetch: (request: Request) => storageApp.fetch(request, storageEnv) };

const queue = createRecordingQueue();
const apiApp = createFunctionApp("api", { usesDatabase: true, multipartPaths: DOCUMENT_MULTIPART_PATHS });
// Processing is started explicitly below (POST /process) through the recording queue; the
// automatic start on registration would publish through the env's QStash, which is not here.
registerDocumentRoutes(apiApp, { onRegistered: async () => {} });
registerJobRoutes(apiApp, { queueFor: () => queue });
const apiEnv = testEnv(urls.TEST_DATABASE_URL, {
  STORAGE,
  STORAGE_INTERNAL_TOKEN: INTERNAL_TOKEN,
  PUBLIC_ORIGIN: ORIGIN,
});

// The Worker's OCR: the bundled CompiledWasm module and Data traineddata, one engine per isolate.
const ocr = lazyOcr(() => createOcrEngine(loadWorkersOcrAssets()));
const pipelineApp = buildPipelineApp({ getOcr: ocr.get, queueFor: () => queue });
const pipelineEnv = testEnv(urls.TEST_DATABASE_URL, {
  QSTASH_CURRENT_SIGNING_KEY: CURRENT,
  QSTASH_NEXT_SIGNING_KEY: NEXT,
  QSTASH_TOKEN: "qstash-token-workers-0123456789abcdef",
  PUBLIC_ORIGIN: ORIGIN,
  STORAGE,
  STORAGE_INTERNAL_TOKEN: INTERNAL_TOKEN,
});

let tenantId: string;
let key: TestApiKey;
// biome-ignore lint/suspicious/noExplicitAny: response bodies are checked field by field
type Body = Record<string, any>;

beforeAll(async () => {
  const [row] = await owner<{ id: string }[]>`
    insert into medchr.tenants (name, slug) values ('Workerd Pipeline', ${`wd-pipeline-${Date.now()}`}) returning id`;
  tenantId = row!.id;
  key = await createApiKey(owner, tenantId, { scopes: ["read", "write"] });
});
afterAll(async () => {
  ocr.dispose();
  await owner.end();
});

async function api(method: string, path: string, body?: unknown) {
  const res = await apiApp.request(
    path,
    {
      method,
      headers: { "CF-Connecting-IP": "192.0.2.30", "Content-Type": "application/json", ...key.headers },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    },
    apiEnv,
  );
  return { status: res.status, json: (await res.json()) as Body };
}

async function uploadPdf(patientId: string, bytes: Uint8Array, filename: string): Promise<string> {
  const presigned = await api("POST", `/api/v1/patients/${patientId}/documents/presign-upload`, {
    filename,
    contentType: "application/pdf",
    size: bytes.length,
  });
  expect(presigned.status).toBe(201);
  bucket.put(presigned.json.path, bytes, "application/pdf");
  const registered = await api("POST", `/api/v1/patients/${patientId}/documents/register-upload`, {
    uploadId: presigned.json.uploadId,
  });
  expect(registered.status).toBe(201);
  return registered.json.document.id as string;
}

interface Delivery {
  step: string;
  status: number;
  result: string;
  retried: number;
}
const deliveries: Delivery[] = [];

/** One signed delivery, exactly as the QStash stand-in makes it. */
async function deliver(message: PublishedMessage, retried: number): Promise<Response> {
  const body = JSON.stringify(message.body);
  const signature = await signQStashDelivery({ key: CURRENT, url: message.url, body });
  const res = await pipelineApp.request(
    message.url,
    {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        "User-Agent": "Upstash-QStash",
        "Upstash-Message-Id": message.messageId,
        "Upstash-Retried": String(retried),
        "Upstash-Signature": signature,
      },
      body,
    },
    pipelineEnv,
  );
  const json = (await res.clone().json()) as Body;
  deliveries.push({
    step: new URL(message.url).pathname.split("/").pop()!,
    status: res.status,
    result: json.result ?? json.error?.details?.result ?? json.error?.code,
    retried,
  });
  return res;
}

/** Delivers every published message (retrying on 5xx, twice on success) until none is left. */
async function drain(): Promise<void> {
  const done = new Set<string>();
  for (;;) {
    const pending = queue.delivered().filter((m) => !done.has(m.messageId));
    if (pending.length === 0) return;
    for (const message of pending) {
      done.add(message.messageId);
      for (let retried = 0; retried <= STEP_DELIVERY_RETRIES; retried++) {
        const res = await deliver(message, retried);
        if (res.status === 200) {
          await deliver(message, retried);
          break;
        }
      }
    }
  }
}

async function snapshot([first, second]: [string, string]) {
  return owner<Body[]>`
    select d.id, d.status, d.current_version_id,
      (select jsonb_agg(jsonb_build_array(j.status, j.attempts, j.steps) order by j.created_at) from medchr.jobs j where j.document_id = d.id) as jobs,
      (select count(*)::int from medchr.extracted_facts f where f.document_id = d.id) as facts,
      (select count(*)::int from medchr.document_chunks c where c.document_id = d.id) as chunks,
      (select count(*)::int from medchr.audit_events e where e.resource_id in
        (select id::text from medchr.jobs where document_id = d.id)) as job_events
    from medchr.documents d where d.id in (${first}, ${second}) order by d.id`;
}

describe("ingestion end to end (workerd)", () => {
  it("processes a text PDF and a scanned PDF through every signed step; duplicates change nothing", async () => {
    const patientId = await insertPatient(owner, tenantId);
    const textDoc = await uploadPdf(patientId, buildTextPdf(SYNTHETIC_LAB_LINES.slice(0, 14)), "labs.pdf");
    const scanDoc = await uploadPdf(patientId, syntheticLabScannedPdf(), "scan.pdf");

    const jobs: string[] = [];
    for (const documentId of [textDoc, scanDoc]) {
      const res = await api("POST", `/api/v1/documents/${documentId}/process`, {});
      expect(res.status).toBe(202);
      jobs.push(res.json.jobId as string);
    }
    await drain();

    expect(deliveries.filter((d) => d.status !== 200)).toEqual([]);
    expect(deliveries.filter((d) => d.result === "advanced" || d.result === "succeeded")).toHaveLength(12);
    for (const jobId of jobs) {
      const view = await api("GET", `/jobs/${jobId}`);
      expect(view.json.job).toMatchObject({
        status: "succeeded",
        currentStep: "finalize",
        error: null,
        attempts: 6,
      });
      expect(view.json.job.steps.map((s: Body) => [s.step, s.status, s.attempts])).toEqual(
        PIPELINE_STEPS.map((s) => [s, "succeeded", 1]),
      );
    }

    const pages = await owner<{ document_id: string; page: number; source: string; text: string }[]>`
      select v.document_id, p.page, p.source, p.text from medchr.document_pages p
      join medchr.document_versions v on v.id = p.version_id where v.document_id in (${textDoc}, ${scanDoc})`;
    expect(pages.find((p) => p.document_id === textDoc)?.source).toBe("text_layer");
    expect(pages.find((p) => p.document_id === scanDoc)?.source).toBe("ocr");

    const db = createDatabase(urls.TEST_DATABASE_URL);
    try {
      const record = await db.withTenant({ tenantId, requestId: "wd" }, (tx) =>
        buildPatientRecord(tx, patientId),
      );
      if (!record.ok) throw new Error("no record");
      const glucose = record.value.labs.filter((l) => l.loinc === "2345-7");
      const provenance = glucose.flatMap((l) => l.provenance);
      expect(new Set(provenance.map((p) => p.documentId))).toEqual(new Set([textDoc, scanDoc]));
      for (const p of provenance) {
        const page = pages.find((x) => x.document_id === p.documentId && x.page === p.page)!;
        expect(page.text.slice(p.charStart, p.charEnd)).toMatch(/Glucose/);
      }
    } finally {
      await db.close();
    }
    const chunks = await owner<Body[]>`
      select c.document_id, c.page, c.char_start, c.char_end, c.text, c.embedding is not null as embedded,
        c.version_id = d.current_version_id as current
      from medchr.document_chunks c join medchr.documents d on d.id = c.document_id
      where c.document_id in (${textDoc}, ${scanDoc})`;
    expect(new Set(chunks.map((c) => c.document_id))).toEqual(new Set([textDoc, scanDoc]));
    for (const c of chunks) {
      expect(c).toMatchObject({ embedded: true, current: true });
      const page = pages.find((x) => x.document_id === c.document_id && x.page === c.page)!;
      expect(page.text.slice(c.char_start, c.char_end)).toBe(c.text);
    }

    // Every message delivered once more after the run: nothing changes.
    const before = await snapshot([textDoc, scanDoc]);
    expect(before.map((d) => d.status)).toEqual(["processed", "processed"]);
    deliveries.length = 0;
    for (const message of queue.delivered()) await deliver(message, 0);
    expect(deliveries).toHaveLength(12);
    expect(deliveries.every((d) => d.status === 200 && d.result === "ignored")).toBe(true);
    expect(await snapshot([textDoc, scanDoc])).toEqual(before);
  }, 180_000);

  it("refuses an unsigned or forged delivery inside workerd with 401", async () => {
    const message = { url: `${ORIGIN}/pipeline/steps/extract_text` };
    const body = JSON.stringify({ jobId: crypto.randomUUID() });
    const forged = await signQStashDelivery({
      key: "sig_attacker_0123456789abcdefghij",
      url: message.url,
      body,
    });
    for (const headers of [{}, { "Upstash-Signature": forged }] as Record<string, string>[]) {
      const res = await pipelineApp.request(
        message.url,
        { method: "POST", headers: { "Content-Type": "application/json", ...headers }, body },
        pipelineEnv,
      );
      expect(res.status).toBe(401);
    }
  });
});
