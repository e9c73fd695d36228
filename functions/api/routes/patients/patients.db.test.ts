import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createFunctionApp } from "../../../../shared/http/create-app";
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
import { registerPatientRoutes } from "./index";

// biome-ignore lint/suspicious/noExplicitAny: response bodies are checked field by field
type Body = Record<string, any>;

function buildApp() {
  const app = createFunctionApp("api", { usesDatabase: true });
  registerPatientRoutes(app);
  return app;
}

const app = buildApp();
const BASE = "/api/v1/patients";
let database: TestDatabase;
let env: Record<string, unknown>;
let tenantA: string;
let tenantB: string;
let clinician: TestUser;
let session: TestSession;
let auditor: TestSession;
let writeKey: TestApiKey;
let readKey: TestApiKey;
let sessionB: TestSession;

beforeAll(async () => {
  database = await startTestDatabase();
  env = testEnv(database.url);
  tenantA = await createTenant(database.owner, "patients-a");
  tenantB = await createTenant(database.owner, "patients-b");
  clinician = await createUser(database.owner, tenantA, { role: "clinician" });
  session = await signIn(database.db, clinician);
  auditor = await signIn(database.db, await createUser(database.owner, tenantA, { role: "auditor" }));
  writeKey = await createApiKey(database.owner, tenantA, { scopes: ["read", "write"] });
  readKey = await createApiKey(database.owner, tenantA, { scopes: ["read"] });
  sessionB = await signIn(database.db, await createUser(database.owner, tenantB, { role: "clinician" }));
});
afterAll(async () => {
  await database?.stop();
});

interface Call {
  method?: string;
  headers?: Record<string, string>;
  /** An object is sent as JSON; a string is sent as is. */
  body?: unknown;
}
function call(path: string, init: Call = {}) {
  const headers: Record<string, string> = { "CF-Connecting-IP": "198.51.100.7", ...init.headers };
  const body =
    init.body === undefined
      ? undefined
      : typeof init.body === "string"
        ? init.body
        : JSON.stringify(init.body);
  return app.request(path, { method: init.method ?? "GET", headers, ...(body ? { body } : {}) }, env);
}
const json = async (res: Response) => (await res.json()) as Body;
const fieldsOf = (body: Body) => (body.error.details.fields as { field: string }[]).map((f) => f.field);

let counter = 0;
/** A valid create body with synthetic, unique values. */
function newPatient(overrides: Record<string, unknown> = {}) {
  counter += 1;
  return {
    givenName: `Ada${counter}`,
    familyName: `Lovelace${counter}`,
    dateOfBirth: "1985-12-10",
    sex: "female",
    ...overrides,
  };
}
async function createViaApi(body: Record<string, unknown> = newPatient(), headers = session.headers) {
  const res = await call(BASE, { method: "POST", headers, body });
  expect(res.status).toBe(201);
  return (await json(res)).patient as Body;
}

interface AuditRow {
  action: string;
  outcome: string;
  actor_type: string;
  actor_id: string | null;
  resource_type: string;
  resource_id: string | null;
  details: Record<string, unknown>;
}
async function auditRows(tenantId: string, filter: { action?: string; resourceId?: string } = {}) {
  const o = database.owner;
  return o<AuditRow[]>`
    select action, outcome, actor_type, actor_id, resource_type, resource_id, details
    from medchr.audit_events where tenant_id = ${tenantId}
      ${filter.action ? o`and action = ${filter.action}` : o``}
      ${filter.resourceId ? o`and resource_id = ${filter.resourceId}` : o``}
    order by seq`;
}
async function auditCount(tenantId: string) {
  const [row] = await database.owner<{ n: number }[]>`
    select count(*)::int as n from medchr.audit_events where tenant_id = ${tenantId}`;
  return row!.n;
}
async function patientRow(id: string) {
  const [row] = await database.owner<Body[]>`
    select tenant_id, mrn, given_name, family_name, date_of_birth::text as date_of_birth, sex, contact, notes,
      lifestyle, created_by, updated_at from medchr.patients where id = ${id}`;
  return row;
}

/** Every name, MRN and date of birth sent in this file: none may reach the audit log. */
const phiSent = new Set<string>();
function remember(body: Record<string, unknown>) {
  for (const key of ["givenName", "familyName", "mrn", "dateOfBirth"]) {
    const value = body[key];
    if (typeof value === "string") phiSent.add(value);
  }
  return body;
}

