/**
 * GET /api/v1/documents/{documentId}/pages/{page}: a document processed by the real pipeline
 * steps (a two-page text PDF) read back page by page, with every extracted fact's span landing
 * on its own text; the errors (not processed, no such page, malformed page, another clinic's
 * document) and the audit trail without PHI.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { StepContext } from "../../../../shared/pipeline/pipeline-steps";
import {
  buildLinesPdf,
  CLINIC_NOTE_PAGES,
  createRun,
  createTestPatient,
  type PipelineFixture,
  runAllSteps,
  seedDocument,
} from "../../../../shared/pipeline/steps/testing";
import { onBoxPipeline } from "../../../pipeline/testing/on-box-pipeline";
import {
  auditRows,
  buildDocumentsTestApp,
  type DocumentsHarness,
  makeCaller,
  startDocumentsHarness,
} from "./testing";

// biome-ignore lint/suspicious/noExplicitAny: response bodies are checked field by field
type Body = Record<string, any>;

let h: DocumentsHarness;
const app = buildDocumentsTestApp();
const call = makeCaller(app, () => h.env);
let fixture: PipelineFixture;
let ctx: StepContext;
let patientId: string;
let processedId: string;

const pagePath = (documentId: string, page: number | string) =>
  `/api/v1/documents/${documentId}/pages/${page}`;

beforeAll(async () => {
  h = await startDocumentsHarness();
  ({ fixture, ctx } = onBoxPipeline({
    owner: h.database.owner,
    db: h.database.db,
    tenantId: h.tenantA,
    requestId: "document-pages-test",
  }));
  patientId = await createTestPatient(h.database.owner, h.tenantA);
  const doc = await seedDocument(fixture, patientId, buildLinesPdf(CLINIC_NOTE_PAGES), "application/pdf");
  await runAllSteps(ctx, await createRun(fixture, patientId, doc.documentId));
  processedId = doc.documentId;
});
afterAll(async () => {
  await h?.stop();
});

describe("a processed document's page", () => {
  it("answers the page's text and its facts, each span on the text it was read from", async () => {
    const res = await call(pagePath(processedId, 1), { headers: h.clinicianA.headers });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Body;
    expect(body).toMatchObject({
      document: { id: processedId, patientId, mediaType: "application/pdf" },
      page: 1,
      pageCount: 2,
      source: "text_layer",
      ocrConfidence: null,
    });
    expect(body.text).toContain("MEDICATIONS:");
    const kinds = new Set(body.facts.map((f: Body) => f.kind));
    for (const kind of ["medication", "diagnosis", "allergy", "vital"]) expect(kinds).toContain(kind);
    for (const fact of body.facts) {
      expect(fact.charEnd).toBeGreaterThan(fact.charStart);
      expect(fact.charEnd).toBeLessThanOrEqual(body.text.length);
    }
    const span = (f: Body) => (body.text as string).slice(f.charStart, f.charEnd);
    const metformin = body.facts.find((f: Body) => f.kind === "medication" && /metformin/i.test(f.label));
    expect(span(metformin)).toMatch(/Metformin/);
    const allergy = body.facts.find((f: Body) => f.kind === "allergy");
    expect(allergy.label).toMatch(/^Penicillin/);
    expect(span(allergy)).toMatch(/Penicillin/);
    // "No history of stroke": stated as absent, and said so.
    const stroke = body.facts.find((f: Body) => f.kind === "diagnosis" && /stroke/i.test(f.label));
    expect(stroke).toMatchObject({ negated: true });
    expect(stroke.label).toMatch(/stated as absent/);
    expect(span(stroke)).toMatch(/stroke/i);
    // Facts come in reading order.
    const starts = body.facts.map((f: Body) => f.charStart);
    expect(starts).toEqual([...starts].sort((a: number, b: number) => a - b));
  });

  it("serves the second page on its own, and says how many pages there are past the end", async () => {
    const second = (await (
      await call(pagePath(processedId, 2), { headers: h.clinicianA.headers })
    ).json()) as Body;
    expect(second.text).toContain("ASSESSMENT AND PLAN");
    expect(second.text).not.toContain("MEDICATIONS:");

    const past = await call(pagePath(processedId, 3), { headers: h.clinicianA.headers });
    expect(past.status).toBe(404);
    const error = ((await past.json()) as Body).error;
    expect(error).toMatchObject({ code: "not_found", details: { reason: "page_not_found", pageCount: 2 } });
    expect(error.requestId).toBeTruthy();
  });

  it("audits each page read with ids and counts only", async () => {
    const before = (await auditRows(h.database.owner, h.tenantA, { action: "document.page_read" })).length;
    const res = await call(pagePath(processedId, 1), { headers: h.clinicianA.headers });
    const body = (await res.json()) as Body;
    const rows = await auditRows(h.database.owner, h.tenantA, { action: "document.page_read" });
    expect(rows).toHaveLength(before + 1);
    expect(rows.at(-1)).toMatchObject({
      outcome: "SUCCESS",
      resource_id: processedId,
      details: { patientId, page: 1, facts: body.facts.length },
    });
    const details = JSON.stringify(rows.at(-1)!.details);
    expect(details).not.toMatch(/Metformin|Penicillin|TESTPATIENT/i);
  });
});

describe("a number read wrongly", () => {
  it("is served marked for review, with why, beside the sound ones", async () => {
    const doc = await seedDocument(
      fixture,
      patientId,
      buildLinesPdf([
        [
          "LABORATORY REPORT",
          "Collected: 2025-03-01",
          "Sodium 140 mmol/L 135-145",
          "Calcium 95 mg/dL 8.5-10.5 H",
        ],
      ]),
      "application/pdf",
    );
    await runAllSteps(ctx, await createRun(fixture, patientId, doc.documentId));
    const body = (await (
      await call(pagePath(doc.documentId, 1), { headers: h.clinicianA.headers })
    ).json()) as Body;
    const calcium = body.facts.find((f: Body) => /Calcium/.test(f.label));
    const sodium = body.facts.find((f: Body) => /Sodium/.test(f.label));
    expect(calcium.review).toEqual(["implausible_value", "decimal_suspect"]);
    expect(sodium.review).toEqual([]);
  });
});

describe("errors", () => {
  it("answers 409 document_not_processed for a document not read yet", async () => {
    const fresh = await seedDocument(fixture, patientId, buildLinesPdf([["Pending"]]), "application/pdf");
    const res = await call(pagePath(fresh.documentId, 1), { headers: h.clinicianA.headers });
    expect(res.status).toBe(409);
    expect(((await res.json()) as Body).error.details).toMatchObject({ reason: "document_not_processed" });
  });

  it("refuses a page that is not a page number with 400", async () => {
    for (const page of ["0", "-1", "1.5", "abc", "10001"]) {
      const res = await call(pagePath(processedId, page), { headers: h.clinicianA.headers });
      expect(res.status, page).toBe(400);
      const body = (await res.json()) as Body;
      expect(body.error.code).toBe("validation_failed");
      expect(JSON.stringify(body)).not.toMatch(/at \w+ \(|stack/);
    }
  });

  it("answers another clinic 404, as for an id that never existed, and audits nothing for it", async () => {
    const res = await call(pagePath(processedId, 1), { headers: h.clinicianB.headers });
    expect(res.status).toBe(404);
    const text = await res.text();
    expect(text).not.toContain("Metformin");
    expect(JSON.parse(text).error.details).toMatchObject({ reason: "document_not_found" });
    const after = await auditRows(h.database.owner, h.tenantB, { action: "document.page_read" });
    expect(after.length).toBe(0);
  });

  it("refuses a call without credentials", async () => {
    const res = await call(pagePath(processedId, 1), { headers: {} });
    expect(res.status).toBe(401);
  });
});
