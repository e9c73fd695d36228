/**
 * POST /pipeline/steps/{step} through the pipeline app's whole middleware stack (request id,
 * config, body limit, JSON-only, database), with fake step handlers: the Upstash-Signature is
 * checked on the raw body before anything runs (missing, forged, expired, tampered, wrong
 * step -> 401, nothing touched; the next key works), and the runner's outcomes become 200 or
 * 503 as QStash needs them.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { signQStashDelivery } from "../../scripts/local/qstash/sign-qstash-delivery";
import { ok } from "../../shared/core/result";
import { createDocumentProcessingJob } from "../../shared/jobs/create-document-processing-job";
import { STEP_DELIVERY_RETRIES } from "../../shared/jobs/job-settings";
import {
  createFakeHandlers,
  createRecordingQueue,
  insertDocument,
  insertPatient,
  type RecordingQueue,
} from "../../shared/jobs/testing";
import type { PipelineStep } from "../../shared/pipeline/pipeline-steps";
import type { ObjectStorage } from "../../shared/storage/object-storage";
import { testKeyRing } from "../../test/helpers/identity";
import { createTenant, startTestDatabase, type TestDatabase } from "../../test/helpers/test-database";
import { testEnv } from "../../test/helpers/test-env";
import { buildPipelineApp } from "./app";

const ORIGIN = "https://pipeline.medchr.test";
const CURRENT = "sig_current_step_routes_0123456789";
const NEXT = "sig_next_step_routes_abcdefghijklmn";
const QSTASH = {
  QSTASH_CURRENT_SIGNING_KEY: CURRENT,
  QSTASH_NEXT_SIGNING_KEY: NEXT,
  QSTASH_TOKEN: "qstash-token-step-routes-0123456789",
  PUBLIC_ORIGIN: ORIGIN,
};

let database: TestDatabase;
let tenant: string;
let env: Record<string, unknown>;
let queue: RecordingQueue;
const fake = createFakeHandlers();
const storage = {} as ObjectStorage;
const app = buildPipelineApp({
  handlers: fake.handlers,
  storageFor: () => ok(storage),
  queueFor: () => queue,
});

beforeAll(async () => {
  database = await startTestDatabase();
  tenant = await createTenant(database.owner, "pipeline-routes");
  env = testEnv(database.url, QSTASH);
});
afterAll(async () => {
  await database?.stop();
});
beforeEach(() => {
  queue = createRecordingQueue();
  fake.reset();
});

async function newJob(): Promise<string> {
  const patientId = await insertPatient(database.owner, tenant);
  const documentId = await insertDocument(database.owner, tenant, patientId);
  const created = await database.db.withTenant({ tenantId: tenant, actorId: "test", requestId: "t" }, (tx) =>
    createDocumentProcessingJob(
      tx,
      { documentId },
      {
        auditKeys: testKeyRing("AUDIT_KEYS"),
        actor: { type: "system", id: "test.routes" },
        ip: null,
        userAgent: null,
        requestId: "t",
      },
    ),
  );
  if (!created.ok) throw new Error(created.error.reason);
  return created.value.jobId;
}

const stepUrl = (step: string) => `${ORIGIN}/pipeline/steps/${step}`;

interface Delivery {
  step?: PipelineStep | string;
  body?: string;
  /** What the signature covers; default: the same body and the step's URL. */
  signedBody?: string;
  signedUrl?: string;
  key?: string;
  nowSeconds?: number;
  signature?: string | null;
  retried?: number;
  headers?: Record<string, string>;
  stream?: boolean;
  env?: Record<string, unknown>;
}

