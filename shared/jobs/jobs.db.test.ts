/**
 * Jobs against PGlite with the real migrations: creating a run (job + version + document
 * status, idempotent), the runner with fake handlers (redelivery, a crash between commit and
 * publish, a crash half way, retries, the last retry, permanent failures, a document deleted
 * mid-run, a live lease) and the sweeper.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { testKeyRing } from "../../test/helpers/identity";
import { createTenant, startTestDatabase, type TestDatabase } from "../../test/helpers/test-database";
import type { AuditContext } from "../audit/audit-context";
import { PIPELINE_STEPS, type PipelineStep } from "../pipeline/pipeline-steps";
import { onBoxGateway } from "../pipeline/steps/testing";
import { textErr } from "../text";
import { createDocumentProcessingJob } from "./create-document-processing-job";
import { getJob } from "./get-job";
import { MAX_STEP_ATTEMPTS, MAX_STEP_SWEEPS, STEP_DELIVERY_RETRIES } from "./job-settings";
import { type JobRunnerContext, runJobStep } from "./run-job-step";
import { startDocumentProcessing } from "./start-document-processing";
import { sweepStuckJobs } from "./sweep-stuck-jobs";
import {
  createFakeHandlers,
  createRecordingQueue,
  insertDocument,
  insertPatient,
  type RecordingQueue,
} from "./testing";

const ORIGIN = "https://medchr.test";
const MAX_ATTEMPTS = STEP_DELIVERY_RETRIES + 1;
const auditKeys = testKeyRing("AUDIT_KEYS");

let database: TestDatabase;
let tenantA: string;
let tenantB: string;
let queue: RecordingQueue;
const fake = createFakeHandlers();

const audit: AuditContext = {
  auditKeys,
  actor: { type: "system", id: "test.jobs" },
  ip: null,
  userAgent: null,
  requestId: "test-jobs",
};

const noStorage = new Proxy({} as JobRunnerContext["storage"], {
  get() {
    throw new Error("the fake handlers never read storage");
  },
});

function runnerContext(overrides: Partial<JobRunnerContext> = {}): JobRunnerContext {
  return {
    db: database.db,
    storage: noStorage,
    getOcr: async () => textErr("ocr_unavailable", "no OCR in this test"),
    llm: onBoxGateway(database.db, {
      model: "test@1",
      dimensions: 2,
      embed: async () => ({ ok: true, value: [] }),
    }),
    now: () => new Date(),
    requestId: "test-runner",
    queue,
    publicOrigin: ORIGIN,
    auditKeys,
    ...overrides,
  };
}

const deliver = (jobId: string, step: PipelineStep, deliveryAttempt = 1, ctx = runnerContext()) =>
  runJobStep(ctx, fake.handlers, { jobId, step, deliveryAttempt, maxAttempts: MAX_ATTEMPTS });

interface Row {
  status: string;
  current_step: string | null;
  attempts: number;
  lease_expires_at: Date | null;
  error_code: string | null;
  error_message: string | null;
  finished_at: Date | null;
  steps: Array<{ step: string; status: string; attempts: number; ms: number | null; sweeps: number }>;
  updated_at: Date;
}

async function jobRow(jobId: string): Promise<Row> {
  const [row] = await database.owner<Row[]>`
    select status, current_step, attempts, lease_expires_at, error_code, error_message, finished_at, steps, updated_at
    from medchr.jobs where id = ${jobId}`;
  return row!;
}

const stepOf = (row: Row, step: PipelineStep) => row.steps.find((s) => s.step === step)!;

async function documentState(documentId: string) {
  const [doc] = await database.owner<{ status: string; current_version_id: string | null }[]>`
    select status, current_version_id from medchr.documents where id = ${documentId}`;
  const versions = await database.owner<{ version: number; status: string; job_id: string | null }[]>`
    select version, status, job_id from medchr.document_versions where document_id = ${documentId} order by version`;
  return { document: doc, versions };
}

async function auditActions(tenantId: string, jobId: string) {
  const rows = await database.owner<{ action: string; details: Record<string, unknown>; actor_id: string }[]>`
    select action, details, actor_id from medchr.audit_events
    where tenant_id = ${tenantId} and resource_id = ${jobId} order by seq`;
  return rows;
}

async function newJob(tenantId = tenantA) {
  const patientId = await insertPatient(database.owner, tenantId);
  const documentId = await insertDocument(database.owner, tenantId, patientId);
  const created = await database.db.withTenant({ tenantId, actorId: "test", requestId: "test" }, (tx) =>
    createDocumentProcessingJob(tx, { documentId }, audit),
  );
  if (!created.ok) throw new Error(created.error.reason);
  return { jobId: created.value.jobId, documentId, patientId, tenantId };
}

/** Runs every step up to (not including) `until`, as QStash would deliver them. */
async function runUntil(jobId: string, until: PipelineStep | null) {
  for (const step of PIPELINE_STEPS) {
    if (step === until) return;
    const outcome = await deliver(jobId, step);
    expect(outcome.result, step).toMatch(/^(advanced|succeeded)$/);
  }
}

