/**
 * Issue 4 acceptance, end to end in process: presign, PUT the bytes with supabase-js to the
 * Supabase Storage stand-in, register, list, get a download URL, fetch the bytes back
 * (identical SHA-256), delete, object gone. Plus the partner aliases, pagination, tenant
 * isolation and the audit trail of every route.
 */
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createSupabaseObjectStorage } from "../../../../shared/storage/create-supabase-object-storage";
import { type ObjectStorage, STORAGE_LIMITS } from "../../../../shared/storage/object-storage";
import {
  auditRows,
  buildDocumentsTestApp,
  type DocumentsHarness,
  insertPatient,
  makeCaller,
  SAMPLES,
  startDocumentsHarness,
  supabaseClientFor,
} from "./testing";

// biome-ignore lint/suspicious/noExplicitAny: response bodies are checked field by field
type Body = Record<string, any>;

let h: DocumentsHarness;
let direct: ObjectStorage;
const app = buildDocumentsTestApp();
const call = makeCaller(app, () => h.env);
const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");
const json = async (res: Response) => (await res.json()) as Body;

beforeAll(async () => {
  h = await startDocumentsHarness();
  direct = createSupabaseObjectStorage({
    url: h.standin.url,
    serviceRoleKey: h.standin.serviceRoleKey,
    bucket: h.standin.bucket,
  });
});
afterAll(async () => {
  await h?.stop();
});

async function presign(patientId: string, body: Body, headers = h.clinicianA.headers) {
  return call(`/api/v1/patients/${patientId}/documents/presign-upload`, { method: "POST", headers, body });
}

async function uploadAndRegister(patientId: string, bytes: Uint8Array, filename = "report.pdf") {
  const presigned = await json(
    await presign(patientId, { filename, contentType: "application/pdf", size: bytes.length }),
  );
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
  return { presigned, document: (await json(res)).document as Body };
}