describe("POST /api/v1/patients", () => {
  it("creates a patient with every field and answers 201, camelCase, with Location", async () => {
    const body = remember(
      newPatient({
        mrn: "MRN-0001",
        contact: {
          phone: "+1 (555) 010-0199 ext 12",
          email: "ada@example.org",
          address: {
            line1: "12 Analytical Way",
            line2: "Flat 3",
            city: "London",
            region: "Greater London",
            postalCode: "NW1 6XE",
            country: "gb",
          },
        },
        notes: "First visit.\nReferred by Dr. Babbage.",
        lifestyle: { smoking: "never", alcohol: "occasional", exercise: "moderate", diet: "vegetarian" },
      }),
    );
    const res = await call(BASE, { method: "POST", headers: session.headers, body });
    expect(res.status).toBe(201);
    const { patient } = await json(res);
    expect(res.headers.get("Location")).toBe(`${BASE}/${patient.id}`);
    expect(res.headers.get("Cache-Control")).toContain("no-store");
    expect(patient).toMatchObject({
      givenName: body.givenName,
      familyName: body.familyName,
      dateOfBirth: "1985-12-10",
      sex: "female",
      mrn: "MRN-0001",
      notes: "First visit.\nReferred by Dr. Babbage.",
      lifestyle: { smoking: "never", alcohol: "occasional", exercise: "moderate", diet: "vegetarian" },
    });
    expect(patient.contact.address.country).toBe("GB");
    expect(Object.keys(patient).sort()).toEqual(
      [
        "id",
        "mrn",
        "givenName",
        "familyName",
        "dateOfBirth",
        "sex",
        "contact",
        "notes",
        "lifestyle",
        "createdAt",
        "updatedAt",
      ].sort(),
    );
    const row = await patientRow(patient.id);
    expect(row).toMatchObject({ tenant_id: tenantA, created_by: clinician.id, date_of_birth: "1985-12-10" });
    const [event] = await auditRows(tenantA, { action: "patient.create", resourceId: patient.id });
    expect(event).toMatchObject({
      outcome: "SUCCESS",
      actor_type: "user",
      actor_id: clinician.id,
      resource_type: "patient",
      details: {},
    });
  });

  it("trims and NFC-normalises names, and stores a minimal patient with empty contact and lifestyle", async () => {
    const decomposed = "Zoe\u0301"; // "Zoé" with a combining accent
    const patient = await createViaApi(remember(newPatient({ givenName: `  ${decomposed} ` })));
    expect(patient.givenName).toBe("Zo\u00e9");
    expect(patient).toMatchObject({ mrn: null, notes: null, contact: {}, lifestyle: {} });
  });

  it("accepts a write-scoped API key (no user behind it: created_by null, the key is the audit actor)", async () => {
    const patient = await createViaApi(remember(newPatient()), writeKey.headers);
    expect((await patientRow(patient.id))!.created_by).toBeNull();
    const [event] = await auditRows(tenantA, { action: "patient.create", resourceId: patient.id });
    expect(event).toMatchObject({ actor_type: "api_key", actor_id: writeKey.keyId });
  });

  it("refuses a read-scoped API key (403) and an auditor (403), writing nothing", async () => {
    const before = await database.owner<{ n: number }[]>`select count(*)::int as n from medchr.patients`;
    const res = await call(BASE, { method: "POST", headers: readKey.headers, body: newPatient() });
    expect(res.status).toBe(403);
    expect((await json(res)).error.code).toBe("forbidden");
    const byAuditor = await call(BASE, { method: "POST", headers: auditor.headers, body: newPatient() });
    expect(byAuditor.status).toBe(403);
    const after = await database.owner<{ n: number }[]>`select count(*)::int as n from medchr.patients`;
    expect(after[0]!.n).toBe(before[0]!.n);
  });

  it("answers 409 naming mrn when the MRN is taken in this clinic, and allows it in another clinic", async () => {
    await createViaApi(remember(newPatient({ mrn: "DUP-7" })));
    const count = await auditCount(tenantA);
    const res = await call(BASE, {
      method: "POST",
      headers: session.headers,
      body: newPatient({ mrn: "DUP-7" }),
    });
    expect(res.status).toBe(409);
    const body = await json(res);
    expect(body.error.code).toBe("conflict");
    expect(fieldsOf(body)).toEqual(["mrn"]);
    expect(JSON.stringify(body)).not.toContain("DUP-7");
    expect(await auditCount(tenantA)).toBe(count);
    const elsewhere = await call(BASE, {
      method: "POST",
      headers: sessionB.headers,
      body: newPatient({ mrn: "DUP-7" }),
    });
    expect(elsewhere.status).toBe(201);
  });

  describe("validation: 400 naming the field, never echoing the value", () => {
    const cases: [string, Record<string, unknown>, string][] = [
      ["a malformed date", { dateOfBirth: "10/12/1985" }, "dateOfBirth"],
      ["an impossible date", { dateOfBirth: "2023-02-29" }, "dateOfBirth"],
      ["a date of birth in the future", { dateOfBirth: "2999-01-01" }, "dateOfBirth"],
      ["a date of birth before 1900", { dateOfBirth: "1899-12-31" }, "dateOfBirth"],
      ["an unknown sex", { sex: "robot" }, "sex"],
      ["an unknown lifestyle key", { lifestyle: { smoking: "never", cigars: "daily" } }, "lifestyle"],
      ["an unknown lifestyle value", { lifestyle: { alcohol: "lots" } }, "lifestyle.alcohol"],
      ["over-long notes", { notes: "x".repeat(20_001) }, "notes"],
      ["control characters in a name", { familyName: "Love\u0007lace" }, "familyName"],
      ["an empty name", { givenName: "   " }, "givenName"],
      ["a malformed email", { contact: { email: "not-an-email" } }, "contact.email"],
      [
        "a country that is not ISO alpha-2",
        { contact: { address: { country: "Britain" } } },
        "contact.address.country",
      ],
      ["an unknown contact key", { contact: { fax: "123" } }, "contact"],
      ["an MRN with odd characters", { mrn: "MRN<script>" }, "mrn"],
    ];
    it.each(cases)("refuses %s", async (_label, override, field) => {
      const res = await call(BASE, { method: "POST", headers: session.headers, body: newPatient(override) });
      expect(res.status).toBe(400);
      const body = await json(res);
      expect(body.error.code).toBe("validation_failed");
      expect(fieldsOf(body)).toContain(field);
      for (const value of Object.values(override)) {
        if (typeof value === "string" && value.trim().length > 3)
          expect(JSON.stringify(body)).not.toContain(value);
      }
    });

    it("refuses missing required fields, naming each", async () => {
      const res = await call(BASE, { method: "POST", headers: session.headers, body: { givenName: "Only" } });
      expect(res.status).toBe(400);
      expect(fieldsOf(await json(res))).toEqual(expect.arrayContaining(["familyName", "dateOfBirth", "sex"]));
    });

    it("refuses an unknown top-level field", async () => {
      const res = await call(BASE, {
        method: "POST",
        headers: session.headers,
        body: newPatient({ ssn: "000-00-0000" }),
      });
      expect(res.status).toBe(400);
      expect(JSON.stringify(await json(res))).not.toContain("000-00-0000");
    });

    it("accepts notes of exactly 20,000 characters", async () => {
      const patient = await createViaApi(remember(newPatient({ notes: "y".repeat(20_000) })));
      expect(patient.notes).toHaveLength(20_000);
    });

    it("refuses malformed JSON with 400 and a non-JSON body with 415", async () => {
      const malformed = await call(BASE, {
        method: "POST",
        headers: session.headers,
        body: '{"givenName": "A",',
      });
      expect(malformed.status).toBe(400);
      const wrongType = await call(BASE, {
        method: "POST",
        headers: { ...session.headers, "Content-Type": "text/plain" },
        body: JSON.stringify(newPatient()),
      });
      expect(wrongType.status).toBe(415);
      const form = await call(BASE, {
        method: "POST",
        headers: { ...writeKey.headers, "Content-Type": "application/x-www-form-urlencoded" },
        body: "givenName=A",
      });
      expect(form.status).toBe(415);
    });
  });
});

