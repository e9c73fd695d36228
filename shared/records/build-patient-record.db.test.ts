/**
 * The patient record from stored facts: only current versions, de-duplication across documents
 * with every citation kept, negated and family-history diagnoses kept apart, tenant isolation.
 * Rows are seeded as the pipeline stores them (factRows computes the same dedup keys).
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testKeyRing } from "../../test/helpers/identity";
import { createTenant, startTestDatabase, type TestDatabase } from "../../test/helpers/test-database";
import type { AuditContext } from "../audit/audit-context";
import type { ClinicalExtraction, Diagnosis, LabResult } from "../clinical/schema";
import { factRows } from "../pipeline/steps/extract-facts-step";
import { buildPatientRecord } from "./build-patient-record";
import { getPatientRecord } from "./get-patient-record";

let database: TestDatabase;
let tenantId: string;
let otherTenantId: string;
const scope = () => ({ tenantId, requestId: "test-record", actorId: "test" });

beforeAll(async () => {
  database = await startTestDatabase();
  tenantId = await createTenant(database.owner, "records");
  otherTenantId = await createTenant(database.owner, "records-other");
});
afterAll(async () => {
  await database?.stop();
});

async function createPatient(tenant = tenantId): Promise<string> {
  const [row] = await database.owner<{ id: string }[]>`
    insert into medchr.patients (tenant_id, given_name, family_name) values (${tenant}, 'Synthetic', 'Record')
    returning id`;
  return row!.id;
}

async function createDocument(patientId: string, createdAt = new Date()): Promise<string> {
  const [row] = await database.owner<{ id: string }[]>`
    insert into medchr.documents (tenant_id, patient_id, storage_path, original_filename, media_type, size_bytes,
      sha256, status, scan_result, created_by, created_at)
    values (${tenantId}, ${patientId}, ${`${tenantId}/${patientId}/${randomBytes(16).toString("hex")}`},
      'synthetic.pdf', 'application/pdf', 100, ${"0".repeat(64)}, 'uploaded', 'clean', 'test', ${createdAt})
    returning id`;
  return row!.id;
}

const at = (page = 1, start = 0, end = 10) => ({ page, start, end });

function extraction(parts: Partial<ClinicalExtraction>, serviceDate: string | null): ClinicalExtraction {
  return {
    provider: "on-box-rules@1",
    classification: {
      document_type: "lab_report",
      service_date: serviceDate,
      facility: null,
      confidence: 0.9,
    },
    labs: [],
    medications: [],
    diagnoses: [],
    allergies: [],
    no_known_allergies: false,
    vitals: [],
    ...parts,
  };
}

/** A finished extraction run of a document, stored as the pipeline stores it. */
async function addVersion(
  patientId: string,
  documentId: string,
  parts: Partial<ClinicalExtraction>,
  options: { serviceDate?: string | null; current?: boolean; status?: string } = {},
): Promise<string> {
  const serviceDate = options.serviceDate === undefined ? "2025-03-13" : options.serviceDate;
  const [version] = await database.owner<{ id: string }[]>`
    insert into medchr.document_versions (tenant_id, document_id, version, status, extractor, page_count,
      document_type, service_date)
    values (${tenantId}, ${documentId},
      (select coalesce(max(version), 0) + 1 from medchr.document_versions where document_id = ${documentId}),
      ${options.status ?? "ready"}, 'on-box-rules@1', 1, 'lab_report', ${serviceDate})
    returning id`;
  const rows = factRows(extraction(parts, serviceDate));
  for (const r of rows) {
    await database.owner`
      insert into medchr.extracted_facts (tenant_id, patient_id, document_id, version_id, kind, ordinal, data, page,
        char_start, char_end, dedup_key)
      values (${tenantId}, ${patientId}, ${documentId}, ${version!.id}, ${r.kind}, ${r.ordinal},
        ${database.owner.json(r.data as never)}, ${r.page}, ${r.char_start}, ${r.char_end}, ${r.dedup_key})`;
  }
  if (options.current ?? true) {
    await database.owner`
      update medchr.documents set current_version_id = ${version!.id}, status = 'processed' where id = ${documentId}`;
  }
  return version!.id;
}

function lab(overrides: Partial<LabResult> = {}): LabResult {
  return {
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
    provenance: at(1, 100, 125),
    ...overrides,
  };
}

function dx(overrides: Partial<Diagnosis> = {}): Diagnosis {
  return {
    text: "chest pain",
    icd10: "R07.9",
    icd10_source: "terminology",
    negated: false,
    family_history: false,
    provenance: at(1, 40, 50),
    ...overrides,
  };
}

async function record(patientId: string) {
  const r = await database.db.withTenant(scope(), (tx) => buildPatientRecord(tx, patientId));
  if (!r.ok) throw new Error(r.error.code);
  return r.value;
}