/** Makes `step`'s handler wait, inside its run, until released; `started` says it got there. */
function holdStep(step: PipelineStep) {
  let release: () => void = () => {};
  let started: () => void = () => {};
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const reached = new Promise<void>((resolve) => {
    started = resolve;
  });
  fake.set(step, async () => {
    started();
    await gate;
    return { ok: true };
  });
  return { started: reached, release: () => release() };
}

beforeAll(async () => {
  database = await startTestDatabase();
  tenantA = await createTenant(database.owner, "jobs-a");
  tenantB = await createTenant(database.owner, "jobs-b");
});
afterAll(async () => {
  await database?.stop();
});
beforeEach(() => {
  queue = createRecordingQueue();
  fake.reset();
});

describe("createDocumentProcessingJob", () => {
  it("creates a queued job, version 1 (building) and sets the document processing, audited", async () => {
    const { jobId, documentId, patientId } = await newJob();
    const row = await jobRow(jobId);
    expect(row).toMatchObject({
      status: "queued",
      current_step: "extract_text",
      attempts: 0,
      error_code: null,
    });
    expect(row.steps.map((s) => [s.step, s.status])).toEqual(PIPELINE_STEPS.map((s) => [s, "pending"]));
    const state = await documentState(documentId);
    expect(state.document!.status).toBe("processing");
    expect(state.versions).toEqual([{ version: 1, status: "building", job_id: jobId }]);
    const events = await auditActions(tenantA, jobId);
    expect(events.map((e) => e.action)).toEqual(["job.create"]);
    expect(events[0]!.details).toEqual({ kind: "document.process", patientId, documentId });
  });

  it("returns the active job instead of starting a second run, and versions the next run", async () => {
    const { jobId, documentId } = await newJob();
    const scope = { tenantId: tenantA, actorId: "test", requestId: "test" };
    const again = await database.db.withTenant(scope, (tx) =>
      createDocumentProcessingJob(tx, { documentId }, audit),
    );
    expect(again).toEqual({
      ok: true,
      value: { jobId, status: "queued", publish: null, created: false, versionId: null },
    });
    const [{ n }] =
      (await database.owner`select count(*)::int as n from medchr.jobs where document_id = ${documentId}`) as unknown as [
        { n: number },
      ];
    expect(n).toBe(1);

    await runUntil(jobId, null);
    const next = await database.db.withTenant(scope, (tx) =>
      createDocumentProcessingJob(tx, { documentId }, audit),
    );
    expect(next.ok && next.value.created).toBe(true);
    const state = await documentState(documentId);
    expect(state.versions.map((v) => [v.version, v.status])).toEqual([
      [1, "building"],
      [2, "building"],
    ]);
    expect(state.document!.status).toBe("processing");
  });

  it("refuses a quarantined document, and another tenant's or an unknown one reads as not found", async () => {
    const patientId = await insertPatient(database.owner, tenantA);
    const quarantined = await insertDocument(database.owner, tenantA, patientId, { status: "quarantined" });
    const foreignPatient = await insertPatient(database.owner, tenantB);
    const foreign = await insertDocument(database.owner, tenantB, foreignPatient);
    const scope = { tenantId: tenantA, actorId: "test", requestId: "test" };
    const tryCreate = (documentId: string) =>
      database.db.withTenant(scope, (tx) => createDocumentProcessingJob(tx, { documentId }, audit));
    expect(await tryCreate(quarantined)).toMatchObject({
      ok: false,
      error: { code: "conflict", reason: "document_quarantined" },
    });
    for (const id of [foreign, "00000000-0000-4000-8000-000000000000", "not-a-uuid"]) {
      expect(await tryCreate(id)).toMatchObject({
        ok: false,
        error: { code: "not_found", reason: "document_not_found" },
      });
    }
    expect((await documentState(foreign)).document!.status).toBe("uploaded");
    const [{ n }] =
      (await database.owner`select count(*)::int as n from medchr.jobs where document_id in (${quarantined}, ${foreign})`) as unknown as [
        { n: number },
      ];
    expect(n).toBe(0);
  });
});