describe("acceptance: presign, PUT with supabase-js, register, list, download, delete", () => {
  it("round-trips the bytes and removes the object", async () => {
    const patientId = await insertPatient(h.database.owner, h.tenantA);
    const bytes = SAMPLES.pdf(50_000);
    const filename = "Zoë Müller – lab results (März).pdf";

    const presignRes = await presign(patientId, {
      filename,
      contentType: "application/pdf",
      size: bytes.length,
    });
    expect(presignRes.status).toBe(201);
    const presigned = await json(presignRes);
    expect(presigned).toMatchObject({
      uploadId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      uploadUrl: expect.stringContaining(`${h.standin.url}/storage/v1/object/upload/sign/`),
      token: expect.any(String),
      path: expect.stringMatching(new RegExp(`^${h.tenantA}/${patientId}/[0-9a-f]{32}$`)),
      uploadHeaders: { "Content-Type": "application/pdf" },
    });
    // Our window is 15 minutes, whatever the storage service grants the URL itself.
    const window = Date.parse(presigned.expiresAt) - Date.now();
    expect(window).toBeGreaterThan(14 * 60_000);
    expect(window).toBeLessThanOrEqual(15 * 60_000);
    expect(presigned.path).not.toContain("lab");

    const put = await supabaseClientFor(h.standin)
      .storage.from(h.standin.bucket)
      .uploadToSignedUrl(presigned.path, presigned.token, bytes, { contentType: "application/pdf" });
    expect(put.error).toBeNull();

    const registerRes = await call(`/api/v1/patients/${patientId}/documents/register-upload`, {
      method: "POST",
      headers: h.clinicianA.headers,
      body: { uploadId: presigned.uploadId },
    });
    expect(registerRes.status).toBe(201);
    const { document } = await json(registerRes);
    expect(document).toMatchObject({
      id: presigned.uploadId,
      patientId,
      filename,
      mediaType: "application/pdf",
      declaredMediaType: "application/pdf",
      sizeBytes: bytes.length,
      sha256: sha256(bytes),
      status: "uploaded",
      scanResult: "not_scanned",
    });
    expect(document).not.toHaveProperty("storagePath");

    const list = await json(
      await call(`/api/v1/patients/${patientId}/documents`, { headers: h.clinicianA.headers }),
    );
    expect(list.documents.map((d: Body) => d.id)).toEqual([document.id]);
    expect(list.nextCursor).toBeNull();

    const one = await json(await call(`/api/v1/documents/${document.id}`, { headers: h.clinicianA.headers }));
    // Registration starts processing (issue 5): the row is the same document, now being processed.
    expect(one.document).toEqual({
      ...document,
      status: "processing",
      updatedAt: expect.any(String),
      latestJob: { id: expect.any(String), status: "queued", currentStep: "extract_text" },
    });

    const linkRes = await call(`/api/v1/documents/${document.id}/download-url?expires_in_seconds=120`, {
      headers: h.clinicianA.headers,
    });
    expect(linkRes.status).toBe(200);
    const link = await json(linkRes);
    expect(link).toMatchObject({
      expiresInSeconds: 120,
      downloadName: `document-${document.id}.pdf`,
      mediaType: "application/pdf",
    });
    expect(link.url).not.toContain("lab");
    const fetched = await fetch(link.url);
    expect(fetched.status).toBe(200);
    expect(fetched.headers.get("content-type")).toBe("application/pdf");
    expect(fetched.headers.get("content-disposition")).toMatch(
      new RegExp(`^attachment; filename="document-${document.id}\\.pdf"`),
    );
    expect(sha256(new Uint8Array(await fetched.arrayBuffer()))).toBe(sha256(bytes));

    const deleteRes = await call(`/api/v1/documents/${document.id}`, {
      method: "DELETE",
      headers: h.clinicianA.headers,
    });
    expect(deleteRes.status).toBe(200);
    expect(await json(deleteRes)).toEqual({ id: document.id, patientId, objectRemoval: "removed" });
    expect(await direct.statObject(presigned.path)).toEqual({ ok: true, value: null });
    expect((await fetch(link.url)).status).not.toBe(200);
    expect((await call(`/api/v1/documents/${document.id}`, { headers: h.clinicianA.headers })).status).toBe(
      404,
    );
    const [queued] = await h.database.owner<{ n: number }[]>`
      select count(*)::int as n from medchr.storage_deletions where storage_path = ${presigned.path}`;
    expect(queued!.n).toBe(0);

    // The audit trail: every step, ids and counts only, never the file name.
    const events = await auditRows(h.database.owner, h.tenantA, { resourceId: document.id });
    expect(events.map((e) => e.action)).toEqual([
      "document.upload_url_issued",
      "document.register",
      "document.read",
      "document.download_url_issued",
      "document.delete",
    ]);
    expect(events[0]!.details).toEqual({ patientId, mediaType: "application/pdf", sizeBytes: bytes.length });
    expect(events[3]!.details).toEqual({ patientId, expiresInSeconds: 120 });
    const [listed] = await auditRows(h.database.owner, h.tenantA, { action: "document.list" });
    expect(listed).toMatchObject({ resource_id: null, details: { patientId, count: 1 } });
    const everything = JSON.stringify(await auditRows(h.database.owner, h.tenantA));
    expect(everything).not.toContain("Zoë");
    expect(everything).not.toContain("lab results");
    expect(everything).not.toContain(presigned.path);
  });
});