describe("buildPatientRecord", () => {
  it("the same lab (LOINC, date, value) on two documents is one item with two provenance entries", async () => {
    const patientId = await createPatient();
    const docA = await createDocument(patientId, new Date("2025-03-14T10:00:00Z"));
    const docB = await createDocument(patientId, new Date("2025-03-15T10:00:00Z"));
    const vA = await addVersion(patientId, docA, { labs: [lab({ provenance: at(1, 10, 30) })] });
    const vB = await addVersion(patientId, docB, {
      labs: [
        lab({ name: "GLUCOSE, SERUM", provenance: at(2, 200, 230) }),
        // Same test and date, another value: another item.
        lab({ value: 140, value_normalized: 140, provenance: at(2, 300, 330) }),
      ],
    });
    const r = await record(patientId);
    expect(r.labs).toHaveLength(2);
    const same = r.labs.find((l) => l.value === 105)!;
    // Values of the most recent citation (document B was uploaded later, same service date).
    expect(same).toMatchObject({
      name: "GLUCOSE, SERUM",
      loinc: "2345-7",
      observedAt: "2025-03-13",
      flag: "H",
    });
    expect(same.provenance).toEqual([
      { documentId: docB, versionId: vB, page: 2, charStart: 200, charEnd: 230, extractor: "on-box-rules@1" },
      { documentId: docA, versionId: vA, page: 1, charStart: 10, charEnd: 30, extractor: "on-box-rules@1" },
    ]);
    expect(r.labs.find((l) => l.value === 140)!.provenance).toHaveLength(1);
    expect(r.documents.map((d) => d.id)).toEqual([docB, docA]);
  });

  it("labs on different dates stay apart and read newest first", async () => {
    const patientId = await createPatient();
    const doc = await createDocument(patientId);
    await addVersion(patientId, doc, {
      labs: [
        lab({ observed_at: "2024-01-02" }),
        lab({ observed_at: "2025-06-01", provenance: at(1, 50, 60) }),
        lab({
          name: "Sodium",
          loinc: "2951-2",
          value: 139,
          value_normalized: 139,
          unit: "mmol/L",
          observed_at: null,
        }),
      ],
    });
    const r = await record(patientId);
    expect(r.labs.map((l) => [l.name, l.observedAt])).toEqual([
      ["Glucose", "2025-06-01"],
      ["Glucose", "2024-01-02"],
      ["Sodium", null],
    ]);
  });

  it("keeps negated and family-history diagnoses, marked, apart from affirmed ones; merges the same one", async () => {
    const patientId = await createPatient();
    const docA = await createDocument(patientId);
    const docB = await createDocument(patientId);
    await addVersion(patientId, docA, {
      diagnoses: [
        dx({ negated: true }),
        dx({ text: "Type 2 diabetes mellitus", icd10: "E11.9", icd10_source: "printed" }),
        dx({ text: "breast cancer", icd10: "C50.919", family_history: true }),
      ],
    });
    await addVersion(patientId, docB, {
      diagnoses: [
        dx(),
        dx({ text: "T2DM", icd10: "E11.9", icd10_source: "terminology", provenance: at(1, 5, 9) }),
        dx({ text: "Hypertension", icd10: null, icd10_source: null }),
        dx({ text: "hypertension.", icd10: null, icd10_source: null, provenance: at(1, 60, 73) }),
      ],
    });
    const r = await record(patientId);
    const summary = r.diagnoses.map((d) => [d.icd10, d.negated, d.familyHistory, d.provenance.length]);
    expect(summary).toEqual(
      expect.arrayContaining([
        ["R07.9", true, false, 1],
        ["R07.9", false, false, 1],
        ["E11.9", false, false, 2],
        ["C50.919", false, true, 1],
        [null, false, false, 2],
      ]),
    );
    expect(r.diagnoses).toHaveLength(5);
  });

  it("medications merge on generic name and dose, allergies on substance, filling a missing detail", async () => {
    const patientId = await createPatient();
    const docA = await createDocument(patientId, new Date("2025-01-01T00:00:00Z"));
    const docB = await createDocument(patientId, new Date("2025-02-01T00:00:00Z"));
    const med = {
      name: "Metformin",
      generic_name: "metformin",
      dose: "500 mg",
      route: "PO",
      frequency: "BID",
    };
    await addVersion(patientId, docA, {
      medications: [{ ...med, provenance: at() }],
      allergies: [{ substance: "Penicillin", reaction: "hives", provenance: at() }],
    });
    await addVersion(patientId, docB, {
      medications: [
        { ...med, name: "Glucophage", dose: "500mg", route: null, provenance: at() },
        { ...med, dose: "1000 mg", provenance: at() },
      ],
      allergies: [{ substance: "PENICILLIN", reaction: null, provenance: at() }],
    });
    const r = await record(patientId);
    expect(r.medications.map((m) => [m.name, m.dose, m.route, m.provenance.length])).toEqual([
      ["Glucophage", "500mg", "PO", 2],
      ["Metformin", "1000 mg", "PO", 1],
    ]);
    expect(r.allergies).toEqual([
      expect.objectContaining({ substance: "PENICILLIN", reaction: "hives", provenance: expect.any(Array) }),
    ]);
    expect(r.allergies[0]!.provenance).toHaveLength(2);
  });

  it("reads only each document's current version; unprocessed documents are listed without one", async () => {
    const patientId = await createPatient();
    const doc = await createDocument(patientId);
    await addVersion(patientId, doc, { labs: [lab({ value: 90, value_normalized: 90 })] });
    const current = await addVersion(patientId, doc, { labs: [lab({ value: 91, value_normalized: 91 })] });
    // A run still building (or failed) is never read.
    await addVersion(
      patientId,
      doc,
      { labs: [lab({ value: 92, value_normalized: 92 })] },
      { current: false, status: "building" },
    );
    const pending = await createDocument(patientId);
    const r = await record(patientId);
    expect(r.labs.map((l) => l.value)).toEqual([91]);
    expect(r.labs[0]!.provenance[0]!.versionId).toBe(current);
    expect(r.documents.find((d) => d.id === pending)).toEqual(
      expect.objectContaining({ status: "uploaded", versionId: null, version: null, documentType: null }),
    );
    expect(r.documents.find((d) => d.id === doc)).toMatchObject({ versionId: current, version: 2 });
  });

  it("vitals carry their document's date and merge only on the same date", async () => {
    const patientId = await createPatient();
    const bp = { type: "bp" as const, value: "134/82", unit: "mmHg", provenance: at() };
    await addVersion(
      patientId,
      await createDocument(patientId),
      { vitals: [bp] },
      { serviceDate: "2024-03-26" },
    );
    await addVersion(
      patientId,
      await createDocument(patientId),
      { vitals: [bp] },
      { serviceDate: "2024-03-26" },
    );
    await addVersion(
      patientId,
      await createDocument(patientId),
      { vitals: [bp] },
      { serviceDate: "2024-05-01" },
    );
    const r = await record(patientId);
    expect(r.vitals.map((v) => [v.observedAt, v.provenance.length])).toEqual([
      ["2024-05-01", 1],
      ["2024-03-26", 2],
    ]);
  });

  it("an empty record for a patient with nothing, not found for another tenant's or a malformed id", async () => {
    const patientId = await createPatient();
    expect(await record(patientId)).toEqual({
      patientId,
      documents: [],
      labs: [],
      medications: [],
      diagnoses: [],
      allergies: [],
      vitals: [],
    });
    const foreign = await createPatient(otherTenantId);
    for (const id of [foreign, "not-a-uuid", "00000000-0000-4000-8000-000000000000"]) {
      const r = await database.db.withTenant(scope(), (tx) => buildPatientRecord(tx, id));
      expect(r).toEqual({ ok: false, error: { code: "not_found", message: "The patient was not found." } });
    }
  });

  it("stored data that no longer matches the schema fails loudly instead of vanishing", async () => {
    const patientId = await createPatient();
    const doc = await createDocument(patientId);
    const version = await addVersion(patientId, doc, { labs: [lab()] });
    await database.owner`update medchr.extracted_facts set data = data - 'loinc' where version_id = ${version}`;
    await expect(database.db.withTenant(scope(), (tx) => buildPatientRecord(tx, patientId))).rejects.toThrow(
      "a stored lab fact does not match the extraction schema",
    );
  });
});

