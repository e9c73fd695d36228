import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTenant, startTestDatabase, type TestDatabase } from "../../test/helpers/test-database";
import { cosineSimilarity } from "../embeddings";
import { createTestPatient } from "../pipeline/steps/testing";
import { searchPatientChunks } from "./search-patient-chunks";
import { seededUnitVector, seedProcessedDocument } from "./testing";

let t: TestDatabase;
let tenantA: string;
let tenantB: string;
let target: string;
let crowd: string;
const targetVectors = new Map<string, number[]>();
const query = seededUnitVector(1);

/** A vector close to the query: the crowd's chunks sit nearer to it than the target's. */
function near(seed: number, weight: number): number[] {
  const noise = seededUnitVector(seed);
  const v = query.map((q, i) => weight * q + (1 - weight) * noise[i]!);
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}

const search = (tenantId: string, patientId: string, q: string, k: number, vector: number[] | null) =>
  t.db.withTenant({ tenantId, requestId: "test-search" }, (tx) =>
    searchPatientChunks(tx, {
      patientId,
      query: q,
      k,
      queryVector: vector ? { model: "test-model@1", vector } : null,
    }),
  );

beforeAll(async () => {
  t = await startTestDatabase();
  tenantA = await createTenant(t.owner, "search-a");
  tenantB = await createTenant(t.owner, "search-b");
  target = await createTestPatient(t.owner, tenantA);
  crowd = await createTestPatient(t.owner, tenantA);
  // The schema has no approximate index on vectors (ADR 0016). One is made here so the test
  // proves retrieval stays exact even if someone adds one: the planner must not use it.
  await t.owner`create index chunks_hnsw_for_test on medchr.document_chunks using hnsw (embedding vector_cosine_ops)`;
  // The target: 200 chunks, far-ish from the query; one mentions ferritin.
  const chunks = Array.from({ length: 200 }, (_, i) => ({
    text:
      i === 117 ? "Ferritin 9 ng/mL, low: iron deficiency suspected." : `Routine follow-up note number ${i}.`,
    vector: near(1000 + i, 0.2),
  }));
  const seeded = await seedProcessedDocument(t.owner, tenantA, target, chunks);
  for (const [i, id] of seeded.chunkIds.entries()) targetVectors.set(id, chunks[i]!.vector);
  // The crowd: 3,000 chunks of another patient right next to the query, in the same HNSW index.
  await seedProcessedDocument(
    t.owner,
    tenantA,
    crowd,
    Array.from({ length: 3000 }, (_, i) => ({ text: `Crowd chunk ${i}`, vector: near(5000 + i, 0.9) })),
  );
  // Another clinic's patient with a ferritin chunk and the query's own vector.
  const other = await createTestPatient(t.owner, tenantB);
  await seedProcessedDocument(t.owner, tenantB, other, [{ text: "Ferritin 400 ng/mL", vector: query }]);
}, 120_000);
afterAll(async () => {
  await t?.stop();
});

describe("searchPatientChunks", () => {
  it("returns exactly k of the patient's own chunks, the exact nearest ones, even when the HNSW index is crowded by another patient", async () => {
    const hits = await search(tenantA, target, "zzzz-no-text-match", 20, query);
    expect(hits).toHaveLength(20);
    const exact = [...targetVectors.entries()]
      .map(([id, v]) => ({ id, sim: cosineSimilarity(v, query) }))
      .sort((a, b) => b.sim - a.sim)
      .slice(0, 20)
      .map((x) => x.id);
    expect(hits.map((h) => h.chunkId)).toEqual(exact);
    expect(hits.every((h) => h.textRank === null && h.vectorRank !== null)).toBe(true);
  });

  it("finds a term by full text even when the vector leg ranks it low, and fuses both legs", async () => {
    const hits = await search(tenantA, target, "ferritin", 5, query);
    const ferritin = hits.find((h) => h.text.startsWith("Ferritin"));
    expect(ferritin).toBeDefined();
    expect(ferritin!.textRank).toBe(1);
    expect(hits[0]!.chunkId).toBe(ferritin!.chunkId);
    // Text leg alone (no query vector, e.g. chunks of a model the caller cannot embed with).
    const textOnly = await search(tenantA, target, "iron deficiency", 5, null);
    expect(textOnly.map((h) => h.text)).toEqual(["Ferritin 9 ng/mL, low: iron deficiency suspected."]);
  });

  it("never returns another patient's or another clinic's chunks", async () => {
    const hits = await search(tenantA, target, "ferritin crowd", 50, query);
    expect(hits.every((h) => targetVectors.has(h.chunkId))).toBe(true);
    expect(await search(tenantB, target, "ferritin", 10, query)).toEqual([]);
  });

  it("ignores chunks of superseded versions", async () => {
    const p = await createTestPatient(t.owner, tenantA);
    const doc = await seedProcessedDocument(t.owner, tenantA, p, [
      { text: "Haemoglobin 13.1 g/dL", vector: query },
    ]);
    expect(await search(tenantA, p, "haemoglobin", 5, query)).toHaveLength(1);
    await t.owner`update medchr.documents set current_version_id = null where id = ${doc.documentId}`;
    expect(await search(tenantA, p, "haemoglobin", 5, query)).toEqual([]);
  });
});