describe("reading documents", () => {
  it("pages a patient's documents newest first, filters by status, and refuses a forged cursor", async () => {
    const patientId = await insertPatient(h.database.owner, h.tenantA);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++)
      ids.push((await uploadAndRegister(patientId, SAMPLES.pdf(100 + i))).document.id);
    const first = await json(
      await call(`/api/v1/patients/${patientId}/documents?limit=2`, { headers: h.clinicianA.headers }),
    );
    expect(first.documents.map((d: Body) => d.id)).toEqual([ids[2], ids[1]]);
    const second = await json(
      await call(`/api/v1/patients/${patientId}/documents?limit=2&cursor=${first.nextCursor}`, {
        headers: h.clinicianA.headers,
      }),
    );
    expect(second.documents.map((d: Body) => d.id)).toEqual([ids[0]]);
    expect(second.nextCursor).toBeNull();

    const none = await json(
      await call(`/api/v1/patients/${patientId}/documents?status=processed`, {
        headers: h.clinicianA.headers,
      }),
    );
    expect(none.documents).toEqual([]);

    for (const query of ["cursor=bm90LWEtY3Vyc29y", "limit=0", "limit=101", "status=deleted", "other=1"]) {
      const res = await call(`/api/v1/patients/${patientId}/documents?${query}`, {
        headers: h.clinicianA.headers,
      });
      expect(res.status, query).toBe(400);
      expect((await json(res)).error.code).toBe("validation_failed");
    }
  });

  it("serves the partner aliases with an API key", async () => {
    const patientId = await insertPatient(h.database.owner, h.tenantA);
    const { document } = await uploadAndRegister(patientId, SAMPLES.pdf(10));
    const list = await call(`/patients/${patientId}/documents`, { headers: h.keyA.headers });
    expect(list.status).toBe(200);
    expect((await json(list)).documents.map((d: Body) => d.id)).toEqual([document.id]);
    const one = await call(`/documents/${document.id}`, { headers: h.keyA.headers });
    expect((await json(one)).document.id).toBe(document.id);
    const removed = await call(`/documents/${document.id}`, { method: "DELETE", headers: h.keyA.headers });
    expect(removed.status).toBe(200);
    const [event] = await auditRows(h.database.owner, h.tenantA, {
      action: "document.delete",
      resourceId: document.id,
    });
    expect(event).toMatchObject({ actor_type: "api_key", actor_id: h.keyA.keyId });
  });

  it("caps the link lifetime at what storage grants and says so; refuses lifetimes outside 60..3600", async () => {
    const patientId = await insertPatient(h.database.owner, h.tenantA);
    const { document } = await uploadAndRegister(patientId, SAMPLES.pdf(10));
    const long = await json(
      await call(`/api/v1/documents/${document.id}/download-url?expires_in_seconds=3600`, {
        headers: h.clinicianA.headers,
      }),
    );
    expect(long.expiresInSeconds).toBe(Math.min(3600, STORAGE_LIMITS.maxDownloadSeconds));
    expect(Date.parse(long.expiresAt) - Date.now()).toBeLessThanOrEqual(long.expiresInSeconds * 1000);
    const byDefault = await json(
      await call(`/api/v1/documents/${document.id}/download-url`, { headers: h.clinicianA.headers }),
    );
    expect(byDefault.expiresInSeconds).toBe(300);
    for (const seconds of ["59", "3601", "1.5", "abc"]) {
      const res = await call(`/api/v1/documents/${document.id}/download-url?expires_in_seconds=${seconds}`, {
        headers: h.clinicianA.headers,
      });
      expect(res.status, seconds).toBe(400);
    }
  });
});

describe("tenant isolation", () => {
  it("answers another clinic 404 on every document route and changes nothing", async () => {
    const patientId = await insertPatient(h.database.owner, h.tenantA);
    const { document, presigned } = await uploadAndRegister(patientId, SAMPLES.pdf(10));
    const b = h.clinicianB.headers;
    const attempts: Array<[string, { method?: string; body?: unknown }]> = [
      [`/api/v1/documents/${document.id}`, {}],
      [`/documents/${document.id}`, {}],
      [`/api/v1/documents/${document.id}/download-url`, {}],
      [`/api/v1/documents/${document.id}`, { method: "DELETE" }],
      [`/api/v1/patients/${patientId}/documents`, {}],
      [
        `/api/v1/patients/${patientId}/documents/presign-upload`,
        { method: "POST", body: { filename: "x.pdf", contentType: "application/pdf", size: 10 } },
      ],
      [
        `/api/v1/patients/${patientId}/documents/register-upload`,
        { method: "POST", body: { uploadId: presigned.uploadId } },
      ],
    ];
    for (const [path, init] of attempts) {
      const res = await call(path, { ...init, headers: b });
      const text = await res.text();
      expect(res.status, path).toBe(404);
      expect(text).not.toContain(document.id);
      expect(text).not.toContain(patientId);
    }
    expect((await call(`/api/v1/documents/${document.id}`, { headers: h.clinicianA.headers })).status).toBe(
      200,
    );
    expect(await direct.statObject(presigned.path)).toMatchObject({
      ok: true,
      value: { size: SAMPLES.pdf(10).length },
    });
    expect(await auditRows(h.database.owner, h.tenantB, { action: "document.read" })).toEqual([]);
  });

  it("refuses a clinic's own path registered under another of its patients", async () => {
    const patientA1 = await insertPatient(h.database.owner, h.tenantA);
    const patientA2 = await insertPatient(h.database.owner, h.tenantA);
    const presigned = await json(
      await presign(patientA1, {
        filename: "x.pdf",
        contentType: "application/pdf",
        size: SAMPLES.pdf(10).length,
      }),
    );
    await supabaseClientFor(h.standin)
      .storage.from(h.standin.bucket)
      .uploadToSignedUrl(presigned.path, presigned.token, SAMPLES.pdf(10), {
        contentType: "application/pdf",
      });
    for (const body of [{ uploadId: presigned.uploadId }, { path: presigned.path }]) {
      const res = await call(`/api/v1/patients/${patientA2}/documents/register-upload`, {
        method: "POST",
        headers: h.clinicianA.headers,
        body,
      });
      expect(res.status).toBe(404);
      expect((await json(res)).error.details.reason).toBe("upload_not_found");
    }
    // Still registrable by its own patient, by path as well as by id.
    const own = await call(`/api/v1/patients/${patientA1}/documents/register-upload`, {
      method: "POST",
      headers: h.clinicianA.headers,
      body: { path: presigned.path },
    });
    expect(own.status).toBe(201);
  });
});

