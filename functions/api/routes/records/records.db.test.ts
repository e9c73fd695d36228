import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ClinicalExtraction } from "../../../../shared/clinical/schema";
import { createFunctionApp } from "../../../../shared/http/create-app";
import { factRows } from "../../../../shared/pipeline/steps/extract-facts-step";
import {
  createApiKey,
  createUser,
  signIn,
  type TestApiKey,
  type TestSession,
  type TestUser,
} from "../../../../test/helpers/identity";
import { createTenant, startTestDatabase, type TestDatabase } from "../../../../test/helpers/test-database";
import { testEnv } from "../../../../test/helpers/test-env";
import { registerRecordRoutes } from "./index";

// biome-ignore lint/suspicious/noExplicitAny: response bodies are checked field by field
type Body = Record<string, any>;

const app = createFunctionApp("api", { usesDatabase: true });
registerRecordRoutes(app);

let database: TestDatabase;
let env: Record<string, unknown>;
let tenantA: string;
let tenantB: string;
let clinician: TestUser;
let session: TestSession;
let auditor: TestSession;
let readKey: TestApiKey;
let patientId: string;
let documentId: string;
let versionId: string;
let foreignPatient: string;

const path = (id: string) => `/api/v1/patients/${id}/record`;
const call = (url: string, headers: Record<string, string> = {}) =>
  app.request(url, { headers: { "CF-Connecting-IP": "198.51.100.9", ...headers } }, env);

const extraction: ClinicalExtraction = {
  provider: "on-box-rules@1",
  classification: {
    document_type: "lab_report",
    service_date: "2025-03-13",
    facility: null,
    confidence: 0.9,
  },
  labs: [
    {
      name: "Glucose",
      loinc: "2345-7",
      value: 105,
      unit: "mg/dL",
      unit_ucum: "mg/dL",
      value_normalized: 105,
      unit_normalized: "mg/dL",
      ref_low: 70,
      ref_high: 99,
      ref_text: "70-99",
      flag: "H",
      observed_at: "2025-03-13",
      provenance: { page: 1, start: 120, end: 160 },
    },
  ],
  medications: [],
  diagnoses: [
    {
      text: "chest pain",
      icd10: "R07.9",
      icd10_source: "terminology",
      negated: true,
      family_history: false,
      provenance: { page: 2, start: 10, end: 20 },
    },
  ],
  allergies: [],
  no_known_allergies: false,
  vitals: [],
};

async function createPatient(tenantId: string): Promise<string> {
  const [row] = await database.owner<{ id: string }[]>`
    insert into medchr.patients (tenant_id, given_name, family_name, mrn)
    values (${tenantId}, 'Synthetic', 'Recordroute', ${`MRN-${randomBytes(4).toString("hex")}`}) returning id`;
  return row!.id;
}

beforeAll(async () => {
  database = await startTestDatabase();
  env = testEnv(database.url);
  tenantA = await createTenant(database.owner, "records-api-a");
  tenantB = await createTenant(database.owner, "records-api-b");
  clinician = await createUser(database.owner, tenantA, { role: "clinician" });
  session = await signIn(database.db, clinician);
  auditor = await signIn(database.db, await createUser(database.owner, tenantA, { role: "auditor" }));
  readKey = await createApiKey(database.owner, tenantA, { scopes: ["read"] });
  patientId = await createPatient(tenantA);
  foreignPatient = await createPatient(tenantB);

  const [doc] = await database.owner<{ id: string }[]>`
    insert into medchr.documents (tenant_id, patient_id, storage_path, original_filename, media_type, size_bytes,
      sha256, status, scan_result, created_by)
    values (${tenantA}, ${patientId}, ${`${tenantA}/${patientId}/${randomBytes(16).toString("hex")}`},
      'synthetic.pdf', 'application/pdf', 100, ${"0".repeat(64)}, 'processed', 'clean', 'test')
    returning id`;
  documentId = doc!.id;
  const [version] = await database.owner<{ id: string }[]>`
    insert into medchr.document_versions (tenant_id, document_id, version, status, extractor, page_count,
      document_type, service_date)
    values (${tenantA}, ${documentId}, 1, 'ready', 'on-box-rules@1', 2, 'lab_report', '2025-03-13')
    returning id`;
  versionId = version!.id;
  for (const r of factRows(extraction)) {
    await database.owner`
      insert into medchr.extracted_facts (tenant_id, patient_id, document_id, version_id, kind, ordinal, data, page,
        char_start, char_end, dedup_key)
      values (${tenantA}, ${patientId}, ${documentId}, ${versionId}, ${r.kind}, ${r.ordinal},
        ${database.owner.json(r.data as never)}, ${r.page}, ${r.char_start}, ${r.char_end}, ${r.dedup_key})`;
  }
  await database.owner`update medchr.documents set current_version_id = ${versionId} where id = ${documentId}`;
});
afterAll(async () => {
  await database?.stop();
});

