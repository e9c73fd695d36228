/**
 * The jobs API in process against PGlite: POST /api/v1/documents/{id}/process (202, idempotent,
 * first step published after commit), GET /api/v1/jobs/{id} and the partner alias
 * GET /jobs/{job_id}; tenant isolation (another clinic's ids are 404 and nothing changes),
 * permissions, the audit trail, and the registration hook the documents API calls.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { DocumentView } from "../../../../shared/documents/document-view";
import { createFunctionApp } from "../../../../shared/http/create-app";
import { authenticate } from "../../../../shared/http/middleware/authenticate";
import { STEP_DELIVERY_RETRIES } from "../../../../shared/jobs/job-settings";
import {
  createRecordingQueue,
  insertDocument,
  insertPatient,
  type RecordingQueue,
} from "../../../../shared/jobs/testing";
import {
  createApiKey,
  createUser,
  signIn,
  type TestApiKey,
  type TestSession,
} from "../../../../test/helpers/identity";
import { createTenant, startTestDatabase, type TestDatabase } from "../../../../test/helpers/test-database";
import { testEnv } from "../../../../test/helpers/test-env";
import { documentProcessingHook, registerJobRoutes } from "./index";

const ORIGIN = "https://medchr.test";
let database: TestDatabase;
let env: Record<string, unknown>;
let tenantA: string;
let tenantB: string;
let clinicianA: TestSession;
let clinicianB: TestSession;
let auditorA: TestSession;
let readKeyA: TestApiKey;
let writeKeyA: TestApiKey;
let queue: RecordingQueue;
let useQueue = true;

const app = createFunctionApp("api", { usesDatabase: true });
registerJobRoutes(app, { queueFor: () => (useQueue ? queue : null) });
// The documents API calls the hook after a registration commits, inside its authenticated
// request; a stand-in route with the same authentication drives it here.
app.post("/test/registered/:documentId", authenticate({ apiKeys: true }), async (c) => {
  const hook = documentProcessingHook(c, { queueFor: () => queue });
  try {
    await hook({ id: c.req.param("documentId"), status: "uploaded" } as DocumentView, {
      tenantId: c.var.principal.tenantId,
      requestId: c.var.requestId,
    });
    return c.json({ started: true });
  } catch (error) {
    return c.json({ started: false, message: (error as Error).message });
  }
});

// biome-ignore lint/suspicious/noExplicitAny: response bodies are checked field by field
type Body = Record<string, any>;
let ip = 0;

async function call(
  path: string,
  init: { method?: string; headers: Record<string, string>; body?: unknown },
) {
  ip += 1;
  const res = await app.request(
    path,
    {
      method: init.method ?? "GET",
      headers: {
        "CF-Connecting-IP": `203.0.113.${ip % 250}`,
        "Content-Type": "application/json",
        ...init.headers,
      },
      ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
    },
    env,
  );
  return { status: res.status, headers: res.headers, json: (await res.json()) as Body };
}

const process_ = (documentId: string, headers = clinicianA.headers) =>
  call(`/api/v1/documents/${documentId}/process`, { method: "POST", headers, body: {} });

async function auditRows(tenantId: string, action: string) {
  return database.owner<{ actor_type: string; actor_id: string; resource_id: string; details: Body }[]>`
    select actor_type, actor_id, resource_id, details from medchr.audit_events
    where tenant_id = ${tenantId} and action = ${action} order by seq`;
}

beforeAll(async () => {
  database = await startTestDatabase();
  env = testEnv(database.url, { PUBLIC_ORIGIN: ORIGIN });
  tenantA = await createTenant(database.owner, "jobs-api-a");
  tenantB = await createTenant(database.owner, "jobs-api-b");
  const userA = await createUser(database.owner, tenantA, { role: "clinician" });
  clinicianA = await signIn(database.db, userA);
  clinicianB = await signIn(database.db, await createUser(database.owner, tenantB, { role: "clinician" }));
  auditorA = await signIn(database.db, await createUser(database.owner, tenantA, { role: "auditor" }));
  readKeyA = await createApiKey(database.owner, tenantA, { scopes: ["read"] });
  writeKeyA = await createApiKey(database.owner, tenantA, { scopes: ["read", "write"] });
});
afterAll(async () => {
  await database?.stop();
});
beforeEach(() => {
  queue = createRecordingQueue();
  useQueue = true;
});

async function newDocument(tenantId = tenantA, status?: "quarantined") {
  const patientId = await insertPatient(database.owner, tenantId);
  return insertDocument(database.owner, tenantId, patientId, status ? { status } : {});
}

describe("POST /api/v1/documents/{documentId}/process", () => {
  it("answers 202 with the job, publishes its first step, and is idempotent while it is active", async () => {
    const documentId = await newDocument();
    const res = await process_(documentId);
    expect(res.status).toBe(202);
    expect(res.json).toEqual({ jobId: expect.any(String), status: "queued", created: true });
    const jobId = res.json.jobId as string;
    expect(res.headers.get("Location")).toBe(`/api/v1/jobs/${jobId}`);
    expect(queue.published).toEqual([
      expect.objectContaining({
        url: `${ORIGIN}/pipeline/steps/extract_text`,
        body: { jobId },
        options: { deduplicationId: `${jobId}:extract_text`, retries: STEP_DELIVERY_RETRIES },
      }),
    ]);

    const again = await process_(documentId, writeKeyA.headers);
    expect(again.status).toBe(202);
    expect(again.json).toEqual({ jobId, status: "queued", created: false });
    expect(queue.published).toHaveLength(1);

    const created = await auditRows(tenantA, "job.create");
    expect(created.filter((r) => r.resource_id === jobId)).toEqual([
      expect.objectContaining({ actor_type: "user", details: expect.objectContaining({ documentId }) }),
    ]);
    const [doc] = await database.owner<
      { status: string }[]
    >`select status from medchr.documents where id = ${documentId}`;
    expect(doc!.status).toBe("processing");
  });

  it("still answers 202 (job queued for the sweeper) when no queue is configured", async () => {
    useQueue = false;
    const res = await process_(await newDocument());
    expect(res.status).toBe(202);
    expect(res.json.status).toBe("queued");
  });

  it("409 for a quarantined document, 404 for an unknown one", async () => {
    const quarantined = await process_(await newDocument(tenantA, "quarantined"));
    expect(quarantined.status).toBe(409);
    expect(quarantined.json.error).toMatchObject({
      code: "conflict",
      details: { reason: "document_quarantined" },
    });
    const unknown = await process_("00000000-0000-4000-8000-000000000000");
    expect(unknown.status).toBe(404);
    expect(unknown.json.error.details).toEqual({ reason: "document_not_found" });
    expect(queue.published).toEqual([]);
  });

  it("another clinic's document is 404 and nothing is created or audited there", async () => {
    const foreign = await newDocument(tenantB);
    const res = await process_(foreign);
    expect(res.status).toBe(404);
    expect(JSON.stringify(res.json)).not.toContain(foreign);
    const [jobs] = await database.owner<{ n: number }[]>`
      select count(*)::int as n from medchr.jobs where document_id = ${foreign}`;
    expect(jobs!.n).toBe(0);
    expect(await auditRows(tenantB, "job.create")).toEqual([]);
  });

  it("needs patient.write: an auditor and a read-only key are refused", async () => {
    const documentId = await newDocument();
    expect((await process_(documentId, auditorA.headers)).status).toBe(403);
    expect((await process_(documentId, readKeyA.headers)).status).toBe(403);
    expect(queue.published).toEqual([]);
  });
});

describe("GET /api/v1/jobs/{jobId} and GET /jobs/{job_id}", () => {
  it("shows the job with its steps and safe error, on both paths, audited", async () => {
    const documentId = await newDocument();
    const jobId = (await process_(documentId)).json.jobId as string;
    for (const path of [`/api/v1/jobs/${jobId}`, `/jobs/${jobId}`]) {
      const res = await call(path, { headers: readKeyA.headers });
      expect(res.status, path).toBe(200);
      expect(res.json.job).toMatchObject({
        id: jobId,
        kind: "document.process",
        status: "queued",
        currentStep: "extract_text",
        attempts: 0,
        error: null,
        documentId,
        finishedAt: null,
      });
      expect(res.json.job.steps.map((s: Body) => [s.step, s.status, s.attempts])).toEqual([
        ["extract_text", "pending", 0],
        ["classify", "pending", 0],
        ["extract_facts", "pending", 0],
        ["chunk", "pending", 0],
        ["embed", "pending", 0],
        ["finalize", "pending", 0],
      ]);
      expect(Object.keys(res.json.job.steps[0]).sort()).toEqual(
        ["attempts", "finishedAt", "ms", "startedAt", "status", "step"].sort(),
      );
    }
    const reads = (await auditRows(tenantA, "job.read")).filter((r) => r.resource_id === jobId);
    expect(reads).toHaveLength(2);
    expect(reads[0]).toMatchObject({ actor_type: "api_key", details: { documentId } });

    await database.owner`
      update medchr.jobs set status = 'failed', error_code = 'pdf_encrypted',
        error_message = 'The PDF is encrypted.', finished_at = now() where id = ${jobId}`;
    const failed = await call(`/api/v1/jobs/${jobId}`, { headers: clinicianA.headers });
    expect(failed.json.job).toMatchObject({
      status: "failed",
      error: { code: "pdf_encrypted", message: "The PDF is encrypted." },
      finishedAt: expect.any(String),
    });
  });

  it("another clinic's job is 404 on both paths; an auditor is refused; nothing audited in the other clinic", async () => {
    const documentId = await newDocument();
    const jobId = (await process_(documentId)).json.jobId as string;
    const before = await auditRows(tenantA, "job.read");
    for (const path of [`/api/v1/jobs/${jobId}`, `/jobs/${jobId}`]) {
      const res = await call(path, { headers: clinicianB.headers });
      expect(res.status).toBe(404);
      expect(res.json.error.details).toEqual({ reason: "job_not_found" });
      expect(JSON.stringify(res.json)).not.toContain(jobId);
    }
    expect(await auditRows(tenantB, "job.read")).toEqual([]);
    expect(await auditRows(tenantA, "job.read")).toEqual(before);
    expect((await call(`/api/v1/jobs/${jobId}`, { headers: auditorA.headers })).status).toBe(403);
    expect((await call("/api/v1/jobs/not-a-uuid", { headers: clinicianA.headers })).status).toBe(400);
  });
});

describe("documentProcessingHook", () => {
  it("starts processing a registered document as the caller, and says why (reason only) when it cannot", async () => {
    const documentId = await newDocument();
    const res = await call(`/test/registered/${documentId}`, {
      method: "POST",
      headers: clinicianA.headers,
      body: {},
    });
    expect(res.json).toEqual({ started: true });
    const [job] = await database.owner<{ id: string; status: string; created_by: string }[]>`
      select id, status, created_by from medchr.jobs where document_id = ${documentId}`;
    expect(job).toMatchObject({ status: "queued" });
    expect(queue.published.map((m) => m.options.deduplicationId)).toEqual([`${job!.id}:extract_text`]);

    const quarantined = await newDocument(tenantA, "quarantined");
    const refused = await call(`/test/registered/${quarantined}`, {
      method: "POST",
      headers: clinicianA.headers,
      body: {},
    });
    expect(refused.json).toEqual({ started: false, message: "processing not started: document_quarantined" });
  });
});