describe("startDocumentProcessing", () => {
  it("publishes the first step after commit, once, with the step's deduplication id", async () => {
    const patientId = await insertPatient(database.owner, tenantA);
    const documentId = await insertDocument(database.owner, tenantA, patientId);
    const deps = {
      db: database.db,
      scope: { tenantId: tenantA, actorId: "test", requestId: "test" },
      audit,
      queue,
      publicOrigin: ORIGIN,
    };
    const started = await startDocumentProcessing(deps, { documentId });
    expect(started).toMatchObject({ ok: true, value: { status: "queued", created: true, published: true } });
    const jobId = started.ok ? started.value.jobId : "";
    expect(queue.published).toEqual([
      expect.objectContaining({
        url: `${ORIGIN}/pipeline/steps/extract_text`,
        body: { jobId },
        options: { deduplicationId: `${jobId}:extract_text`, retries: STEP_DELIVERY_RETRIES },
      }),
    ]);
    // A repeated POST answers the same job and publishes nothing new.
    const again = await startDocumentProcessing(deps, { documentId });
    expect(again).toMatchObject({ ok: true, value: { jobId, created: false, published: false } });
    expect(queue.published).toHaveLength(1);
  });

  it("leaves the job queued when the queue is down or not configured", async () => {
    queue.failing = true;
    const patientId = await insertPatient(database.owner, tenantA);
    const scope = { tenantId: tenantA, actorId: "test", requestId: "test" };
    for (const [q, origin] of [
      [queue, ORIGIN],
      [null, ORIGIN],
      [queue, null],
    ] as const) {
      const documentId = await insertDocument(database.owner, tenantA, patientId);
      const started = await startDocumentProcessing(
        { db: database.db, scope, audit, queue: q, publicOrigin: origin },
        { documentId },
      );
      expect(started).toMatchObject({
        ok: true,
        value: { created: true, published: false, status: "queued" },
      });
      expect((await jobRow(started.ok ? started.value.jobId : "")).status).toBe("queued");
    }
  });
});

