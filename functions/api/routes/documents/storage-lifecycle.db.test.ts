/**
 * Data lifecycle (issue 4 item 4): deleting a document or a patient removes the rows and
 * the stored objects; a removal storage does not confirm is queued and retried by the
 * sweeper with backoff, never silently lost; abandoned uploads are found and removed.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AuditContext } from "../../../../shared/audit/audit-context";
import {
  deleteDocumentsOfPatient,
  finishPatientDocumentRemoval,
} from "../../../../shared/documents/delete-documents-of-patient";
import {
  documentStorageRemovalQueue,
  documentsDeletionStep,
} from "../../../../shared/documents/patient-deletion-hooks";
import { retryStorageDeletions } from "../../../../shared/documents/storage-deletions";
import { sweepDocumentStorage } from "../../../../shared/documents/sweep-document-storage";
import { sweepExpiredUploadIntents } from "../../../../shared/documents/sweep-expired-upload-intents";
import { deletePatient } from "../../../../shared/patients/delete-patient";
import {
  createStorageServiceClient,
  type StorageFetcher,
} from "../../../../shared/storage/create-storage-service-client";
import { createSupabaseObjectStorage } from "../../../../shared/storage/create-supabase-object-storage";
import type { ObjectStorage } from "../../../../shared/storage/object-storage";
import { testKeyRing } from "../../../../test/helpers/identity";
import {
  auditRows,
  buildDocumentsTestApp,
  type DocumentsHarness,
  insertPatient,
  makeCaller,
  SAMPLES,
  STORAGE_INTERNAL_ROUTES,
  startDocumentsHarness,
  supabaseClientFor,
} from "./testing";

// biome-ignore lint/suspicious/noExplicitAny: response bodies are checked field by field
type Body = Record<string, any>;

let h: DocumentsHarness;
let direct: ObjectStorage;
/** What the cron holds: the storage service client over the (fault-injectable) binding. */
let sweeperStorage: ObjectStorage;
const app = buildDocumentsTestApp();
const call = makeCaller(app, () => h.env);
const json = async (res: Response) => (await res.json()) as Body;
const MINUTE = 60_000;

beforeAll(async () => {
  h = await startDocumentsHarness();
  direct = createSupabaseObjectStorage({
    url: h.standin.url,
    serviceRoleKey: h.standin.serviceRoleKey,
    bucket: h.standin.bucket,
  });
  sweeperStorage = createStorageServiceClient({
    fetcher: h.env.STORAGE as StorageFetcher,
    internalToken: h.env.STORAGE_INTERNAL_TOKEN as string,
  });
});
afterAll(async () => {
  await h?.stop();
});

async function presignAndPut(patientId: string, bytes = SAMPLES.pdf(10)) {
  const presigned = await json(
    await call(`/api/v1/patients/${patientId}/documents/presign-upload`, {
      method: "POST",
      headers: h.clinicianA.headers,
      body: { filename: "x.pdf", contentType: "application/pdf", size: bytes.length },
    }),
  );
  const put = await supabaseClientFor(h.standin)
    .storage.from(h.standin.bucket)
    .uploadToSignedUrl(presigned.path, presigned.token, bytes, { contentType: "application/pdf" });
  expect(put.error).toBeNull();
  return presigned;
}

async function registered(patientId: string) {
  const presigned = await presignAndPut(patientId);
  const res = await call(`/api/v1/patients/${patientId}/documents/register-upload`, {
    method: "POST",
    headers: h.clinicianA.headers,
    body: { uploadId: presigned.uploadId },
  });
  expect(res.status).toBe(201);
  return presigned;
}

async function queueRow(path: string) {
  const [row] = await h.database.owner<
    {
      attempts: number;
      last_error_code: string | null;
      next_attempt_at: Date;
      hold_until: Date | null;
      reason: string;
    }[]
  >`select attempts, last_error_code, next_attempt_at, hold_until, reason
    from medchr.storage_deletions where storage_path = ${path}`;
  return row ?? null;
}

const exists = async (path: string) => {
  const stat = await direct.statObject(path);
  if (!stat.ok) throw new Error(stat.error.code);
  return stat.value !== null;
};