describe("the latest processing job on a document", () => {
  const noHook = makeCaller(buildDocumentsTestApp({ onRegistered: async () => {} }), () => h.env);

  async function registerWithoutProcessing(patientId: string) {
    const bytes = SAMPLES.pdf(20);
    const presigned = await json(
      await noHook(`/api/v1/patients/${patientId}/documents/presign-upload`, {
        method: "POST",
        headers: h.clinicianA.headers,
        body: { filename: "j.pdf", contentType: "application/pdf", size: bytes.length },
      }),
    );
    await supabaseClientFor(h.standin)
      .storage.from(h.standin.bucket)
      .uploadToSignedUrl(presigned.path, presigned.token, bytes, { contentType: "application/pdf" });
    const res = await noHook(`/api/v1/patients/${patientId}/documents/register-upload`, {
      method: "POST",
      headers: h.clinicianA.headers,
      body: { uploadId: presigned.uploadId },
    });
    expect(res.status).toBe(201);
    return (await json(res)).document as Body;
  }

  async function insertJob(
    tenantId: string,
    patientId: string,
    documentId: string,
    status: string,
    at: string,
  ) {
    const [row] = await h.database.owner<{ id: string }[]>`
      insert into medchr.jobs (tenant_id, kind, patient_id, document_id, status, current_step, created_by, created_at)
      values (${tenantId}, 'document.process', ${patientId}, ${documentId}, ${status},
        ${status === "succeeded" ? "finalize" : "classify"}, 'test', ${at}::timestamptz)
      returning id`;
    return row!.id;
  }

  const read = async (documentId: string, headers = h.clinicianA.headers) =>
    json(await call(`/api/v1/documents/${documentId}`, { headers }));
  const listed = async (patientId: string) =>
    (await json(await call(`/api/v1/patients/${patientId}/documents`, { headers: h.clinicianA.headers })))
      .documents as Body[];

  it("is null until processing starts, then names the newest job in get and list", async () => {
    const patientId = await insertPatient(h.database.owner, h.tenantA);
    const document = await registerWithoutProcessing(patientId);
    expect(document.latestJob).toBeNull();
    expect((await read(document.id)).document.latestJob).toBeNull();
    expect((await listed(patientId))[0]!.latestJob).toBeNull();

    const older = await insertJob(h.tenantA, patientId, document.id, "succeeded", "2026-01-01T00:00:00Z");
    expect((await read(document.id)).document.latestJob).toEqual({
      id: older,
      status: "succeeded",
      currentStep: "finalize",
    });
    const newer = await insertJob(h.tenantA, patientId, document.id, "running", "2026-01-02T00:00:00Z");
    const expected = { id: newer, status: "running", currentStep: "classify" };
    expect((await read(document.id)).document.latestJob).toEqual(expected);
    expect((await listed(patientId)).map((d) => d.latestJob)).toEqual([expected]);

    // Another clinic sees neither the document nor, through it, the job.
    expect((await call(`/api/v1/documents/${document.id}`, { headers: h.clinicianB.headers })).status).toBe(
      404,
    );
  });

  it("keeps each document's own job in a list, and delete still works with jobs present", async () => {
    const patientId = await insertPatient(h.database.owner, h.tenantA);
    const a = await registerWithoutProcessing(patientId);
    const b = await registerWithoutProcessing(patientId);
    const jobA = await insertJob(h.tenantA, patientId, a.id, "failed", "2026-01-03T00:00:00Z");
    const byId = new Map((await listed(patientId)).map((d) => [d.id, d.latestJob]));
    expect(byId.get(a.id)).toEqual({ id: jobA, status: "failed", currentStep: "classify" });
    expect(byId.get(b.id)).toBeNull();
    const removed = await call(`/api/v1/documents/${a.id}`, {
      method: "DELETE",
      headers: h.clinicianA.headers,
    });
    expect(removed.status).toBe(200);
  });
});

