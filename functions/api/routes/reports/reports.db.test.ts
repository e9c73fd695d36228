/**
 * The reports API on PGlite with the real migrations: request a draft (and the partner alias),
 * read, edit with optimistic concurrency, history, finalize with step-up in HIPAA mode, verify
 * the signature with the published key, amend, lab trends; and the refusals (roles, scopes,
 * another clinic, a patient with nothing to draft from, a stale revision, a bad section).
 * Drafting itself runs in the pipeline (shared/reports/reports.db.test.ts,
 * functions/pipeline/pipeline-e2e.db.test.ts); here the job is created and left queued.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createFunctionApp } from "../../../../shared/http/create-app";
import { loadNodePdfFonts } from "../../../../shared/reports/node-pdf-fonts";
import { verifyReportSignature } from "../../../../shared/reports/sign-report";
import { pdfFontsOf, seedReport } from "../../../../shared/reports/testing";
import { seedProcessedDocument } from "../../../../shared/retrieval/testing";
import {
  createApiKey,
  createUser,
  signIn,
  type TestApiKey,
  type TestSession,
  type TestUser,
} from "../../../../test/helpers/identity";
import { createTenant, startTestDatabase, type TestDatabase } from "../../../../test/helpers/test-database";
import { strictApiTestEnv, testEnv } from "../../../../test/helpers/test-env";
import { registerReportRoutes } from "./index";

// biome-ignore lint/suspicious/noExplicitAny: response bodies are checked field by field
type Body = Record<string, any>;

const app = createFunctionApp("api", { usesDatabase: true });
registerReportRoutes(app, { queueFor: () => null, pdfFonts: loadNodePdfFonts });
/** A runtime that was given no PDF fonts. */
const appWithoutFonts = createFunctionApp("api", { usesDatabase: true });
registerReportRoutes(appWithoutFonts, { queueFor: () => null });
/** Outside Latin-1 and WinAnsi on purpose: the bundled font must draw it as written. */
const CLINICIAN_NAME = "Zoë Ångström-Łukasz";

let database: TestDatabase;
let env: Record<string, unknown>;
let strictEnv: Record<string, unknown>;
let tenantA: string;
let tenantB: string;
let clinicianUser: TestUser;
let clinician: TestSession;
let auditor: TestSession;
let readKey: TestApiKey;
let writeKey: TestApiKey;
const MINUTE = 60_000;

const call = (
  path: string,
  init: { method?: string; headers?: Record<string, string>; body?: unknown } = {},
  useEnv: Record<string, unknown> = env,
) =>
  app.request(
    path,
    {
      method: init.method ?? "GET",
      headers: {
        "CF-Connecting-IP": "198.51.100.20",
        ...(init.body === undefined ? {} : { "Content-Type": "application/json" }),
        ...init.headers,
      },
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    },
    useEnv,
  );
const json = async (res: Response) => (await res.json()) as Body;

async function createPatient(tenantId: string): Promise<string> {
  const [row] = await database.owner<{ id: string }[]>`
    insert into medchr.patients (tenant_id, given_name, family_name)
    values (${tenantId}, 'Synthetic', 'Reportroute') returning id`;
  return row!.id;
}

beforeAll(async () => {
  database = await startTestDatabase();
  env = testEnv(database.url);
  strictEnv = strictApiTestEnv(database.url);
  tenantA = await createTenant(database.owner, "reports-api-a");
  tenantB = await createTenant(database.owner, "reports-api-b");
  clinicianUser = await createUser(database.owner, tenantA, { role: "clinician" });
  await database.owner`update medchr.users set display_name = ${CLINICIAN_NAME} where id = ${clinicianUser.id}`;
  clinician = await signIn(database.db, clinicianUser);
  auditor = await signIn(database.db, await createUser(database.owner, tenantA, { role: "auditor" }));
  readKey = await createApiKey(database.owner, tenantA, { scopes: ["read"] });
  writeKey = await createApiKey(database.owner, tenantA, { scopes: ["read", "write"] });
});
afterAll(async () => {
  await database?.stop();
});