describe("document delete when storage fails", () => {
  it("queues the removal, retries with backoff, and removes the object once storage is back", async () => {
    const patientId = await insertPatient(h.database.owner, h.tenantA);
    const presigned = await registered(patientId);
    h.faults.failing.add(STORAGE_INTERNAL_ROUTES.remove);
    let deletedAt: Date;
    try {
      deletedAt = new Date();
      const res = await call(`/api/v1/documents/${presigned.uploadId}`, {
        method: "DELETE",
        headers: h.clinicianA.headers,
      });
      expect(res.status).toBe(200);
      expect((await json(res)).objectRemoval).toBe("queued");
      // The row is gone for clients at once; the object is still there, and on the record.
      expect(
        (await call(`/api/v1/documents/${presigned.uploadId}`, { headers: h.clinicianA.headers })).status,
      ).toBe(404);
      expect(await exists(presigned.path)).toBe(true);
      const queued = await queueRow(presigned.path);
      expect(queued).toMatchObject({
        attempts: 1,
        last_error_code: "unavailable",
        reason: "document_deleted",
      });
      const wait = queued!.next_attempt_at.getTime() - deletedAt.getTime();
      expect(wait).toBeGreaterThanOrEqual(55_000);
      expect(wait).toBeLessThan(2 * MINUTE);

      // Not due yet: the sweeper leaves it alone.
      expect(
        await retryStorageDeletions(h.database.db, sweeperStorage, { now: new Date(), limit: 100 }),
      ).toEqual({
        tenants: 0,
        attempted: 0,
        removed: 0,
        failed: 0,
      });
      // Due, storage still down: one more attempt, the wait doubles.
      const later = new Date(deletedAt.getTime() + 2 * MINUTE);
      expect(await retryStorageDeletions(h.database.db, sweeperStorage, { now: later, limit: 100 })).toEqual({
        tenants: 1,
        attempted: 1,
        removed: 0,
        failed: 1,
      });
      const again = await queueRow(presigned.path);
      expect(again).toMatchObject({ attempts: 2, last_error_code: "unavailable" });
      expect(again!.next_attempt_at.getTime() - later.getTime()).toBe(2 * MINUTE);
    } finally {
      h.faults.failing.delete(STORAGE_INTERNAL_ROUTES.remove);
    }
    const recovered = new Date(deletedAt.getTime() + 10 * MINUTE);
    expect(
      await retryStorageDeletions(h.database.db, sweeperStorage, { now: recovered, limit: 100 }),
    ).toMatchObject({
      attempted: 1,
      removed: 1,
      failed: 0,
    });
    expect(await queueRow(presigned.path)).toBeNull();
    expect(await exists(presigned.path)).toBe(false);
  });

  it("lets two sweepers share the work without taking the same row twice, within the limit", async () => {
    const patientId = await insertPatient(h.database.owner, h.tenantA);
    const paths: string[] = [];
    h.faults.failing.add(STORAGE_INTERNAL_ROUTES.remove);
    try {
      for (let i = 0; i < 5; i++) {
        const presigned = await registered(patientId);
        await call(`/api/v1/documents/${presigned.uploadId}`, {
          method: "DELETE",
          headers: h.clinicianA.headers,
        });
        paths.push(presigned.path);
      }
    } finally {
      h.faults.failing.delete(STORAGE_INTERNAL_ROUTES.remove);
    }
    const now = new Date(Date.now() + 5 * MINUTE);
    const limited = await retryStorageDeletions(h.database.db, sweeperStorage, { now, limit: 2 });
    expect(limited).toMatchObject({ attempted: 2, removed: 2 });
    const [a, b] = await Promise.all([
      retryStorageDeletions(h.database.db, sweeperStorage, { now, limit: 100 }),
      retryStorageDeletions(h.database.db, sweeperStorage, { now, limit: 100 }),
    ]);
    expect(a.attempted + b.attempted).toBe(3);
    expect(a.removed + b.removed).toBe(3);
    for (const path of paths) expect(await exists(path)).toBe(false);
  });
});