describe("GET /api/v1/patients/{patientId}", () => {
  it("returns the whole record and audits patient.read", async () => {
    const created = await createViaApi(remember(newPatient({ notes: "private note" })));
    const res = await call(`${BASE}/${created.id}`, { headers: readKey.headers });
    expect(res.status).toBe(200);
    expect((await json(res)).patient).toEqual(created);
    const [event] = await auditRows(tenantA, { action: "patient.read", resourceId: created.id });
    expect(event).toMatchObject({ actor_type: "api_key", actor_id: readKey.keyId, details: {} });
  });

  it("answers 404 for an unknown id and 400 naming patientId for a malformed one", async () => {
    const missing = await call(`${BASE}/6f1c2d3e-4b5a-4c6d-8e7f-8091a2b3c4d5`, { headers: session.headers });
    expect(missing.status).toBe(404);
    expect((await json(missing)).error.code).toBe("not_found");
    const malformed = await call(`${BASE}/not-a-uuid`, { headers: session.headers });
    expect(malformed.status).toBe(400);
    expect(fieldsOf(await json(malformed))).toEqual(["patientId"]);
  });

  it("refuses an auditor (no patient.read) with 403", async () => {
    const created = await createViaApi(remember(newPatient()));
    const res = await call(`${BASE}/${created.id}`, { headers: auditor.headers });
    expect(res.status).toBe(403);
  });
});