describe("requesting a draft", () => {
  it("answers 202 with the report and its queued job, and the same ones again while it is under way", async () => {
    const patientId = await createPatient(tenantA);
    await seedProcessedDocument(database.owner, tenantA, patientId, [
      { text: "Metformin 500 mg PO twice daily" },
    ]);
    const res = await call(`/api/v1/patients/${patientId}/reports`, {
      method: "POST",
      headers: clinician.headers,
      body: {},
    });
    expect(res.status).toBe(202);
    const body = await json(res);
    expect(body).toEqual({
      reportId: expect.any(String),
      jobId: expect.any(String),
      status: "drafting",
      created: true,
    });
    expect(res.headers.get("location")).toBe(`/api/v1/reports/${body.reportId}`);
    const [job] = await database.owner<{ kind: string; status: string; current_step: string }[]>`
      select kind, status, current_step from medchr.jobs where id = ${body.jobId}`;
    expect(job).toEqual({ kind: "report.draft", status: "queued", current_step: "draft_report" });

    const again = await call("/chr/draft", {
      method: "POST",
      headers: writeKey.headers,
      body: { patient_id: patientId },
    });
    expect(again.status).toBe(202);
    expect(await json(again)).toEqual({ ...body, created: false });
    const got = await json(await call(`/api/v1/reports/${body.reportId}`, { headers: clinician.headers }));
    expect(got.report).toMatchObject({ status: "drafting", draft: null, content: null, jobId: body.jobId });
  });

  it("409 record_empty for a patient with no processed document; 404 for another clinic's patient", async () => {
    const empty = await createPatient(tenantA);
    const res = await call(`/api/v1/patients/${empty}/reports`, {
      method: "POST",
      headers: clinician.headers,
      body: {},
    });
    expect(res.status).toBe(409);
    expect((await json(res)).error).toMatchObject({ code: "conflict", details: { reason: "record_empty" } });
    const foreign = await createPatient(tenantB);
    await seedProcessedDocument(database.owner, tenantB, foreign, [{ text: "Warfarin 5 mg daily" }]);
    const other = await call("/chr/draft", {
      method: "POST",
      headers: writeKey.headers,
      body: { patient_id: foreign },
    });
    expect(other.status).toBe(404);
    const [count] = await database.owner<{ n: number }[]>`
      select count(*)::int as n from medchr.reports where patient_id in (${empty}, ${foreign})`;
    expect(count!.n).toBe(0);
  });

  it("refuses an auditor and a read-only key (403), and a malformed alias body (400)", async () => {
    const patientId = await createPatient(tenantA);
    for (const headers of [auditor.headers, readKey.headers]) {
      const res = await call(`/api/v1/patients/${patientId}/reports`, { method: "POST", headers, body: {} });
      expect(res.status).toBe(403);
    }
    const bad = await call("/chr/draft", {
      method: "POST",
      headers: writeKey.headers,
      body: { patient_id: "nope" },
    });
    expect(bad.status).toBe(400);
    expect((await json(bad)).error.code).toBe("validation_failed");
  });
});