describe("runJobStep", () => {
  it("runs every step in order, publishing each next step once, and ends succeeded (audited)", async () => {
    const { jobId, documentId } = await newJob();
    for (const [i, step] of PIPELINE_STEPS.entries()) {
      const outcome = await deliver(jobId, step);
      const next = PIPELINE_STEPS[i + 1];
      expect(outcome).toEqual(next ? { result: "advanced", next } : { result: "succeeded" });
    }
    expect(fake.calls).toEqual([...PIPELINE_STEPS]);
    expect(queue.published.map((m) => [m.url, m.options.deduplicationId])).toEqual(
      PIPELINE_STEPS.slice(1).map((s) => [`${ORIGIN}/pipeline/steps/${s}`, `${jobId}:${s}`]),
    );
    const row = await jobRow(jobId);
    expect(row).toMatchObject({ status: "succeeded", attempts: 6, lease_expires_at: null, error_code: null });
    expect(row.finished_at).toBeInstanceOf(Date);
    for (const s of row.steps)
      expect(s).toMatchObject({ status: "succeeded", attempts: 1, ms: expect.any(Number) });
    const events = await auditActions(tenantA, jobId);
    expect(events.map((e) => e.action)).toEqual(["job.create", "job.succeeded"]);
    expect(events[1]).toMatchObject({
      actor_id: "pipeline.runner",
      details: { kind: "document.process", documentId, attempts: 6 },
    });

    const view = await database.db.withTenant({ tenantId: tenantA, requestId: "t" }, (tx) =>
      getJob(tx, jobId),
    );
    expect(view).toMatchObject({
      ok: true,
      value: {
        id: jobId,
        status: "succeeded",
        currentStep: "finalize",
        attempts: 6,
        error: null,
        documentId,
      },
    });
    if (view.ok) {
      expect(view.value.steps).toHaveLength(6);
      expect(Object.keys(view.value.steps[0]!).sort()).toEqual(
        ["attempts", "finishedAt", "ms", "startedAt", "status", "step"].sort(),
      );
    }
    // A finished job acknowledges any late delivery and runs nothing.
    fake.reset();
    expect(await deliver(jobId, "finalize")).toEqual({ result: "ignored", reason: "job_finished" });
    expect(await deliver(jobId, "extract_text")).toEqual({ result: "ignored", reason: "job_finished" });
    expect(fake.calls).toEqual([]);
  });

  it("a redelivered step runs once: the redelivery only re-publishes the next step under the same id", async () => {
    const { jobId } = await newJob();
    expect(await deliver(jobId, "extract_text")).toEqual({ result: "advanced", next: "classify" });
    const before = await jobRow(jobId);
    expect(await deliver(jobId, "extract_text")).toEqual({ result: "republished", next: "classify" });
    expect(fake.calls).toEqual(["extract_text"]);
    // QStash drops it: same deduplication id, so classify is delivered once.
    expect(queue.delivered().map((m) => m.options.deduplicationId)).toEqual([`${jobId}:classify`]);
    expect(queue.published).toHaveLength(2);
    const after = await jobRow(jobId);
    expect(after.steps).toEqual(before.steps);
    expect(after.attempts).toBe(before.attempts);

    // Once the next step has started, an old redelivery changes nothing and publishes nothing.
    expect(await deliver(jobId, "classify")).toEqual({ result: "advanced", next: "extract_facts" });
    queue.clear();
    expect(await deliver(jobId, "extract_text")).toEqual({ result: "ignored", reason: "step_done" });
    expect(await deliver(jobId, "classify")).toEqual({ result: "republished", next: "extract_facts" });
    expect(queue.published.map((m) => m.options.deduplicationId)).toEqual([`${jobId}:extract_facts`]);
    expect(fake.calls).toEqual(["extract_text", "classify"]);
  });

  it("a crash between commit and publish: the redelivery publishes the next step, once", async () => {
    const { jobId } = await newJob();
    queue.failing = true;
    expect(await deliver(jobId, "extract_text")).toEqual({ result: "retry", code: "queue_unavailable" });
    const row = await jobRow(jobId);
    expect(row.current_step).toBe("classify");
    expect(stepOf(row, "extract_text").status).toBe("succeeded");
    expect(queue.published).toHaveLength(0);

    queue.failing = false;
    expect(await deliver(jobId, "extract_text", 2)).toEqual({ result: "republished", next: "classify" });
    expect(await deliver(jobId, "extract_text", 3)).toEqual({ result: "republished", next: "classify" });
    expect(queue.delivered().map((m) => m.options.deduplicationId)).toEqual([`${jobId}:classify`]);
    expect(fake.calls).toEqual(["extract_text"]);
    expect(stepOf(await jobRow(jobId), "extract_text").attempts).toBe(1);
  });

  it("a step that crashes half way is retried, then succeeds; each failed attempt is audited", async () => {
    const { jobId } = await newJob();
    await runUntil(jobId, "extract_facts");
    let calls = 0;
    fake.set("extract_facts", async () => {
      calls += 1;
      if (calls === 1) throw new Error("connection reset with patient text that must not be logged");
      if (calls === 2)
        return {
          ok: false,
          failure: {
            code: "storage_unavailable",
            message: "Object storage is unavailable.",
            retryable: true,
          },
        };
      return { ok: true };
    });
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    expect(await deliver(jobId, "extract_facts", 1)).toEqual({ result: "retry", code: "step_crashed" });
    // Logged by error class and ids only: the thrown message could carry document text.
    expect(JSON.stringify(errors.mock.calls)).toContain("job.step_crashed");
    expect(JSON.stringify(errors.mock.calls)).not.toContain("patient text");
    errors.mockRestore();
    let row = await jobRow(jobId);
    expect(row.status).toBe("running");
    expect(stepOf(row, "extract_facts")).toMatchObject({ status: "retrying", attempts: 1 });
    expect(row.lease_expires_at!.getTime()).toBeGreaterThan(Date.now() + 30 * 60_000);

    expect(await deliver(jobId, "extract_facts", 2)).toEqual({
      result: "retry",
      code: "storage_unavailable",
    });
    expect(await deliver(jobId, "extract_facts", 3)).toEqual({ result: "advanced", next: "chunk" });
    row = await jobRow(jobId);
    expect(stepOf(row, "extract_facts")).toMatchObject({ status: "succeeded", attempts: 3 });
    const failures = (await auditActions(tenantA, jobId)).filter((e) => e.action === "job.step_failed");
    expect(failures.map((e) => e.details)).toEqual([
      { step: "extract_facts", attempt: 1, retryable: true, code: "step_crashed" },
      { step: "extract_facts", attempt: 2, retryable: true, code: "storage_unavailable" },
    ]);
  });

  it("the last retry fails the job, the document and the version, with the step's safe code", async () => {
    const { jobId, documentId } = await newJob();
    await runUntil(jobId, "embed");
    fake.set("embed", async () => ({
      ok: false,
      failure: {
        code: "embedding_unavailable",
        message: "The embedding provider is unavailable.",
        retryable: true,
      },
    }));
    for (let attempt = 1; attempt < MAX_ATTEMPTS; attempt++) {
      expect(await deliver(jobId, "embed", attempt)).toEqual({
        result: "retry",
        code: "embedding_unavailable",
      });
    }
    expect(await deliver(jobId, "embed", MAX_ATTEMPTS)).toEqual({
      result: "failed",
      code: "embedding_unavailable",
    });
    const row = await jobRow(jobId);
    expect(row).toMatchObject({
      status: "failed",
      error_code: "embedding_unavailable",
      error_message: "The embedding provider is unavailable.",
      lease_expires_at: null,
    });
    expect(stepOf(row, "embed")).toMatchObject({ status: "failed", attempts: MAX_ATTEMPTS });
    expect(stepOf(row, "finalize").status).toBe("pending");
    const state = await documentState(documentId);
    expect(state.document).toEqual({ status: "failed", current_version_id: null });
    expect(state.versions.map((v) => v.status)).toEqual(["failed"]);
    const events = await auditActions(tenantA, jobId);
    expect(events.at(-1)).toMatchObject({
      action: "job.failed",
      details: {
        kind: "document.process",
        documentId,
        step: "embed",
        reason: "retries_exhausted",
        code: "embedding_unavailable",
      },
    });
    // Nothing was published for the failed step's successor, and later deliveries are no-ops.
    expect(queue.published.map((m) => m.options.deduplicationId)).not.toContain(`${jobId}:finalize`);
    expect(await deliver(jobId, "embed", 1)).toEqual({ result: "ignored", reason: "job_finished" });

    const view = await database.db.withTenant({ tenantId: tenantA, requestId: "t" }, (tx) =>
      getJob(tx, jobId),
    );
    expect(view).toMatchObject({
      ok: true,
      value: {
        status: "failed",
        error: { code: "embedding_unavailable", message: "The embedding provider is unavailable." },
      },
    });
  });

  it("a permanent failure fails the job at once; an unknown or unsafe code is stored as a safe one", async () => {
    const { jobId, documentId } = await newJob();
    fake.set("extract_text", async () => ({
      ok: false,
      failure: { code: "pdf_encrypted", message: "The PDF is encrypted.", retryable: false },
    }));
    expect(await deliver(jobId, "extract_text", 1)).toEqual({ result: "failed", code: "pdf_encrypted" });
    expect(await jobRow(jobId)).toMatchObject({ status: "failed", error_code: "pdf_encrypted" });
    expect((await documentState(documentId)).document!.status).toBe("failed");
    expect((await auditActions(tenantA, jobId)).at(-1)!.details).toMatchObject({
      reason: "permanent",
      code: "pdf_encrypted",
    });

    const second = await newJob();
    fake.set("extract_text", async () => ({
      ok: false,
      failure: { code: "Weird Code!", message: "x".repeat(900), retryable: false },
    }));
    expect(await deliver(second.jobId, "extract_text")).toEqual({ result: "failed", code: "step_failed" });
    const row = await jobRow(second.jobId);
    expect(row.error_code).toBe("step_failed");
    expect(row.error_message).toHaveLength(500);
    expect((await auditActions(tenantA, second.jobId)).at(-1)!.details).toMatchObject({ code: "other" });
  });

  it("bounds the attempts of a step across messages (MAX_STEP_ATTEMPTS), whatever Upstash-Retried says", async () => {
    const { jobId } = await newJob();
    fake.set("extract_text", async () => ({
      ok: false,
      failure: { code: "ocr_failed", message: "OCR failed.", retryable: true },
    }));
    for (let i = 1; i < MAX_STEP_ATTEMPTS; i++) {
      expect((await deliver(jobId, "extract_text", 1)).result).toBe("retry");
    }
    expect(await deliver(jobId, "extract_text", 1)).toEqual({ result: "failed", code: "ocr_failed" });
    expect(stepOf(await jobRow(jobId), "extract_text").attempts).toBe(MAX_STEP_ATTEMPTS);
  });

  it("a document deleted while its step runs fails the job cleanly (document_deleted)", async () => {
    const { jobId, documentId } = await newJob();
    await runUntil(jobId, "chunk");
    fake.set("chunk", async () => {
      await database.owner`delete from medchr.documents where id = ${documentId}`;
      return { ok: true };
    });
    expect(await deliver(jobId, "chunk")).toEqual({ result: "failed", code: "document_deleted" });
    const row = await jobRow(jobId);
    expect(row).toMatchObject({ status: "failed", error_code: "document_deleted" });
    expect(stepOf(row, "chunk").status).toBe("failed");
    expect(queue.published.map((m) => m.options.deduplicationId)).not.toContain(`${jobId}:embed`);
    expect((await auditActions(tenantA, jobId)).at(-1)).toMatchObject({
      action: "job.failed",
      details: { reason: "document_deleted", code: "document_deleted", step: "chunk" },
    });

    // Deleted before the delivery arrives: failed without running the handler.
    const other = await newJob();
    await database.owner`delete from medchr.documents where id = ${other.documentId}`;
    fake.reset();
    expect(await deliver(other.jobId, "extract_text")).toEqual({
      result: "failed",
      code: "document_deleted",
    });
    expect(fake.calls).toEqual([]);
  });

  it("answers busy while a live attempt holds the step, and takes over once its lease expired", async () => {
    const { jobId } = await newJob();
    const held = holdStep("extract_text");
    const first = deliver(jobId, "extract_text");
    // The first attempt has claimed the step and is inside its handler (no query in flight:
    // PGlite serves one session, so the test never queries while the runner does).
    await held.started;
    expect(await deliver(jobId, "extract_text", 2)).toEqual({ result: "busy" });
    held.release();
    expect(await first).toEqual({ result: "advanced", next: "classify" });

    // A crashed attempt: running, lease in the past. The redelivery claims it.
    const crashed = await newJob();
    await database.owner`
      update medchr.jobs set status = 'running', lease_expires_at = now() - interval '1 minute',
        steps = jsonb_set(steps, '{0,status}', '"running"')
      where id = ${crashed.jobId}`;
    fake.reset();
    expect(await deliver(crashed.jobId, "extract_text", 2)).toEqual({ result: "advanced", next: "classify" });
    expect(fake.calls).toEqual(["extract_text"]);
  });

  it("acknowledges unknown jobs and deliveries for a step that is not the current one", async () => {
    expect(await deliver("00000000-0000-4000-8000-000000000000", "extract_text")).toEqual({
      result: "ignored",
      reason: "job_not_found",
    });
    expect(await deliver("not-a-uuid", "extract_text")).toEqual({
      result: "ignored",
      reason: "job_not_found",
    });
    const { jobId } = await newJob();
    expect(await deliver(jobId, "embed")).toEqual({ result: "ignored", reason: "step_not_current" });
    expect(fake.calls).toEqual([]);
    expect((await jobRow(jobId)).status).toBe("queued");
  });

  it("a job whose patient was deleted mid-step is acknowledged, nothing recorded", async () => {
    const { jobId, patientId, documentId } = await newJob();
    fake.set("extract_text", async () => {
      await database.owner`delete from medchr.document_versions where document_id = ${documentId}`;
      await database.owner`delete from medchr.documents where id = ${documentId}`;
      await database.owner`delete from medchr.patients where id = ${patientId}`;
      return { ok: true };
    });
    expect(await deliver(jobId, "extract_text")).toEqual({ result: "ignored", reason: "job_not_found" });
    expect(queue.published).toEqual([]);
  });
});