describe("patient delete (deleteDocumentsOfPatient)", () => {
  const audit = (): AuditContext => ({
    auditKeys: testKeyRing("AUDIT_KEYS"),
    actor: { type: "system", id: "test.patient_delete" },
    ip: null,
    userAgent: null,
    requestId: "req-patient-delete",
  });
  const scope = () => ({ tenantId: h.tenantA, actorId: "test", requestId: "req-patient-delete" });

  it("cannot be bypassed: a patient with documents cannot be deleted alone", async () => {
    const patientId = await insertPatient(h.database.owner, h.tenantA);
    await registered(patientId);
    const attempt = h.database.db.withTenant(
      scope(),
      (tx) => tx`delete from medchr.patients where id = ${patientId}`,
    );
    // ON DELETE RESTRICT: restrict_violation.
    await expect(attempt).rejects.toMatchObject({ code: "23001" });
  });

  it("removes rows and objects, and holds the paths of live upload URLs for one more removal", async () => {
    const patientId = await insertPatient(h.database.owner, h.tenantA);
    const docs = [await registered(patientId), await registered(patientId)];
    const abandoned = await presignAndPut(patientId);
    const unused = await json(
      await call(`/api/v1/patients/${patientId}/documents/presign-upload`, {
        method: "POST",
        headers: h.clinicianA.headers,
        body: { filename: "later.pdf", contentType: "application/pdf", size: 72 },
      }),
    );
    const other = await registered(await insertPatient(h.database.owner, h.tenantA));

    const now = new Date();
    const removed = await h.database.db.withTenant(scope(), async (tx) => {
      const result = await deleteDocumentsOfPatient(tx, { patientId, now }, audit());
      await tx`delete from medchr.patients where id = ${patientId}`;
      return result;
    });
    expect(removed.documentsDeleted).toBe(2);
    expect(new Set(removed.storagePaths)).toEqual(
      new Set([...docs.map((d) => d.path), abandoned.path, unused.path]),
    );
    const report = await finishPatientDocumentRemoval(
      h.database.db,
      scope(),
      sweeperStorage,
      removed.storagePaths,
      now,
    );
    expect(report).toEqual({ removed: 4, queued: 0 });
    for (const path of [...docs.map((d) => d.path), abandoned.path]) expect(await exists(path)).toBe(false);
    expect(await exists(other.path)).toBe(true);

    // Every path's signed upload URL is still live (documents were uploaded minutes ago):
    // each row is held, due again once its URL is dead.
    for (const path of removed.storagePaths) {
      const held = await queueRow(path);
      expect(held).toMatchObject({ reason: "patient_deleted", attempts: 1, last_error_code: null });
      expect(held!.hold_until!.getTime()).toBeGreaterThan(now.getTime() + 2 * 3600_000);
      expect(held!.next_attempt_at).toEqual(held!.hold_until);
    }
    const held = (await queueRow(unused.path))!;

    // A late upload through the still-valid URL is caught by that last removal.
    const late = await supabaseClientFor(h.standin)
      .storage.from(h.standin.bucket)
      .uploadToSignedUrl(unused.path, unused.token, SAMPLES.pdf(10), { contentType: "application/pdf" });
    expect(late.error).toBeNull();
    expect(await exists(unused.path)).toBe(true);
    const afterHold = new Date(held!.hold_until!.getTime() + MINUTE);
    const swept = await retryStorageDeletions(h.database.db, sweeperStorage, { now: afterHold, limit: 100 });
    expect(swept.removed).toBeGreaterThanOrEqual(4);
    expect(await exists(unused.path)).toBe(false);
    for (const path of removed.storagePaths) expect(await queueRow(path)).toBeNull();

    const deletes = await auditRows(h.database.owner, h.tenantA, { action: "document.delete" });
    for (const doc of docs) {
      expect(deletes).toContainEqual(
        expect.objectContaining({ resource_id: doc.uploadId, details: { patientId } }),
      );
    }
  });
});