describe("review, finalize, amend", () => {
  let patientId: string;
  let reportId: string;
  beforeAll(async () => {
    patientId = await createPatient(tenantA);
    reportId = (await seedReport(database.owner, tenantA, patientId)).reportId;
  });

  it("reads the report with its draft, content, citations and their source text", async () => {
    const res = await call(`/api/v1/reports/${reportId}`, { headers: readKey.headers });
    expect(res.status).toBe(200);
    const { report } = await json(res);
    expect(report).toMatchObject({ status: "draft", revision: 1, unsupportedCount: 0, signature: null });
    const citation = report.content.summary[0].citations[0];
    expect(report.sources[citation.chunkId].text).toContain(citation.quote);
    const list = await json(
      await call(`/api/v1/patients/${patientId}/reports`, { headers: readKey.headers }),
    );
    expect(list.reports.map((r: Body) => r.id)).toEqual([reportId]);
    expect(list.reports[0].content).toBeUndefined();
  });

  it("edits with optimistic concurrency: a stale revision is 409 with the current one; a bad section is 400", async () => {
    const value = [{ text: "Clinician summary, reviewed.", support: "verified", citations: [] }];
    const saved = await call(`/api/v1/reports/${reportId}`, {
      method: "PATCH",
      headers: clinician.headers,
      body: { revision: 1, section: "summary", value },
    });
    expect(saved.status).toBe(200);
    expect((await json(saved)).report.revision).toBe(2);
    const stale = await call(`/api/v1/reports/${reportId}`, {
      method: "PATCH",
      headers: writeKey.headers,
      body: { revision: 1, section: "summary", value: [] },
    });
    expect(stale.status).toBe(409);
    expect((await json(stale)).error.details).toEqual({ reason: "stale_revision", currentRevision: 2 });
    const bad = await call(`/api/v1/reports/${reportId}`, {
      method: "PATCH",
      headers: clinician.headers,
      body: { revision: 2, section: "labs", value: [{ name: "Glucose" }] },
    });
    expect(bad.status).toBe(400);
    expect((await json(bad)).error.details.fields[0].field).toMatch(/^value\.0\./);
    const unknownSection = await call(`/api/v1/reports/${reportId}`, {
      method: "PATCH",
      headers: clinician.headers,
      body: { revision: 2, section: "secret_notes", value: [] },
    });
    expect(unknownSection.status).toBe(400);
    const { report } = await json(await call(`/api/v1/reports/${reportId}`, { headers: clinician.headers }));
    expect(report.content.summary).toEqual([{ ...value[0], support: "clinician" }]);
    expect(report.draft.summary[0].text).toBe("Medications on record: Metformin 500 mg PO twice daily.");
    const history = await json(
      await call(`/api/v1/reports/${reportId}/history`, { headers: clinician.headers }),
    );
    expect(history.edits).toHaveLength(1);
    expect(history.edits[0]).toMatchObject({
      revision: 2,
      section: "summary",
      editedBy: clinicianUser.id,
      editedByName: CLINICIAN_NAME,
    });
  });

  it("in HIPAA mode finalize needs a fresh MFA verification (401 step_up_required), then signs", async () => {
    const stale = await signIn(database.db, clinicianUser, {
      mfaVerifiedAt: new Date(Date.now() - 20 * MINUTE),
    });
    const refused = await call(
      `/api/v1/reports/${reportId}/finalize`,
      { method: "POST", headers: stale.headers, body: { revision: 2 } },
      strictEnv,
    );
    expect(refused.status).toBe(401);
    expect((await json(refused)).error.code).toBe("step_up_required");
    const fresh = await signIn(database.db, clinicianUser, { mfaVerifiedAt: new Date(Date.now() - MINUTE) });
    const done = await call(
      `/api/v1/reports/${reportId}/finalize`,
      { method: "POST", headers: fresh.headers, body: { revision: 2 } },
      strictEnv,
    );
    expect(done.status).toBe(200);
    expect((await json(done)).report).toMatchObject({ status: "finalized", revision: 3 });

    const { report } = await json(await call(`/api/v1/reports/${reportId}`, { headers: clinician.headers }));
    const keys = await json(await call("/api/v1/report-signing-keys", { headers: readKey.headers }));
    const key = keys.keys.find((k: Body) => k.kid === report.signature.kid);
    expect(
      await verifyReportSignature(key.x, report.signature.signature, {
        reportId,
        contentHash: report.signature.contentHash,
        signedBy: report.signature.signedBy,
        signedAt: report.signature.signedAt,
      }),
    ).toBe(true);

    const after = await call(`/api/v1/reports/${reportId}`, {
      method: "PATCH",
      headers: clinician.headers,
      body: { revision: 3, section: "summary", value: [] },
    });
    expect(after.status).toBe(409);
    expect((await json(after)).error.details.reason).toBe("finalized");
    const twice = await call(`/api/v1/reports/${reportId}/finalize`, {
      method: "POST",
      headers: clinician.headers,
      body: { revision: 3 },
    });
    expect((await json(twice)).error.details.reason).toBe("finalized");
    expect(report.signature.signedByName).toBe(CLINICIAN_NAME);
  });

  it("exports the finalized report as a PDF in the bundled fonts, signed by name; 503 where the runtime has none", async () => {
    const res = await call(`/api/v1/reports/${reportId}/pdf`, { headers: clinician.headers });
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toBe("application/pdf");
    expect(res.headers.get("Content-Disposition")).toBe(
      `attachment; filename="client-health-report-${reportId}.pdf"`,
    );
    const bytes = new Uint8Array(await res.arrayBuffer());
    const { extractText, getDocumentProxy } = await import("unpdf");
    // A copy: pdf.js takes ownership of (detaches) the buffer it is given.
    const { text } = await extractText(await getDocumentProxy(bytes.slice()), { mergePages: true });
    expect(text.normalize("NFC")).toContain(`signed by ${CLINICIAN_NAME}`);
    const fonts = await pdfFontsOf(bytes);
    expect(fonts.length).toBeGreaterThanOrEqual(2);
    expect(fonts.every((f) => f.embedded && f.baseFont.includes("DejaVuSans"))).toBe(true);

    const before = await database.owner<{ n: number }[]>`
      select count(*)::int as n from medchr.audit_events where action = 'report.export'`;
    const missing = await appWithoutFonts.request(
      `/api/v1/reports/${reportId}/pdf`,
      { headers: { "CF-Connecting-IP": "198.51.100.20", ...clinician.headers } },
      env,
    );
    expect(missing.status).toBe(503);
    expect((await json(missing)).error.code).toBe("misconfigured");
    const after = await database.owner<{ n: number }[]>`
      select count(*)::int as n from medchr.audit_events where action = 'report.export'`;
    expect(after[0]!.n).toBe(before[0]!.n);
  });

  it("amends a finalized report as a new draft version (201), once", async () => {
    const res = await call(`/api/v1/reports/${reportId}/amend`, {
      method: "POST",
      headers: clinician.headers,
      body: {},
    });
    expect(res.status).toBe(201);
    const { report } = await json(res);
    expect(report).toMatchObject({
      status: "draft",
      reportVersion: 2,
      amendsReportId: reportId,
      revision: 1,
    });
    const again = await call(`/api/v1/reports/${reportId}/amend`, {
      method: "POST",
      headers: clinician.headers,
      body: {},
    });
    expect(again.status).toBe(409);
  });

  it("an auditor cannot read reports; a read key cannot edit or finalize", async () => {
    expect((await call(`/api/v1/reports/${reportId}`, { headers: auditor.headers })).status).toBe(403);
    const edit = await call(`/api/v1/reports/${reportId}`, {
      method: "PATCH",
      headers: readKey.headers,
      body: { revision: 1, section: "summary", value: [] },
    });
    expect(edit.status).toBe(403);
    const fin = await call(`/api/v1/reports/${reportId}/finalize`, {
      method: "POST",
      headers: readKey.headers,
      body: { revision: 1 },
    });
    expect(fin.status).toBe(403);
  });
});