describe("sweepStuckJobs", () => {
  const sweep = (now: Date) => sweepStuckJobs(database.db, queue, { now, publicOrigin: ORIGIN, auditKeys });
  const minutes = (n: number) => new Date(Date.now() + n * 60_000);

  it("re-publishes a job whose first publish was lost, with a new deduplication id per sweep, then fails it", async () => {
    const { jobId, documentId } = await newJob(tenantB);
    const isOurs = (m: { body: unknown }) => (m.body as { jobId: string }).jobId === jobId;
    await sweep(minutes(5));
    expect(queue.published.filter(isOurs)).toEqual([]);

    for (let sweepNo = 1; sweepNo <= MAX_STEP_SWEEPS; sweepNo++) {
      const summary = await sweep(minutes(20 * sweepNo));
      expect(summary.requeued).toBeGreaterThanOrEqual(1);
      expect(queue.published.filter(isOurs).map((m) => m.options.deduplicationId)).toContain(
        `${jobId}:extract_text:sweep${sweepNo}`,
      );
    }
    expect(queue.published.filter(isOurs)).toHaveLength(MAX_STEP_SWEEPS);
    expect(stepOf(await jobRow(jobId), "extract_text").sweeps).toBe(MAX_STEP_SWEEPS);

    const last = await sweep(minutes(20 * (MAX_STEP_SWEEPS + 1)));
    expect(last.jobsFailed).toBeGreaterThanOrEqual(1);
    expect(await jobRow(jobId)).toMatchObject({ status: "failed", error_code: "step_stuck" });
    expect((await documentState(documentId)).document!.status).toBe("failed");
    const actions = (await auditActions(tenantB, jobId)).map((e) => e.action);
    expect(actions).toEqual([
      "job.create",
      ...Array(MAX_STEP_SWEEPS).fill("job.step_requeued"),
      "job.failed",
    ]);
  });

  it("hands a crashed step (running past its lease) back: the re-published delivery claims it", async () => {
    const { jobId } = await newJob(tenantB);
    const held = holdStep("extract_text");
    // Lease of 1 s: the attempt "crashes" (never reports) and its lease runs out.
    const crashed = deliver(jobId, "extract_text", 1, runnerContext({ leaseSeconds: 1 }));
    await held.started;
    const summary = await sweep(minutes(2));
    expect(summary.requeued).toBeGreaterThanOrEqual(1);
    const row = await jobRow(jobId);
    expect(stepOf(row, "extract_text")).toMatchObject({ status: "retrying", sweeps: 1 });
    const message = queue.published.find((m) => (m.body as { jobId: string }).jobId === jobId)!;
    expect(message).toMatchObject({
      url: `${ORIGIN}/pipeline/steps/extract_text`,
      options: { deduplicationId: `${jobId}:extract_text:sweep1` },
    });

    fake.set("extract_text", async () => ({ ok: true }));
    expect(await deliver(jobId, "extract_text")).toEqual({ result: "advanced", next: "classify" });
    held.release();
    // The crashed attempt, if it ever reports, finds the step done and records nothing.
    expect(await crashed).toEqual({ result: "ignored", reason: "step_done" });
    expect(stepOf(await jobRow(jobId), "extract_text")).toMatchObject({ status: "succeeded", attempts: 2 });
  });

  it("leaves jobs within their deadline alone, and counts refused publishes for the next run", async () => {
    const healthy = await newJob(tenantB);
    await deliver(healthy.jobId, "extract_text");
    const isHealthy = (m: { body: unknown }) => (m.body as { jobId: string }).jobId === healthy.jobId;
    queue.clear();
    await sweep(minutes(1));
    expect(queue.published.filter(isHealthy)).toEqual([]);
    expect(stepOf(await jobRow(healthy.jobId), "classify").sweeps).toBe(0);

    queue.failing = true;
    const summary = await sweep(minutes(16));
    expect(summary.failed).toBeGreaterThanOrEqual(1);
    // The sweep was recorded (deadline moved, counter up): the next run retries it.
    const row = await jobRow(healthy.jobId);
    expect(stepOf(row, "classify")).toMatchObject({ status: "pending", sweeps: 1 });
    expect(row.lease_expires_at!.getTime()).toBeGreaterThan(minutes(16).getTime());
  });
});