describe("PATCH /api/v1/patients/{patientId}", () => {
  it("changes only the fields sent and audits the changed field names (not unchanged ones)", async () => {
    const created = await createViaApi(
      remember(newPatient({ mrn: "UPD-1", lifestyle: { smoking: "current" }, notes: "before" })),
    );
    const changes = remember({
      familyName: "Byron",
      sex: created.sex, // unchanged: not listed
      notes: null,
      lifestyle: { smoking: "former", occupation: "mathematician" },
    });
    const res = await call(`${BASE}/${created.id}`, {
      method: "PATCH",
      headers: session.headers,
      body: changes,
    });
    expect(res.status).toBe(200);
    const { patient } = await json(res);
    expect(patient).toMatchObject({
      givenName: created.givenName,
      familyName: "Byron",
      mrn: "UPD-1",
      notes: null,
      lifestyle: { smoking: "former", occupation: "mathematician" },
    });
    expect(patient.updatedAt >= created.updatedAt).toBe(true);
    const [event] = await auditRows(tenantA, { action: "patient.update", resourceId: created.id });
    expect((event!.details.fields as string[]).sort()).toEqual(["family_name", "lifestyle", "notes"]);
  });

  it("audits a no-op update with no fields and leaves updated_at alone", async () => {
    const created = await createViaApi(remember(newPatient({ contact: { phone: "555 0100" } })));
    const before = await patientRow(created.id);
    const res = await call(`${BASE}/${created.id}`, {
      method: "PATCH",
      headers: session.headers,
      body: { givenName: created.givenName, contact: { phone: "555 0100" } },
    });
    expect(res.status).toBe(200);
    expect((await patientRow(created.id))!.updated_at).toEqual(before!.updated_at);
    const [event] = await auditRows(tenantA, { action: "patient.update", resourceId: created.id });
    expect(event!.details).toEqual({ fields: [] });
  });

  it("clears optional fields with null and replaces contact as a whole", async () => {
    const created = await createViaApi(
      remember(newPatient({ mrn: "CLR-1", contact: { phone: "555 0101", email: "a@example.org" } })),
    );
    const res = await call(`${BASE}/${created.id}`, {
      method: "PATCH",
      headers: writeKey.headers,
      body: { mrn: null, contact: { email: "b@example.org" } },
    });
    expect(res.status).toBe(200);
    expect((await json(res)).patient).toMatchObject({ mrn: null, contact: { email: "b@example.org" } });
    expect((await patientRow(created.id))!.contact).toEqual({ email: "b@example.org" });
  });

  it("refuses an empty change, a null required field, and a future date of birth", async () => {
    const created = await createViaApi(remember(newPatient()));
    const cases: [unknown, string][] = [
      [{}, "(body)"],
      [{ familyName: null }, "familyName"],
      [{ dateOfBirth: "2999-12-31" }, "dateOfBirth"],
      [{ lifestyle: { hobby: "chess" } }, "lifestyle"],
    ];
    for (const [body, field] of cases) {
      const res = await call(`${BASE}/${created.id}`, { method: "PATCH", headers: session.headers, body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(fieldsOf(await json(res))).toContain(field);
    }
    expect((await patientRow(created.id))!.family_name).toBe(created.familyName);
  });

  it("answers 409 naming mrn when changing to an MRN another patient has, changing nothing", async () => {
    await createViaApi(remember(newPatient({ mrn: "TAKEN-9" })));
    const other = await createViaApi(remember(newPatient({ mrn: "MINE-9" })));
    const res = await call(`${BASE}/${other.id}`, {
      method: "PATCH",
      headers: session.headers,
      body: { mrn: "TAKEN-9", notes: "should not be saved" },
    });
    expect(res.status).toBe(409);
    expect(fieldsOf(await json(res))).toEqual(["mrn"]);
    expect(await patientRow(other.id)).toMatchObject({ mrn: "MINE-9", notes: null });
    expect(await auditRows(tenantA, { action: "patient.update", resourceId: other.id })).toEqual([]);
  });

  it("refuses a read-scoped key with 403", async () => {
    const created = await createViaApi(remember(newPatient()));
    const res = await call(`${BASE}/${created.id}`, {
      method: "PATCH",
      headers: readKey.headers,
      body: { notes: "x" },
    });
    expect(res.status).toBe(403);
    expect((await patientRow(created.id))!.notes).toBeNull();
  });
});

describe("DELETE /api/v1/patients/{patientId}", () => {
  it("deletes the row, answers 204 with no body, audits patient.delete; a second delete is 404", async () => {
    const created = await createViaApi(remember(newPatient({ mrn: "DEL-1" })));
    const res = await call(`${BASE}/${created.id}`, { method: "DELETE", headers: session.headers });
    expect(res.status).toBe(204);
    expect(await res.text()).toBe("");
    expect(await patientRow(created.id)).toBeUndefined();
    const [event] = await auditRows(tenantA, { action: "patient.delete", resourceId: created.id });
    expect(event).toMatchObject({ outcome: "SUCCESS", actor_id: clinician.id, details: {} });
    expect((await call(`${BASE}/${created.id}`, { headers: session.headers })).status).toBe(404);
    const again = await call(`${BASE}/${created.id}`, { method: "DELETE", headers: session.headers });
    expect(again.status).toBe(404);
    // The MRN is free again.
    await createViaApi(remember(newPatient({ mrn: "DEL-1" })));
  });
});

describe("another clinic's patient", () => {
  it("is 404 for GET, PATCH and DELETE, by session and by key, and nothing changes or is audited there", async () => {
    const foreign = await createViaApi(remember(newPatient({ mrn: "B-ONLY-1" })), sessionB.headers);
    const before = await patientRow(foreign.id);
    const auditB = await auditCount(tenantB);
    for (const headers of [session.headers, writeKey.headers]) {
      for (const [method, body] of [
        ["GET", undefined],
        ["PATCH", { notes: "overwritten" }],
        ["DELETE", undefined],
      ] as const) {
        const res = await call(`${BASE}/${foreign.id}`, { method, headers, body });
        expect(res.status, method).toBe(404);
        const text = await res.text();
        expect(text).not.toContain(foreign.id);
        expect(text).not.toContain("B-ONLY-1");
      }
      const aliased = await call(`/patients/${foreign.id}`, { method: "DELETE", headers });
      expect(aliased.status).toBe(404);
    }
    expect(await patientRow(foreign.id)).toEqual(before);
    expect(await auditCount(tenantB)).toBe(auditB);
  });

  it("never appears in lists or searches", async () => {
    await createViaApi(remember(newPatient({ familyName: "Zebulon", mrn: "B-ONLY-2" })), sessionB.headers);
    for (const query of ["q=zebulon", "mrn=B-ONLY-2", "limit=100"]) {
      const res = await call(`${BASE}?${query}`, { headers: session.headers });
      const body = await json(res);
      expect(JSON.stringify(body)).not.toContain("Zebulon");
      expect(JSON.stringify(body)).not.toContain("B-ONLY-2");
    }
  });
});

describe("GET /api/v1/patients: pages", () => {
  let tenantP: string;
  let pageSession: TestSession;
  beforeAll(async () => {
    tenantP = await createTenant(database.owner, "patients-pages");
    pageSession = await signIn(database.db, await createUser(database.owner, tenantP));
    // One statement: all 60 share one created_at, so only the id tie-breaker orders them.
    await database.owner`
      insert into medchr.patients (tenant_id, given_name, family_name, date_of_birth, sex)
      select ${tenantP}, 'Page' || g, 'Walker', date '1960-01-01' + g, 'unknown'
      from generate_series(1, 60) g`;
  });

  async function walk(limit: number, between?: (page: number) => Promise<void>) {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = `limit=${limit}${cursor ? `&cursor=${cursor}` : ""}`;
      const res = await call(`${BASE}?${query}`, { headers: pageSession.headers });
      expect(res.status).toBe(200);
      const body = await json(res);
      expect(body.patients.length).toBeLessThanOrEqual(limit);
      seen.push(...body.patients.map((p: Body) => p.id));
      cursor = body.nextCursor;
      pages += 1;
      if (between) await between(pages);
    } while (cursor && pages < 100);
    return { seen, pages };
  }

  it("walks 60 patients in pages of 25 with no duplicates and no gaps, in a stable order", async () => {
    const { seen, pages } = await walk(25);
    expect(pages).toBe(3);
    expect(seen).toHaveLength(60);
    expect(new Set(seen).size).toBe(60);
    const [{ ids }] = (await database.owner`
      select coalesce(json_agg(id order by created_at, id), '[]') as ids
      from medchr.patients where tenant_id = ${tenantP}`) as unknown as [{ ids: string[] }];
    expect(seen).toEqual(ids);
    expect((await walk(7)).seen).toEqual(seen);
  });

  it("defaults to 25 and returns summaries without contact, notes or lifestyle", async () => {
    const res = await call(BASE, { headers: pageSession.headers });
    const body = await json(res);
    expect(body.patients).toHaveLength(25);
    expect(typeof body.nextCursor).toBe("string");
    expect(Object.keys(body.patients[0]).sort()).toEqual(
      ["createdAt", "dateOfBirth", "familyName", "givenName", "id", "mrn", "sex", "updatedAt"].sort(),
    );
  });

  it("stays complete while patients are added, renamed and deleted during the walk", async () => {
    const existing = (await walk(100)).seen;
    let added = 0;
    let deleted: string | undefined;
    const { seen } = await walk(10, async (page) => {
      if (page === 1) {
        // Newer patients appear after the cursor; an older-dated one must not repeat a page.
        await database.owner`
          insert into medchr.patients (tenant_id, given_name, family_name, date_of_birth, sex, created_at)
          values (${tenantP}, 'Late', 'Arrival', '1999-01-01', 'unknown', now() + interval '1 hour'),
                 (${tenantP}, 'Early', 'Backdated', '1999-01-01', 'unknown', now() - interval '10 years')`;
        added = 2;
      }
      if (page === 2) {
        await database.owner`update medchr.patients set family_name = 'Aaron' where id = ${existing[55]!}`;
        deleted = existing[58]!;
        await database.owner`delete from medchr.patients where id = ${deleted}`;
      }
    });
    expect(added).toBe(2);
    expect(new Set(seen).size).toBe(seen.length);
    for (const id of existing) if (id !== deleted) expect(seen).toContain(id);
    expect(seen).toHaveLength(existing.length - 1 + 1); // minus the deleted, plus "Late Arrival"
  });

  it("refuses a tampered or foreign cursor with 400 naming cursor", async () => {
    const first = await json(await call(`${BASE}?limit=5`, { headers: pageSession.headers }));
    const good: string = first.nextCursor;
    const encode = (text: string) => Buffer.from(text).toString("base64url");
    const bad = [
      `${good.slice(0, -2)}!!`,
      "not-a-cursor",
      encode("2026-02-30T10:00:00.000000Z|6f1c2d3e-4b5a-4c6d-8e7f-8091a2b3c4d5"),
      encode("2026-01-01T10:00:00.000000Z|'; drop table medchr.patients; --"),
      encode("2026-01-01T10:00:00Z|6f1c2d3e-4b5a-4c6d-8e7f-8091a2b3c4d5"),
      Buffer.from([0xff, 0xfe, 0xfd]).toString("base64url"),
      "A".repeat(300),
    ];
    for (const cursor of bad) {
      const res = await call(`${BASE}?cursor=${encodeURIComponent(cursor)}`, {
        headers: pageSession.headers,
      });
      expect(res.status, cursor).toBe(400);
      expect(fieldsOf(await json(res))).toEqual(["cursor"]);
    }
  });

  it("refuses limits outside 1..100, bad search terms and unknown query parameters, naming them", async () => {
    for (const [query, field] of [
      ["limit=0", "limit"],
      ["limit=101", "limit"],
      ["limit=ten", "limit"],
      ["name=walker", "(body)"],
      ["dateOfBirth=1960-13-01", "dateOfBirth"],
      ["q=%00", "q"],
      ["q=%20%20", "q"],
      [`q=${"a".repeat(201)}`, "q"],
    ] as const) {
      const res = await call(`${BASE}?${query}`, { headers: pageSession.headers });
      expect(res.status, query).toBe(400);
      const body = await json(res);
      expect(fieldsOf(body), query).toContain(field);
      if (field === "(body)") expect(JSON.stringify(body.error.details.fields)).toContain('\\"name\\"');
    }
  });

  it("audits patient.list with the count only", async () => {
    await call(`${BASE}?limit=3&q=page1`, { headers: pageSession.headers });
    const events = await auditRows(tenantP, { action: "patient.list" });
    expect(events.at(-1)).toMatchObject({ resource_id: null, details: { count: 3 } });
    for (const event of events) expect(Object.keys(event.details)).toEqual(["count"]);
  });
});

describe("GET /api/v1/patients: search", () => {
  let tenantS: string;
  let searchKey: TestApiKey;
  const ids: Record<string, string> = {};
  beforeAll(async () => {
    tenantS = await createTenant(database.owner, "patients-search");
    searchKey = await createApiKey(database.owner, tenantS, { scopes: ["read", "write"] });
    const people = [
      [
        "maria",
        { givenName: "María", familyName: "Müller", dateOfBirth: "1970-05-01", sex: "female", mrn: "S-100" },
      ],
      [
        "max",
        { givenName: "Max", familyName: "Mustermann", dateOfBirth: "1970-05-01", sex: "male", mrn: "S-101" },
      ],
      [
        "anna",
        { givenName: "Anna", familyName: "Maxwell", dateOfBirth: "1988-02-29", sex: "female", mrn: "S-1000" },
      ],
      ["otto", { givenName: "Otto", familyName: "Smith", dateOfBirth: "1955-11-30", sex: "unknown" }],
      ["percent", { givenName: "Per%cy", familyName: "O_Neil", dateOfBirth: "1990-01-01", sex: "other" }],
    ] as const;
    for (const [key, body] of people) {
      ids[key] = (await createViaApi(remember({ ...body }), searchKey.headers)).id;
    }
  });

  async function search(query: string): Promise<string[]> {
    const res = await call(`${BASE}?${query}`, { headers: searchKey.headers });
    expect(res.status, query).toBe(200);
    return ((await json(res)).patients as Body[]).map((p) => p.id).sort();
  }
  const idsOf = (...keys: string[]) => keys.map((k) => ids[k]!).sort();

  it("finds by a case-insensitive prefix of the given or the family name", async () => {
    expect(await search("q=max")).toEqual(idsOf("max", "anna"));
    expect(await search("q=MUST")).toEqual(idsOf("max"));
    expect(await search(`q=${encodeURIComponent("mü")}`)).toEqual(idsOf("maria"));
    expect(await search(`q=${encodeURIComponent("MÜLLER")}`)).toEqual(idsOf("maria"));
    expect(await search(`q=${encodeURIComponent("mari\u0301a")}`)).toEqual(idsOf("maria"));
    expect(await search("q=%20%20smi%20")).toEqual(idsOf("otto"));
    expect(await search("q=ith")).toEqual([]);
    expect(await search("q=zz")).toEqual([]);
  });

  it("treats LIKE wildcards in the term as plain characters", async () => {
    expect(await search(`q=${encodeURIComponent("%")}`)).toEqual([]);
    expect(await search(`q=${encodeURIComponent("_")}`)).toEqual([]);
    expect(await search(`q=${encodeURIComponent("o_")}`)).toEqual(idsOf("percent"));
    expect(await search(`q=${encodeURIComponent("per%")}`)).toEqual(idsOf("percent"));
  });

  it("finds by exact MRN (not a prefix) and exact date of birth, and combines filters", async () => {
    expect(await search("mrn=S-100")).toEqual(idsOf("maria"));
    expect(await search("mrn=S-10")).toEqual([]);
    expect(await search("dateOfBirth=1970-05-01")).toEqual(idsOf("maria", "max"));
    expect(await search("dateOfBirth=1988-02-29")).toEqual(idsOf("anna"));
    expect(await search("dateOfBirth=1970-05-01&q=m")).toEqual(idsOf("maria", "max"));
    expect(await search("dateOfBirth=1970-05-01&q=mu")).toEqual(idsOf("max"));
    expect(await search("dateOfBirth=1970-05-01&q=max")).toEqual(idsOf("max"));
    expect(await search("mrn=S-100&q=max")).toEqual([]);
  });

  it("pages through search results with the same cursor rules", async () => {
    const first = await json(await call(`${BASE}?q=m&limit=1`, { headers: searchKey.headers }));
    expect(first.patients).toHaveLength(1);
    const second = await json(
      await call(`${BASE}?q=m&limit=5&cursor=${first.nextCursor}`, { headers: searchKey.headers }),
    );
    const all = [...first.patients, ...second.patients].map((p: Body) => p.id).sort();
    expect(all).toEqual(idsOf("maria", "max", "anna"));
    expect(second.nextCursor).toBeNull();
  });

  it("never writes search terms into the audit log", async () => {
    const text = JSON.stringify(await auditRows(tenantS));
    for (const term of ["max", "MUST", "S-100", "1970-05-01", "Müller", "smi"])
      expect(text).not.toContain(term);
  });
});

describe("partner paths", () => {
  it("serve the same operations under /patients and /patients/{patient_id}", async () => {
    const created = await call("/patients", {
      method: "POST",
      headers: writeKey.headers,
      body: remember(newPatient()),
    });
    expect(created.status).toBe(201);
    const { patient } = await json(created);
    expect(created.headers.get("Location")).toBe(`/patients/${patient.id}`);
    const got = await call(`/patients/${patient.id}`, { headers: writeKey.headers });
    expect((await json(got)).patient).toEqual(patient);
    const listed = await json(await call(`/patients?q=${patient.familyName}`, { headers: writeKey.headers }));
    expect(listed.patients.map((p: Body) => p.id)).toEqual([patient.id]);
    const patched = await call(`/patients/${patient.id}`, {
      method: "PATCH",
      headers: writeKey.headers,
      body: { sex: "other" },
    });
    expect((await json(patched)).patient.sex).toBe("other");
    const bad = await call(`/patients/${patient.id}`, {
      method: "PATCH",
      headers: writeKey.headers,
      body: {},
    });
    expect(bad.status).toBe(400);
    const malformedId = await call("/patients/123", { headers: writeKey.headers });
    expect(fieldsOf(await json(malformedId))).toEqual(["patient_id"]);
    expect(
      (await call(`/patients/${patient.id}`, { method: "DELETE", headers: writeKey.headers })).status,
    ).toBe(204);
    const actions = (await auditRows(tenantA, { resourceId: patient.id })).map((e) => e.action);
    expect(actions).toEqual(["patient.create", "patient.read", "patient.update", "patient.delete"]);
  });

  it("require credentials like the /api/v1 paths", async () => {
    expect((await call("/patients")).status).toBe(401);
    const { "X-CSRF-Token": _omitted, ...noCsrf } = session.headers;
    const res = await call("/patients", { method: "POST", headers: noCsrf, body: newPatient() });
    expect(res.status).toBe(403);
  });
});

describe("the audit log", () => {
  it("holds no name, MRN or date of birth sent in this file, in any event of any tenant", async () => {
    const rows = await database.owner<Body[]>`select * from medchr.audit_events`;
    expect(rows.length).toBeGreaterThan(20);
    const text = JSON.stringify(rows);
    expect(phiSent.size).toBeGreaterThan(40);
    for (const value of phiSent) expect(text, "audit log contains a sent value").not.toContain(value);
    const actions = new Set(rows.map((r) => r.action));
    for (const action of [
      "patient.create",
      "patient.read",
      "patient.list",
      "patient.update",
      "patient.delete",
    ])
      expect(actions).toContain(action);
  });
});
