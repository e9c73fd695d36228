import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { testKeyRing } from "../../test/helpers/identity";
import { createTenant, startTestDatabase, type TestDatabase } from "../../test/helpers/test-database";
import type { AuditContext } from "../audit/audit-context";
import type { Tx } from "../db/database";
import { createPatient } from "./create-patient";
import { deletePatient, type PatientDeletionStep, StorageRemovalQueueMissingError } from "./delete-patient";

/**
 * The extension point later issues use (documents, extractions, reports): deletion steps in
 * the request transaction and a durable storage-removal hand-off. A child table with a
 * RESTRICT foreign key stands in for documents.
 */
let database: TestDatabase;
let tenant: string;
let patientId: string;
const audit: AuditContext = {
  auditKeys: testKeyRing("AUDIT_KEYS"),
  actor: { type: "system", id: "test.patient_delete" },
  ip: null,
  userAgent: null,
  requestId: "test-delete",
};
const scope = () => ({ tenantId: tenant, requestId: "test-delete" });

beforeAll(async () => {
  database = await startTestDatabase();
  tenant = await createTenant(database.owner, "delete-steps");
  await database.owner.unsafe(`
    create schema medchr_test;
    grant usage on schema medchr_test to medchr_app;
    create table medchr_test.children (
      id uuid primary key default gen_random_uuid(),
      patient_id uuid not null references medchr.patients (id) on delete restrict,
      storage_path text not null
    );
    create table medchr_test.removal_queue (path text primary key);
    grant select, insert, delete on medchr_test.children, medchr_test.removal_queue to medchr_app;
  `);
});
afterAll(async () => {
  await database?.stop();
});

beforeEach(async () => {
  const created = await database.db.withTenant(scope(), (tx) =>
    createPatient(
      tx,
      { givenName: "Step", familyName: "Test", dateOfBirth: "1970-01-01", sex: "unknown" },
      { createdBy: null },
      audit,
    ),
  );
  if (!created.ok) throw new Error("fixture patient not created");
  patientId = created.value.id;
  await database.owner`insert into medchr_test.children (patient_id, storage_path)
    values (${patientId}, ${`${tenant}/${patientId}/a`}), (${patientId}, ${`${tenant}/${patientId}/b`})`;
});

const childrenStep: PatientDeletionStep = {
  name: "children",
  async run(tx, context) {
    const rows = await tx<{ storage_path: string }[]>`
      delete from medchr_test.children where patient_id = ${context.patientId} returning storage_path`;
    context.releaseStorageObjects(rows.map((r) => r.storage_path));
    // The same object released twice (e.g. by two steps) is queued once.
    context.releaseStorageObjects(rows.slice(0, 1).map((r) => r.storage_path));
  },
};
const queue = {
  async enqueue(tx: Tx, paths: readonly string[]) {
    for (const path of paths) await tx`insert into medchr_test.removal_queue (path) values (${path})`;
  },
};

async function state() {
  const [row] = await database.owner<
    { patients: number; children: number; queued: number; deletes: number }[]
  >`
    select (select count(*)::int from medchr.patients where id = ${patientId}) as patients,
           (select count(*)::int from medchr_test.children where patient_id = ${patientId}) as children,
           (select count(*)::int from medchr_test.removal_queue where path like ${`%/${patientId}/%`}) as queued,
           (select count(*)::int from medchr.audit_events
             where action = 'patient.delete' and resource_id = ${patientId}) as deletes`;
  return row!;
}

describe("deletePatient extension point", () => {
  it("without the step, a dependent row blocks the delete and nothing changes", async () => {
    const error = await database.db
      .withTenant(scope(), (tx) => deletePatient(tx, { patientId }, audit, { steps: [] }))
      .catch((e: unknown) => e as { code?: string });
    // 23001 restrict_violation: ON DELETE RESTRICT, as document tables will declare.
    expect((error as { code?: string }).code).toBe("23001");
    expect(await state()).toEqual({ patients: 1, children: 2, queued: 0, deletes: 0 });
  });

  it("runs steps in the transaction before the row goes, and queues released objects once each", async () => {
    const result = await database.db.withTenant(scope(), (tx) =>
      deletePatient(tx, { patientId }, audit, { steps: [childrenStep], storageRemovalQueue: queue }),
    );
    expect(result).toEqual({
      ok: true,
      value: { patientId, storageObjectsQueued: 2, storagePaths: [expect.any(String), expect.any(String)] },
    });
    expect(await state()).toEqual({ patients: 0, children: 0, queued: 2, deletes: 1 });
  });

  it("refuses to drop released objects when no queue is configured, rolling everything back", async () => {
    await expect(
      database.db.withTenant(scope(), (tx) =>
        deletePatient(tx, { patientId }, audit, { steps: [childrenStep], storageRemovalQueue: undefined }),
      ),
    ).rejects.toBeInstanceOf(StorageRemovalQueueMissingError);
    expect(await state()).toEqual({ patients: 1, children: 2, queued: 0, deletes: 0 });
  });

  it("rolls back earlier steps when a later step fails", async () => {
    const failing: PatientDeletionStep = {
      name: "failing",
      async run() {
        throw new Error("step failed");
      },
    };
    await expect(
      database.db.withTenant(scope(), (tx) =>
        deletePatient(tx, { patientId }, audit, {
          steps: [childrenStep, failing],
          storageRemovalQueue: queue,
        }),
      ),
    ).rejects.toThrow("step failed");
    expect(await state()).toEqual({ patients: 1, children: 2, queued: 0, deletes: 0 });
  });

  it("passes each step the patient id and sees the patient still present", async () => {
    const seen: { step: string; present: number }[] = [];
    const probe = (name: string): PatientDeletionStep => ({
      name,
      async run(tx, context) {
        const [row] = await tx<{ n: number }[]>`
          select count(*)::int as n from medchr.patients where id = ${context.patientId}`;
        seen.push({ step: name, present: row!.n });
      },
    });
    const result = await database.db.withTenant(scope(), (tx) =>
      deletePatient(tx, { patientId }, audit, {
        steps: [probe("one"), childrenStep, probe("two")],
        storageRemovalQueue: queue,
      }),
    );
    expect(result.ok).toBe(true);
    expect(seen).toEqual([
      { step: "one", present: 1 },
      { step: "two", present: 1 },
    ]);
  });

  it("answers not_found for another tenant's patient without running any step", async () => {
    const other = await createTenant(database.owner, "delete-steps-other");
    let ran = false;
    const result = await database.db.withTenant({ tenantId: other, requestId: "x" }, (tx) =>
      deletePatient(tx, { patientId }, audit, {
        steps: [
          {
            name: "spy",
            async run() {
              ran = true;
            },
          },
        ],
      }),
    );
    expect(result).toMatchObject({ ok: false, error: { code: "not_found" } });
    expect(ran).toBe(false);
    expect((await state()).patients).toBe(1);
  });
});