describe("patient delete through shared/patients deletePatient with the documents hooks", () => {
  it("deletes the patient with its documents, queues every object, and removes them after commit", async () => {
    const patientId = await insertPatient(h.database.owner, h.tenantA);
    const docs = [await registered(patientId), await registered(patientId)];
    const pending = await presignAndPut(patientId);
    const audit: AuditContext = {
      auditKeys: testKeyRing("AUDIT_KEYS"),
      actor: { type: "user", id: crypto.randomUUID() },
      ip: null,
      userAgent: null,
      requestId: "req-patient-hooks",
    };
    const scope = { tenantId: h.tenantA, actorId: "test", requestId: "req-patient-hooks" };
    const result = await h.database.db.withTenant(scope, (tx) =>
      deletePatient(tx, { patientId }, audit, {
        steps: [documentsDeletionStep(audit)],
        storageRemovalQueue: documentStorageRemovalQueue,
      }),
    );
    const paths = [...docs.map((d) => d.path), pending.path];
    expect(result).toEqual({
      ok: true,
      value: { patientId, storageObjectsQueued: 3, storagePaths: expect.any(Array) },
    });
    expect(result.ok && [...result.value.storagePaths].sort()).toEqual([...paths].sort());
    for (const path of paths) expect(await queueRow(path)).toMatchObject({ reason: "patient_deleted" });
    const report = await finishPatientDocumentRemoval(h.database.db, scope, sweeperStorage, paths);
    expect(report).toEqual({ removed: 3, queued: 0 });
    for (const path of paths) expect(await exists(path)).toBe(false);
    const [left] = await h.database.owner<{ n: number }[]>`
      select (select count(*) from medchr.documents where patient_id = ${patientId})
           + (select count(*) from medchr.upload_intents where patient_id = ${patientId})
           + (select count(*) from medchr.patients where id = ${patientId}) as n`;
    expect(Number(left!.n)).toBe(0);
    const events = await auditRows(h.database.owner, h.tenantA);
    for (const doc of docs) {
      expect(events).toContainEqual(
        expect.objectContaining({ action: "document.delete", resource_id: doc.uploadId }),
      );
    }
    expect(events).toContainEqual(
      expect.objectContaining({ action: "patient.delete", resource_id: patientId }),
    );
  });
});

describe("abandoned uploads (sweepExpiredUploadIntents)", () => {
  it("removes objects nobody registered, keeps registered ones, and re-removes a deleted document's path", async () => {
    const patientId = await insertPatient(h.database.owner, h.tenantA);
    const abandoned = await presignAndPut(patientId);
    const kept = await registered(patientId);
    const deleted = await registered(patientId);
    await call(`/api/v1/documents/${deleted.uploadId}`, { method: "DELETE", headers: h.clinicianA.headers });
    const fresh = await presignAndPut(patientId);
    const ids: string[] = [abandoned.uploadId, kept.uploadId, deleted.uploadId];
    await h.database.owner`
      update medchr.upload_intents
      set expires_at = now() - interval '3 hours', upload_url_expires_at = now() - interval '2 hours'
      where id in ${h.database.owner(ids)}`;

    const summary = await sweepDocumentStorage(h.database.db, sweeperStorage, {
      now: new Date(),
      limit: 100,
    });
    expect(summary).toMatchObject({ intentsRemoved: 3, objectsQueued: 2 });
    expect(summary.removed).toBeGreaterThanOrEqual(2);
    expect(await exists(abandoned.path)).toBe(false);
    expect(await exists(kept.path)).toBe(true);
    expect(await exists(fresh.path)).toBe(true);
    ids.push(fresh.uploadId);
    const left = await h.database.owner<{ id: string }[]>`
      select id from medchr.upload_intents where id in ${h.database.owner(ids)}`;
    expect(left.map((r) => r.id)).toEqual([fresh.uploadId]);
    expect((await call(`/api/v1/documents/${kept.uploadId}`, { headers: h.clinicianA.headers })).status).toBe(
      200,
    );
  });

  it("waits out the grace period after the URL's expiry", async () => {
    const patientId = await insertPatient(h.database.owner, h.tenantA);
    const recent = await presignAndPut(patientId);
    await h.database.owner`
      update medchr.upload_intents
      set expires_at = now() - interval '6 minutes', upload_url_expires_at = now() - interval '5 minutes'
      where id = ${recent.uploadId}`;
    const summary = await sweepExpiredUploadIntents(h.database.db, { now: new Date(), limit: 100 });
    expect(summary.intentsRemoved).toBe(0);
    expect(await exists(recent.path)).toBe(true);
  });
});