describe("lab trends", () => {
  it("answers the patient's dated series with direction, and 404 for another clinic's patient", async () => {
    const patientId = await createPatient(tenantA);
    const res = await call(`/api/v1/patients/${patientId}/labs/trends`, { headers: readKey.headers });
    expect(res.status).toBe(200);
    expect((await json(res)).trends).toEqual([]);
    const foreign = await createPatient(tenantB);
    expect((await call(`/api/v1/patients/${foreign}/labs/trends`, { headers: readKey.headers })).status).toBe(
      404,
    );
  });
});

describe("share links", () => {
  let patientId: string;
  let reportId: string;
  beforeAll(async () => {
    patientId = await createPatient(tenantA);
    reportId = (await seedReport(database.owner, tenantA, patientId, { status: "finalized" })).reportId;
  });
  const fresh = () => signIn(database.db, clinicianUser, { mfaVerifiedAt: new Date(Date.now() - MINUTE) });

  it("makes a link from PUBLIC_ORIGIN (never from Host), shown once; the page is plain, noindex, uncached, audited", async () => {
    const session = await fresh();
    const res = await call(
      `/api/v1/reports/${reportId}/share`,
      {
        method: "POST",
        headers: { ...session.headers, Host: "evil.example", "X-Forwarded-Host": "evil.example" },
        body: { expiresInDays: 3 },
      },
      strictEnv,
    );
    expect(res.status).toBe(201);
    const body = await json(res);
    expect(body.url).toMatch(/^https:\/\/medchr\.example\.org\/share\/shr_[A-Za-z0-9_-]{43}$/);
    expect(JSON.stringify(body)).not.toContain("evil.example");
    const days = (Date.parse(body.share.expiresAt) - Date.parse(body.share.createdAt)) / 86_400_000;
    expect(days).toBeCloseTo(3, 3);
    const [stored] = await database.owner<{ token_hash: string }[]>`
      select token_hash from medchr.report_shares where id = ${body.share.id}`;
    expect(body.url).not.toContain(stored!.token_hash);

    const page = await call(new URL(body.url).pathname, { headers: {} });
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/^text\/html/);
    expect(page.headers.get("cache-control")).toBe("no-store");
    expect(page.headers.get("x-robots-tag")).toBe("noindex, nofollow");
    expect(page.headers.get("referrer-policy")).toBe("no-referrer");
    expect(page.headers.get("content-security-policy")).toMatch(
      /^default-src 'none'; style-src 'sha256-[A-Za-z0-9+/=]+'/,
    );
    const html = await page.text();
    expect(html).toContain('<meta name="robots" content="noindex, nofollow">');
    expect(html).toContain("Medications on record: Metformin 500 mg PO twice daily.");
    expect(html).not.toMatch(/<script/i);
    const [viewed] = await database.owner<{ actor_type: string; details: Record<string, unknown> }[]>`
      select actor_type, details from medchr.audit_events where action = 'report.share_viewed' and resource_id = ${reportId}`;
    expect(viewed).toMatchObject({ actor_type: "anonymous", details: { shareId: body.share.id, patientId } });
    const [counted] = await database.owner<{ view_count: number; last_viewed_at: Date | null }[]>`
      select view_count, last_viewed_at from medchr.report_shares where id = ${body.share.id}`;
    expect(counted).toMatchObject({ view_count: 1, last_viewed_at: expect.any(Date) });
  });

  it("revoked, expired, unknown or malformed links are the same 404 page; a draft cannot be shared", async () => {
    const session = await fresh();
    const made = await json(
      await call(
        `/api/v1/reports/${reportId}/share`,
        { method: "POST", headers: session.headers, body: {} },
        strictEnv,
      ),
    );
    const path = new URL(made.url).pathname;
    expect((await call(path)).status).toBe(200);
    const revoked = await call(
      `/api/v1/reports/${reportId}/shares/${made.share.id}/revoke`,
      { method: "POST", headers: session.headers, body: {} },
      strictEnv,
    );
    expect(revoked.status).toBe(200);
    expect((await json(revoked)).share.revokedAt).toEqual(expect.any(String));
    const gone = await call(path);
    expect(gone.status).toBe(404);
    const notFoundPage = await gone.text();
    expect(notFoundPage).toContain("This link is not valid");

    await database.owner`update medchr.report_shares set revoked_at = null, created_at = now() - interval '2 days',
      expires_at = now() - interval '1 day' where id = ${made.share.id}`;
    const expired = await call(path);
    expect(expired.status).toBe(404);
    expect(await expired.text()).toBe(notFoundPage);
    expect((await call(`/share/shr_${"A".repeat(43)}`)).status).toBe(404);
    expect((await call("/share/not-a-token")).status).toBe(404);

    const draft = (await seedReport(database.owner, tenantA, patientId)).reportId;
    const refused = await call(
      `/api/v1/reports/${draft}/share`,
      { method: "POST", headers: session.headers, body: {} },
      strictEnv,
    );
    expect(refused.status).toBe(409);
    expect((await json(refused)).error.details.reason).toBe("not_finalized");
    const tooLong = await call(
      `/api/v1/reports/${reportId}/share`,
      { method: "POST", headers: session.headers, body: { expiresInDays: 31 } },
      strictEnv,
    );
    expect(tooLong.status).toBe(400);
    const list = await json(await call(`/api/v1/reports/${reportId}/shares`, { headers: clinician.headers }));
    expect(list.shares.length).toBe(2);
    expect(JSON.stringify(list)).not.toMatch(/shr_/);
  });

  it("sharing needs step-up in HIPAA mode and report.share (not a read key)", async () => {
    const stale = await signIn(database.db, clinicianUser, {
      mfaVerifiedAt: new Date(Date.now() - 20 * MINUTE),
    });
    const res = await call(
      `/api/v1/reports/${reportId}/share`,
      { method: "POST", headers: stale.headers, body: {} },
      strictEnv,
    );
    expect(res.status).toBe(401);
    expect((await json(res)).error.code).toBe("step_up_required");
    expect(
      (
        await call(`/api/v1/reports/${reportId}/share`, {
          method: "POST",
          headers: readKey.headers,
          body: {},
        })
      ).status,
    ).toBe(403);
  });
});