async function deliver(jobId: string, d: Delivery = {}) {
  const step = d.step ?? "extract_text";
  const body = d.body ?? JSON.stringify({ jobId });
  const signature =
    d.signature === undefined
      ? await signQStashDelivery({
          key: d.key ?? CURRENT,
          url: d.signedUrl ?? stepUrl(step),
          body: d.signedBody ?? body,
          ...(d.nowSeconds !== undefined ? { nowSeconds: d.nowSeconds } : {}),
        })
      : d.signature;
  const headers: Record<string, string> = {
    "Content-Type": "application/json",
    "User-Agent": "Upstash-QStash",
    "Upstash-Message-Id": "msg_test",
    "Upstash-Retried": String(d.retried ?? 0),
    ...(signature !== null ? { "Upstash-Signature": signature } : {}),
    ...d.headers,
  };
  const init: RequestInit & { duplex?: string } = { method: "POST", headers };
  if (d.stream) {
    const bytes = new TextEncoder().encode(body);
    init.body = new ReadableStream({
      start(controller) {
        controller.enqueue(bytes.subarray(0, 5));
        controller.enqueue(bytes.subarray(5));
        controller.close();
      },
    });
    init.duplex = "half";
  } else {
    init.body = body;
  }
  return app.request(stepUrl(step), init, d.env ?? env);
}

async function jobState(jobId: string) {
  const [row] = await database.owner<{ status: string; attempts: number; current_step: string }[]>`
    select status, attempts, current_step from medchr.jobs where id = ${jobId}`;
  return row!;
}

describe("POST /pipeline/steps/{step}: signature", () => {
  const refusals: Array<[string, Delivery]> = [
    ["no signature", { signature: null }],
    ["an empty signature", { signature: " " }],
    ["a garbage signature", { signature: "not.a.jwt" }],
    ["a signature made with another key", { key: "sig_attacker_0123456789abcdefghij" }],
    ["an expired signature", { nowSeconds: Math.floor(Date.now() / 1000) - 10 * 60 }],
    ["a signature from the future", { nowSeconds: Math.floor(Date.now() / 1000) + 10 * 60 }],
    ["a tampered body", { signedBody: JSON.stringify({ jobId: "00000000-0000-4000-8000-000000000000" }) }],
    ["a signature for another step", { signedUrl: stepUrl("finalize") }],
    ["a signature for another origin", { signedUrl: "https://evil.example/pipeline/steps/extract_text" }],
  ];
  it.each(refusals)("refuses %s with 401 JSON and touches nothing", async (_label, delivery) => {
    const jobId = await newJob();
    const res = await deliver(jobId, delivery);
    expect(res.status).toBe(401);
    const body = (await res.json()) as { error: { code: string; requestId: string } };
    expect(body.error).toMatchObject({ code: "unauthorized", requestId: expect.any(String) });
    expect(fake.calls).toEqual([]);
    expect(queue.published).toEqual([]);
    expect(await jobState(jobId)).toMatchObject({ status: "queued", attempts: 0 });
  });

  it("runs a delivery signed with the current key and publishes the next step", async () => {
    const jobId = await newJob();
    const res = await deliver(jobId);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ result: "advanced", next: "classify" });
    expect(fake.calls).toEqual(["extract_text"]);
    expect(queue.published).toEqual([
      expect.objectContaining({
        url: stepUrl("classify"),
        body: { jobId },
        options: { deduplicationId: `${jobId}:classify`, retries: STEP_DELIVERY_RETRIES },
      }),
    ]);
  });

  it("accepts the next signing key (rotation) and a body streamed without Content-Length", async () => {
    const jobId = await newJob();
    expect((await deliver(jobId, { key: NEXT })).status).toBe(200);
    expect((await deliver(jobId, { step: "classify", stream: true })).status).toBe(200);
    expect(fake.calls).toEqual(["extract_text", "classify"]);
  });

  it("a replayed delivery changes nothing", async () => {
    const jobId = await newJob();
    const body = JSON.stringify({ jobId });
    const signature = await signQStashDelivery({ key: CURRENT, url: stepUrl("extract_text"), body });
    expect((await deliver(jobId, { body, signature })).status).toBe(200);
    const before = await jobState(jobId);
    const replay = await deliver(jobId, { body, signature });
    expect(replay.status).toBe(200);
    expect(await replay.json()).toEqual({ result: "republished", next: "classify" });
    expect(fake.calls).toEqual(["extract_text"]);
    expect(await jobState(jobId)).toEqual(before);
    expect(queue.delivered()).toHaveLength(1);
  });
});