async function recordReads(tenantId: string) {
  return database.owner<Body[]>`
    select outcome, actor_type, actor_id, resource_type, resource_id, details from medchr.audit_events
    where tenant_id = ${tenantId} and action = 'record.read' order by seq`;
}

describe("GET /api/v1/patients/{patientId}/record", () => {
  it("returns the current record with provenance, no-store, and audits record.read with counts only", async () => {
    const res = await call(path(patientId), session.headers);
    expect(res.status).toBe(200);
    expect(res.headers.get("Cache-Control")).toContain("no-store");
    const { record } = (await res.json()) as Body;
    expect(record.patientId).toBe(patientId);
    expect(record.documents).toEqual([
      expect.objectContaining({
        id: documentId,
        versionId,
        version: 1,
        documentType: "lab_report",
        serviceDate: "2025-03-13",
        status: "processed",
      }),
    ]);
    expect(record.labs).toEqual([
      expect.objectContaining({
        name: "Glucose",
        loinc: "2345-7",
        value: 105,
        unitUcum: "mg/dL",
        flag: "H",
        observedAt: "2025-03-13",
        // Stored before confidence was computed: null, and nothing to review.
        confidence: null,
        review: [],
        provenance: [
          { documentId, versionId, page: 1, charStart: 120, charEnd: 160, extractor: "on-box-rules@1" },
        ],
      }),
    ]);
    expect(record.diagnoses).toEqual([
      expect.objectContaining({ text: "chest pain", negated: true, familyHistory: false }),
    ]);
    expect(await recordReads(tenantA)).toEqual([
      {
        outcome: "SUCCESS",
        actor_type: "user",
        actor_id: clinician.id,
        resource_type: "patient",
        resource_id: patientId,
        details: { documents: 1, items: 2 },
      },
    ]);
  });

  it("accepts a read-scoped API key", async () => {
    const res = await call(path(patientId), readKey.headers);
    expect(res.status).toBe(200);
    const events = await recordReads(tenantA);
    expect(events.at(-1)).toMatchObject({ actor_type: "api_key", resource_id: patientId });
  });

  it("refuses no credentials (401) and an auditor without patient.read (403), auditing no read", async () => {
    const before = (await recordReads(tenantA)).length;
    expect((await call(path(patientId))).status).toBe(401);
    expect((await call(path(patientId), auditor.headers)).status).toBe(403);
    expect((await recordReads(tenantA)).length).toBe(before);
  });

  it("another clinic's patient, an unknown id and a malformed id are 404, 404 and 400, with no data", async () => {
    const before = (await recordReads(tenantA)).length;
    const foreign = await call(path(foreignPatient), session.headers);
    expect(foreign.status).toBe(404);
    const body = (await foreign.json()) as Body;
    expect(body.error.code).toBe("not_found");
    expect(JSON.stringify(body)).not.toContain(foreignPatient);
    expect((await call(path("00000000-0000-4000-8000-000000000000"), session.headers)).status).toBe(404);
    expect((await call(path("not-a-uuid"), session.headers)).status).toBe(400);
    expect((await recordReads(tenantA)).length).toBe(before);
    expect(await recordReads(tenantB)).toEqual([]);
  });
});
