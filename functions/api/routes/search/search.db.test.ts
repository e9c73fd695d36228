/**
 * GET /api/v1/patients/{patientId}/search on PGlite with the real migrations: hybrid results
 * for the patient's current chunks only, exact k (the filtered-vector trap: many other
 * patients' chunks in the tenant), the query never stored in the audit, and the refusals.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createOnBoxEmbeddingProvider } from "../../../../shared/embeddings/create-on-box-embedding-provider";
import { createFunctionApp } from "../../../../shared/http/create-app";
import { seededUnitVector, seedProcessedDocument } from "../../../../shared/retrieval/testing";
import {
  createApiKey,
  createUser,
  signIn,
  type TestApiKey,
  type TestSession,
} from "../../../../test/helpers/identity";
import { createTenant, startTestDatabase, type TestDatabase } from "../../../../test/helpers/test-database";
import { testEnv } from "../../../../test/helpers/test-env";
import { registerSearchRoutes } from "./index";

// biome-ignore lint/suspicious/noExplicitAny: response bodies are checked field by field
type Body = Record<string, any>;

const app = createFunctionApp("api", { usesDatabase: true });
registerSearchRoutes(app);

let database: TestDatabase;
let env: Record<string, unknown>;
let tenantA: string;
let session: TestSession;
let auditor: TestSession;
let readKey: TestApiKey;
let patientId: string;
let otherPatient: string;
let foreignPatient: string;
let patientChunks: string[] = [];

const QUERY = "potassium result";
const url = (id: string, q = QUERY, k?: number) =>
  `/api/v1/patients/${id}/search?q=${encodeURIComponent(q)}${k === undefined ? "" : `&k=${k}`}`;
const call = (path: string, headers: Record<string, string> = {}) =>
  app.request(path, { headers: { "CF-Connecting-IP": "198.51.100.9", ...headers } }, env);

async function createPatient(tenantId: string): Promise<string> {
  const [row] = await database.owner<{ id: string }[]>`
    insert into medchr.patients (tenant_id, given_name, family_name, mrn)
    values (${tenantId}, 'Synthetic', 'Searchroute', ${`MRN-${randomBytes(4).toString("hex")}`}) returning id`;
  return row!.id;
}

beforeAll(async () => {
  database = await startTestDatabase();
  env = testEnv(database.url);
  tenantA = await createTenant(database.owner, "search-api-a");
  const tenantB = await createTenant(database.owner, "search-api-b");
  session = await signIn(database.db, await createUser(database.owner, tenantA, { role: "clinician" }));
  auditor = await signIn(database.db, await createUser(database.owner, tenantA, { role: "auditor" }));
  readKey = await createApiKey(database.owner, tenantA, { scopes: ["read"] });
  patientId = await createPatient(tenantA);
  otherPatient = await createPatient(tenantA);
  foreignPatient = await createPatient(tenantB);

  // The patient's chunks embedded on-box, as the pipeline leaves them in a clinic on-box only.
  const onBox = createOnBoxEmbeddingProvider();
  const texts = [
    "Potassium 5.9 mmol/L (3.5-5.1) H - repeat result advised",
    "Sodium 139 mmol/L (134-144)",
    "Metformin 500 mg twice daily",
    ...Array.from({ length: 30 }, (_, i) => `Progress note ${i}: patient doing well, no complaints.`),
  ];
  const vectors = await onBox.embed(texts);
  if (!vectors.ok) throw new Error("on-box embedder failed");
  const seeded = await seedProcessedDocument(
    database.owner,
    tenantA,
    patientId,
    texts.map((text, i) => ({ text, vector: vectors.value[i]!, model: onBox.model })),
  );
  patientChunks = seeded.chunkIds;
  // Many chunks of another patient in the same clinic, with the same words, nearer vectors:
  // an index post-filter would return this patient's rows and drop ours.
  const query = await onBox.embed([QUERY]);
  if (!query.ok) throw new Error("on-box embedder failed");
  const near = query.value[0]!;
  await seedProcessedDocument(
    database.owner,
    tenantA,
    otherPatient,
    Array.from({ length: 400 }, (_, i) => ({
      text: `Potassium result ${i} for someone else`,
      vector: i % 2 === 0 ? near : seededUnitVector(i + 7),
      model: onBox.model,
    })),
  );
  await seedProcessedDocument(database.owner, tenantB, foreignPatient, [
    { text: "Potassium result in another clinic", vector: near, model: onBox.model },
  ]);
}, 120_000);
afterAll(async () => {
  await database?.stop();
});

describe("GET /api/v1/patients/{patientId}/search", () => {
  it("finds the patient's own chunks, best first, from both legs, and audits counts only", async () => {
    const res = await call(url(patientId), session.headers);
    expect(res.status).toBe(200);
    expect(res.headers.get("Cache-Control")).toContain("no-store");
    const body = (await res.json()) as Body;
    expect(body.legs).toEqual({ vector: true, text: true });
    expect(body.embeddingModel).toBe(createOnBoxEmbeddingProvider().model);
    expect(body.hits[0].text).toMatch(/^Potassium 5\.9/);
    expect(body.hits[0].textRank).toBe(1);
    expect(body.hits[0].vectorRank).not.toBeNull();
    for (const hit of body.hits) expect(patientChunks).toContain(hit.chunkId);

    const [event] = await database.owner<Body[]>`
      select details, resource_id from medchr.audit_events
      where tenant_id = ${tenantA} and action = 'patient.search' order by seq desc limit 1`;
    expect(event!.resource_id).toBe(patientId);
    expect(event!.details).toEqual({ k: 8, results: body.hits.length, vector: true });
    const everything = JSON.stringify(
      await database.owner`select details from medchr.audit_events where tenant_id = ${tenantA}`,
    );
    expect(everything).not.toContain("potassium");
    const egress = await database.owner<Body[]>`
      select processor, purpose, outcome, chars_sent from medchr.llm_egress_events
      where tenant_id = ${tenantA} and patient_id = ${patientId}`;
    expect(egress.at(-1)).toMatchObject({ processor: "on-box", purpose: "embedding", chars_sent: 0 });
  });

  it("returns exactly k rows among 400 nearer chunks of another patient (no post-filter shortfall)", async () => {
    for (const k of [1, 10, 33, 50]) {
      const body = (await (await call(url(patientId, QUERY, k), session.headers)).json()) as Body;
      expect(body.hits).toHaveLength(Math.min(k, patientChunks.length));
      for (const hit of body.hits) expect(patientChunks).toContain(hit.chunkId);
    }
  });

  it("accepts a read-scoped API key", async () => {
    expect((await call(url(patientId), readKey.headers)).status).toBe(200);
  });

  it("refuses no credentials (401), an auditor (403), another clinic's patient (404), bad input (400)", async () => {
    expect((await call(url(patientId))).status).toBe(401);
    expect((await call(url(patientId), auditor.headers)).status).toBe(403);
    const foreign = await call(url(foreignPatient), session.headers);
    expect(foreign.status).toBe(404);
    expect(JSON.stringify(await foreign.json())).not.toContain("another clinic");
    for (const bad of [
      url(patientId, ""),
      url(patientId, "x".repeat(501)),
      url(patientId, QUERY, 0),
      url(patientId, QUERY, 51),
      url("not-a-uuid"),
    ]) {
      const res = await call(bad, session.headers);
      expect(res.status, bad).toBe(400);
      expect(((await res.json()) as Body).error.code).toBe("validation_failed");
    }
  });
});