describe("POST /pipeline/steps/{step}: answers", () => {
  it("503 for a retryable failure until the last retry (Upstash-Retried), then 200 failed", async () => {
    const jobId = await newJob();
    fake.set("extract_text", async () => ({
      ok: false,
      failure: { code: "ocr_unavailable", message: "OCR is not available.", retryable: true },
    }));
    for (let retried = 0; retried < STEP_DELIVERY_RETRIES; retried++) {
      const res = await deliver(jobId, { retried });
      expect(res.status).toBe(503);
      expect(await res.json()).toMatchObject({
        error: { code: "unavailable", details: { result: "retry", code: "ocr_unavailable" } },
      });
    }
    const last = await deliver(jobId, { retried: STEP_DELIVERY_RETRIES });
    expect(last.status).toBe(200);
    expect(await last.json()).toEqual({ result: "failed", code: "ocr_unavailable" });
    expect(await jobState(jobId)).toMatchObject({ status: "failed", attempts: STEP_DELIVERY_RETRIES + 1 });
  });

  it("503 when the next step cannot be published, then the redelivery publishes it", async () => {
    const jobId = await newJob();
    queue.failing = true;
    expect((await deliver(jobId)).status).toBe(503);
    queue.failing = false;
    const again = await deliver(jobId, { retried: 1 });
    expect(await again.json()).toEqual({ result: "republished", next: "classify" });
    expect(fake.calls).toEqual(["extract_text"]);
  });

  it("200 for an unknown job (nothing to retry) and 404 for an unknown step", async () => {
    const res = await deliver("00000000-0000-4000-8000-000000000000");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ result: "ignored", reason: "job_not_found" });
    expect((await deliver("00000000-0000-4000-8000-000000000000", { step: "steal_data" })).status).toBe(404);
  });

  it("400 for a signed body that is not {jobId}; 413 for a signed body over the job size limit", async () => {
    const jobId = await newJob();
    for (const body of ["not json", JSON.stringify({ jobId: "nope" }), JSON.stringify({ jobId, extra: 1 })]) {
      const res = await deliver(jobId, { body });
      expect(res.status, body).toBe(400);
    }
    const big = JSON.stringify({ jobId, pad: "x".repeat(100 * 1024) });
    expect((await deliver(jobId, { body: big })).status).toBe(413);
    expect(fake.calls).toEqual([]);
  });

  it("415 without a JSON content type (before anything is read)", async () => {
    const jobId = await newJob();
    const res = await deliver(jobId, { headers: { "Content-Type": "text/plain" } });
    expect(res.status).toBe(415);
    expect(fake.calls).toEqual([]);
  });

  it("503 misconfigured when the signing keys, token or public origin are missing (dev/test)", async () => {
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    try {
      const jobId = await newJob();
      for (const missing of Object.keys(QSTASH)) {
        const partial = testEnv(database.url, { ...QSTASH, [missing]: undefined });
        const res = await deliver(jobId, { env: partial });
        expect(res.status, missing).toBe(503);
        expect(await res.json()).toMatchObject({ error: { code: "misconfigured" } });
      }
      const weak = testEnv(database.url, { ...QSTASH, QSTASH_NEXT_SIGNING_KEY: "short" });
      expect((await deliver(jobId, { env: weak })).status).toBe(503);
      // Setting names only, never values.
      const logged = JSON.stringify(errors.mock.calls);
      expect(logged).toContain("QSTASH_NEXT_SIGNING_KEY");
      expect(logged).not.toContain(CURRENT);
      expect(fake.calls).toEqual([]);
    } finally {
      errors.mockRestore();
    }
  });
});