describe("getPatientRecord", () => {
  const audit: AuditContext = {
    auditKeys: testKeyRing("AUDIT_KEYS"),
    actor: { type: "system", id: "test.record" },
    ip: null,
    userAgent: null,
    requestId: "test-record",
  };

  it("audits record.read with counts only; writes nothing for an unknown patient", async () => {
    const patientId = await createPatient();
    await addVersion(patientId, await createDocument(patientId), {
      labs: [lab()],
      diagnoses: [dx({ negated: true })],
    });
    const r = await database.db.withTenant(scope(), (tx) => getPatientRecord(tx, { patientId }, audit));
    expect(r.ok).toBe(true);
    const events = await database.owner`
      select action, resource_type, resource_id, details from medchr.audit_events
      where tenant_id = ${tenantId} and action = 'record.read'`;
    expect(events).toEqual([
      {
        action: "record.read",
        resource_type: "patient",
        resource_id: patientId,
        details: { documents: 1, items: 2 },
      },
    ]);
    const missing = await database.db.withTenant(scope(), (tx) =>
      getPatientRecord(tx, { patientId: "00000000-0000-4000-8000-000000000000" }, audit),
    );
    expect(missing).toMatchObject({ ok: false, error: { code: "not_found" } });
    const [count] = await database.owner<{ n: number }[]>`
      select count(*)::int as n from medchr.audit_events where tenant_id = ${tenantId} and action = 'record.read'`;
    expect(count!.n).toBe(1);
  });
});