describe("the registration hook (where processing starts, issue 5)", () => {
  it("is called once per registered document after commit, and a failing hook does not fail the upload", async () => {
    const seen: Array<{ id: string; status: string; tenantId: string }> = [];
    let fail = false;
    const hooked = makeCaller(
      buildDocumentsTestApp({
        onRegistered: async (document, context) => {
          const [row] = await h.database.owner<{ n: number }[]>`
            select count(*)::int as n from medchr.documents where id = ${document.id}`;
          // Committed before the hook runs: a job enqueued here finds its document.
          expect(row!.n).toBe(1);
          seen.push({ id: document.id, status: document.status, tenantId: context.tenantId });
          if (fail) throw new Error("queue down");
        },
      }),
      () => h.env,
    );
    const patientId = await insertPatient(h.database.owner, h.tenantA);
    const upload = async () => {
      const bytes = SAMPLES.pdf(10);
      const presigned = await json(
        await hooked(`/api/v1/patients/${patientId}/documents/presign-upload`, {
          method: "POST",
          headers: h.clinicianA.headers,
          body: { filename: "x.pdf", contentType: "application/pdf", size: bytes.length },
        }),
      );
      await supabaseClientFor(h.standin)
        .storage.from(h.standin.bucket)
        .uploadToSignedUrl(presigned.path, presigned.token, bytes, { contentType: "application/pdf" });
      return hooked(`/api/v1/patients/${patientId}/documents/register-upload`, {
        method: "POST",
        headers: h.clinicianA.headers,
        body: { uploadId: presigned.uploadId },
      });
    };
    const first = await upload();
    expect(first.status).toBe(201);
    fail = true;
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    try {
      const second = await upload();
      expect(second.status).toBe(201);
      expect(JSON.stringify(errors.mock.calls)).toContain("document.registered_hook_failed");
      expect(JSON.stringify(errors.mock.calls)).not.toContain("x.pdf");
    } finally {
      errors.mockRestore();
    }
    expect(seen).toHaveLength(2);
    expect(seen.every((s) => s.status === "uploaded" && s.tenantId === h.tenantA)).toBe(true);
  });
});

describe("deleting a patient through the API", () => {
  it("removes the patient's documents and their stored objects, and audits each", async () => {
    const { registerPatientRoutes } = await import("../patients");
    const withPatients = buildDocumentsTestApp();
    registerPatientRoutes(withPatients);
    const callWithPatients = makeCaller(withPatients, () => h.env);
    const patientId = await insertPatient(h.database.owner, h.tenantA);
    const paths: string[] = [];
    for (let i = 0; i < 2; i++) {
      const bytes = SAMPLES.pdf(2_000 + i);
      const presigned = await json(
        await presign(patientId, {
          filename: `note-${i}.pdf`,
          contentType: "application/pdf",
          size: bytes.length,
        }),
      );
      const put = await supabaseClientFor(h.standin)
        .storage.from(h.standin.bucket)
        .uploadToSignedUrl(presigned.path, presigned.token, bytes, { contentType: "application/pdf" });
      expect(put.error).toBeNull();
      const registered = await call(`/api/v1/patients/${patientId}/documents/register-upload`, {
        method: "POST",
        headers: h.clinicianA.headers,
        body: { uploadId: presigned.uploadId },
      });
      expect(registered.status).toBe(201);
      paths.push(presigned.path);
    }
    const res = await callWithPatients(`/api/v1/patients/${patientId}`, {
      method: "DELETE",
      headers: h.clinicianA.headers,
    });
    expect(res.status).toBe(204);
    for (const path of paths) expect(await direct.statObject(path)).toEqual({ ok: true, value: null });
    // The queue rows stay (held) until the signed upload URLs are dead, so a late upload
    // to a deleted patient's path is removed again (storage-lifecycle.db.test.ts).
    const [left] = await h.database.owner<{ docs: number; queued: number }[]>`
      select (select count(*)::int from medchr.documents where patient_id = ${patientId}) as docs,
             (select count(*)::int from medchr.storage_deletions where storage_path in ${h.database.owner(paths)}
                and reason = 'patient_deleted') as queued`;
    expect(left).toEqual({ docs: 0, queued: 2 });
    const actions = (await auditRows(h.database.owner, h.tenantA)).map((e) => e.action);
    expect(actions.filter((a) => a === "document.delete").length).toBeGreaterThanOrEqual(2);
    expect(actions).toContain("patient.delete");
  });
});
