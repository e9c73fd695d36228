/**
 * Audit coverage guard (issue 13, scope 2; HIPAA 164.312(b)): every route of the api and auth
 * functions is found through its OpenAPI registration, must declare what it audits
 * (x-medchr-audit, required by the route builders so an undeclared route does not compile),
 * and every route that declares events is called and checked by checkRouteAudit
 * (test/security/audit-coverage.ts): the declared event is written with PHI-free details, in
 * the same transaction as the work. Routes with a clinical permission may not declare `none`.
 * The last block plants routes that do not audit, or audit outside the work's transaction, and
 * proves the guard fails on them.
 */
import { z } from "@hono/zod-openapi";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type DocumentsHarness,
  SAMPLES,
  startDocumentsHarness,
  supabaseClientFor,
} from "../../functions/api/routes/documents/testing";
import { appendAuditEvent } from "../../shared/audit/append-audit-event";
import { ROLE_PERMISSIONS } from "../../shared/auth/permissions";
import { auditActorOf } from "../../shared/auth/principal";
import { createFunctionApp } from "../../shared/http/create-app";
import { protectedRoute } from "../../shared/http/define-route";
import { seedReport, seedShare } from "../../shared/reports/testing";
import { seedProcessedDocument } from "../../shared/retrieval/testing";
import { createApiKey, createUser, signIn, type TestUser, testKeyRing } from "../helpers/identity";
import {
  type AuditScenario,
  auditDeclarationOf,
  checkRouteAudit,
  installAuditRefusal,
} from "./audit-coverage";
import { SAMPLE_BODIES } from "./route-cases";
import { allRoutes, buildInventoryApps, pathWith, type RouteUnderTest } from "./route-inventory";

const apps = buildInventoryApps();
const ROUTES = allRoutes(apps);
const CLINICAL = new Set([...ROLE_PERMISSIONS.clinician]);

/**
 * Routes that declare events but are not called here, each with the reason and the test that
 * covers their audit trail instead. Only non-clinical routes may be listed (checked below).
 */
const CALLED_ELSEWHERE: Record<string, string> = {
  "POST /auth/mfa/setup/confirm": "needs a TOTP code from an enrolment: functions/auth/mfa.db.test.ts",
  "POST /auth/mfa/verify": "needs a TOTP code of an enrolled factor: functions/auth/mfa.db.test.ts",
  "POST /auth/mfa/step-up": "needs a TOTP code of an enrolled factor: functions/auth/mfa.db.test.ts",
  "POST /auth/mfa/recovery-codes": "needs a TOTP code of an enrolled factor: functions/auth/mfa.db.test.ts",
  "GET /auth/sso/callback":
    "needs the OIDC provider's redirect: test/e2e SSO tests and functions/auth sso tests",
};

/**
 * Direct uploads record an upload intent before the object is stored, in a transaction of its
 * own, so a failure after that point leaves an intent the expired-intent sweeper removes with
 * its object (shared/documents/sweep-expired-upload-intents.ts), never an orphaned object.
 */
const TRACKING_TABLES: Record<string, readonly string[]> = {
  "POST /api/v1/patients/{patientId}/documents": ["medchr.upload_intents"],
  "POST /patients/{patient_id}/documents": ["medchr.upload_intents"],
};

let h: DocumentsHarness;
let admin: TestUser;
let adminKey: Record<string, string>;
let ip = 0;
const nextIp = () => `10.88.${(++ip >> 8) & 255}.${ip & 255}`;
let seq = 0;
const unique = () => `${process.pid}${++seq}${Math.floor(Math.random() * 1e6)}`;

/** A patient whose identifying strings are distinctive, so a leak into audit details shows. */
async function phiPatient(): Promise<{ id: string; phi: string[] }> {
  const given = `Auditgiven${unique()}`;
  const family = `Auditfamily${unique()}`;
  const mrn = `AG-${unique()}`;
  const [row] = await h.database.owner<{ id: string }[]>`
    insert into medchr.patients (tenant_id, given_name, family_name, mrn, date_of_birth)
    values (${h.tenantA}, ${given}, ${family}, ${mrn}, '1961-07-23') returning id`;
  return { id: row!.id, phi: [given, family, mrn, "1961-07-23"] };
}

async function phiDocument(patientId: string): Promise<{ id: string; phi: string[] }> {
  const filename = `auditfile-${unique()}.pdf`;
  const [row] = await h.database.owner<{ id: string }[]>`
    insert into medchr.documents (tenant_id, patient_id, storage_path, original_filename, media_type,
      size_bytes, sha256, scan_result, status, created_by)
    values (${h.tenantA}, ${patientId}, ${`${h.tenantA}/${patientId}/${unique().padEnd(32, "0").slice(0, 32)}`},
      ${filename}, 'application/pdf', 1024, ${"c".repeat(64)}, 'not_scanned', 'uploaded', 'audit-suite')
    returning id`;
  return { id: row!.id, phi: [filename] };
}

async function job(patientId: string, documentId: string): Promise<string> {
  const [row] = await h.database.owner<{ id: string }[]>`
    insert into medchr.jobs (tenant_id, kind, patient_id, document_id, created_by)
    values (${h.tenantA}, 'document.process', ${patientId}, ${documentId}, 'audit-suite') returning id`;
  return row!.id;
}

async function presignAndPut(patientId: string): Promise<string> {
  const bytes = SAMPLES.pdf(10);
  const res = await apps.api.request(
    `/api/v1/patients/${patientId}/documents/presign-upload`,
    {
      method: "POST",
      headers: { ...adminKey, "CF-Connecting-IP": nextIp(), "Content-Type": "application/json" },
      body: JSON.stringify({ filename: "upload.pdf", contentType: "application/pdf", size: bytes.length }),
    },
    h.env,
  );
  const presigned = (await res.json()) as { uploadId: string; path: string; token: string };
  const put = await supabaseClientFor(h.standin)
    .storage.from(h.standin.bucket)
    .uploadToSignedUrl(presigned.path, presigned.token, bytes, { contentType: "application/pdf" });
  expect(put.error).toBeNull();
  return presigned.uploadId;
}

let policyWindow = 15;

async function registeredDocument(patientId: string): Promise<string> {
  const uploadId = await presignAndPut(patientId);
  const res = await apps.api.request(
    `/api/v1/patients/${patientId}/documents/register-upload`,
    {
      method: "POST",
      headers: { ...adminKey, "CF-Connecting-IP": nextIp(), "Content-Type": "application/json" },
      body: JSON.stringify({ uploadId }),
    },
    h.env,
  );
  expect(res.status).toBe(201);
  return ((await res.json()) as { document: { id: string } }).document.id;
}

/** Fresh fixtures and a request for one route; clinical routes get a PHI-bearing patient. */
async function prepare(route: RouteUnderTest): Promise<AuditScenario> {
  const patient = await phiPatient();
  const document = await phiDocument(patient.id);
  const ids: Record<string, string> = {
    patientId: patient.id,
    patient_id: patient.id,
    documentId: document.id,
    document_id: document.id,
    jobId: await job(patient.id, document.id),
    job_id: "",
    userId: (await createUser(h.database.owner, h.tenantA, { role: "clinician" })).id,
    apiKeyId: (await createApiKey(h.database.owner, h.tenantA, { scopes: ["read"] })).id,
  };
  ids.job_id = ids.jobId!;
  ids.reportId = (await seedReport(h.database.owner, h.tenantA, patient.id)).reportId;
  const caller = await signIn(h.database.db, admin);
  ids.sessionId = (await signIn(h.database.db, admin)).sessionId;
  const headers =
    route.auth === "session"
      ? { ...caller.headers, "CF-Connecting-IP": nextIp() }
      : { ...adminKey, "CF-Connecting-IP": nextIp() };
  const phi = [...patient.phi, ...document.phi];
  let body = SAMPLE_BODIES[route.key];

  switch (route.key) {
    case "POST /auth/login": {
      const user = await createUser(h.database.owner, h.tenantA, { role: "clinician" });
      body = { email: user.email, password: user.password };
      phi.push(user.email);
      return { path: route.path, headers: { "CF-Connecting-IP": nextIp() }, body, phi };
    }
    case "POST /auth/password/change": {
      const user = await createUser(h.database.owner, h.tenantA, { role: "clinician" });
      const session = await signIn(h.database.db, user);
      body = { currentPassword: user.password, newPassword: `a new long passphrase ${unique()}` };
      return { path: route.path, headers: { ...session.headers, "CF-Connecting-IP": nextIp() }, body, phi };
    }
    case "POST /api/v1/admin/users": {
      const email = `audit.user.${unique()}@clinic.example.org`;
      body = { email, displayName: "Audited Newuser", role: "clinician" };
      phi.push(email);
      break;
    }
    case "PATCH /api/v1/admin/users/{userId}":
      body = { role: "auditor" };
      break;
    case "POST /api/v1/patients":
    case "POST /patients": {
      const given = `Newgiven${unique()}`;
      body = { givenName: given, familyName: "Newfamily", dateOfBirth: "1955-02-11", sex: "female" };
      phi.push(given, "1955-02-11");
      break;
    }
    case "PATCH /api/v1/patients/{patientId}":
    case "PATCH /patients/{patient_id}": {
      const note = `auditnote-${unique()}`;
      body = { notes: note };
      phi.push(note);
      break;
    }
    case "POST /api/v1/patients/{patientId}/documents/register-upload":
      body = { uploadId: await presignAndPut(patient.id) };
      break;
    case "POST /api/v1/patients/{patientId}/documents":
    case "POST /patients/{patient_id}/documents": {
      const filename = `direct-${unique()}.pdf`;
      const form = new FormData();
      form.append("file", new File([SAMPLES.pdf(10)], filename, { type: "application/pdf" }));
      body = form;
      phi.push(filename);
      break;
    }
    case "POST /api/v1/documents/{documentId}/process": {
      // A document with no job yet: one with a queued job is answered with that job (no new event).
      const fresh = await phiDocument(patient.id);
      phi.push(...fresh.phi);
      return { path: pathWith(route, { ...ids, documentId: fresh.id }), headers, body: {}, phi };
    }
    case "GET /api/v1/documents/{documentId}/download-url": {
      // A document whose object is really stored: signing needs it.
      const stored = await registeredDocument(patient.id);
      return { path: pathWith(route, { ...ids, documentId: stored }), headers, phi };
    }
    case "GET /api/v1/documents/{documentId}/pages/{page}": {
      // A processed document: only those have pages.
      const text = `Assessment: auditpage-${unique()} reviewed.`;
      const processed = await seedProcessedDocument(h.database.owner, h.tenantA, patient.id, [], [text]);
      phi.push(text);
      return { path: pathWith(route, { ...ids, documentId: processed.documentId }), headers, phi };
    }
    case "POST /api/v1/reports/{reportId}/amend": {
      // Only a finalized report can be amended.
      const finalized = await seedReport(h.database.owner, h.tenantA, patient.id, { status: "finalized" });
      return { path: pathWith(route, { ...ids, reportId: finalized.reportId }), headers, body: {}, phi };
    }
    case "GET /api/v1/reports/{reportId}/pdf":
    case "POST /api/v1/reports/{reportId}/share": {
      const finalized = await seedReport(h.database.owner, h.tenantA, patient.id, { status: "finalized" });
      return { path: pathWith(route, { ...ids, reportId: finalized.reportId }), headers, body, phi };
    }
    case "POST /api/v1/reports/{reportId}/shares/{shareId}/revoke":
    case "GET /share/{token}": {
      const finalized = await seedReport(h.database.owner, h.tenantA, patient.id, { status: "finalized" });
      const share = await seedShare(
        h.database.owner,
        h.tenantA,
        finalized.reportId,
        testKeyRing("SHARE_LINK_KEYS"),
      );
      const path = pathWith(route, {
        ...ids,
        reportId: finalized.reportId,
        shareId: share.shareId,
        token: share.token,
      });
      const anonymous = { "CF-Connecting-IP": nextIp() };
      return route.key.startsWith("GET /share")
        ? { path, headers: anonymous, phi }
        : { path, headers, body: {}, phi };
    }
    case "POST /chr/draft":
      body = { patient_id: patient.id };
      break;
    case "PUT /api/v1/admin/policy":
      // A value different from the current one each time: an unchanged policy writes no event.
      policyWindow = policyWindow === 10 ? 20 : 10;
      body = { stepUpWindowMinutes: policyWindow };
      break;
    case "PUT /api/v1/admin/ai-policy": {
      // From the stored version, with redaction flipped: an unchanged policy writes no event.
      const [row] = await h.database.owner<{ version: number; redaction_required: boolean }[]>`
        select version, redaction_required from medchr.tenant_ai_policies where tenant_id = ${h.tenantA}`;
      body = {
        mode: "on_box",
        allowedProcessors: [],
        redactionRequired: row ? !row.redaction_required : false,
        version: row?.version ?? 1,
      };
      break;
    }
  }
  return { path: pathWith(route, ids), headers, body, phi };
}

beforeAll(async () => {
  h = await startDocumentsHarness();
  await installAuditRefusal(h.database.owner);
  admin = await createUser(h.database.owner, h.tenantA, { role: "admin" });
  adminKey = (await createApiKey(h.database.owner, h.tenantA, { scopes: ["read", "write", "admin"] }))
    .headers;
});

afterAll(async () => {
  await h?.stop();
});

describe("every route declares what it audits", () => {
  it.each(ROUTES.map((r) => [r.key, r] as const))("%s", (_key, route) => {
    const declaration = auditDeclarationOf(route.definition);
    expect(declaration, `${route.key}: add audit: { actions } or { none } to its route`).toBeDefined();
    const hasActions = (declaration?.actions?.length ?? 0) > 0;
    expect(hasActions || typeof declaration?.none === "string", route.key).toBe(true);
    if (route.permission && CLINICAL.has(route.permission))
      expect(hasActions, `${route.key} has a clinical permission and must audit`).toBe(true);
  });

  it("lists only non-clinical routes as covered elsewhere, and only routes that exist", () => {
    for (const key of Object.keys(CALLED_ELSEWHERE)) {
      const route = ROUTES.find((r) => r.key === key);
      expect(route, key).toBeDefined();
      expect(route?.permission && CLINICAL.has(route.permission), key).toBeFalsy();
    }
  });
});

const AUDITED = ROUTES.filter(
  (r) => (auditDeclarationOf(r.definition)?.actions?.length ?? 0) > 0 && !(r.key in CALLED_ELSEWHERE),
);

describe("every auditing route writes its event, PHI-free, in the work's transaction", () => {
  it("covers every clinical route", () => {
    const clinical = ROUTES.filter((r) => r.permission && CLINICAL.has(r.permission));
    expect(clinical.length).toBeGreaterThan(15);
    for (const route of clinical) expect(AUDITED.map((r) => r.key)).toContain(route.key);
  });

  it.each(AUDITED.map((r) => [r.key, r] as const))("%s", async (_key, route) => {
    const problems = await checkRouteAudit(
      h.database.owner,
      {
        key: route.key,
        method: route.method,
        actions: auditDeclarationOf(route.definition)!.actions!,
        request: (path, init) => apps[route.fn].request(path, init, h.env),
        trackingTables: TRACKING_TABLES[route.key] ?? [],
      },
      () => prepare(route),
    );
    expect(problems, route.key).toEqual([]);
  });
});

describe("the guard fails on routes that do not audit properly (planted)", () => {
  const PatientParams = z.object({ patientId: z.uuid() });
  const ok = {
    200: { description: "ok", content: { "application/json": { schema: z.object({}).passthrough() } } },
  };

  function plantedApp() {
    const app = createFunctionApp("api", { usesDatabase: true });
    // Declares patient.read but writes nothing.
    app.openapi(
      protectedRoute({
        method: "get",
        path: "/planted/silent/{patientId}",
        permission: "patient.read",
        audit: { actions: ["patient.read"] },
        request: { params: PatientParams },
        responses: ok,
      }),
      async (c) => {
        const principal = c.get("principal");
        const rows = await c.var.db.withTenant(
          { tenantId: principal.tenantId, requestId: c.var.requestId },
          (tx) =>
            tx`select given_name, family_name from medchr.patients where id = ${c.req.valid("param").patientId}`,
        );
        return c.json({ patient: rows[0] ?? null }, 200);
      },
    );
    // Audits, but in a transaction of its own after the read: the PHI is out even if the audit fails.
    app.openapi(
      protectedRoute({
        method: "get",
        path: "/planted/after/{patientId}",
        permission: "patient.read",
        audit: { actions: ["patient.read"] },
        request: { params: PatientParams },
        responses: ok,
      }),
      async (c) => {
        const principal = c.get("principal");
        const patientId = c.req.valid("param").patientId;
        const scope = { tenantId: principal.tenantId, requestId: c.var.requestId };
        const rows = await c.var.db.withTenant(
          scope,
          (tx) => tx`select given_name, family_name from medchr.patients where id = ${patientId}`,
        );
        const response = c.json({ patient: rows[0] ?? null }, 200);
        try {
          await c.var.db.withTenant(scope, (tx) =>
            appendAuditEvent(tx, testKeyRing("AUDIT_KEYS"), {
              action: "patient.read",
              outcome: "SUCCESS",
              actor: auditActorOf(principal),
              resource: { type: "patient", id: patientId },
              requestId: c.var.requestId,
            }),
          );
        } catch {
          // A fire-and-forget audit: exactly the mistake the guard exists to catch.
        }
        return response;
      },
    );
    return app;
  }

  it.each(["silent", "after"])("planted route %s is caught", async (kind) => {
    const app = plantedApp();
    const problems = await checkRouteAudit(
      h.database.owner,
      {
        key: `GET /planted/${kind}/{patientId}`,
        method: "GET",
        actions: ["patient.read"],
        request: (path, init) => app.request(path, init, h.env),
      },
      async () => {
        const patient = await phiPatient();
        return {
          path: `/planted/${kind}/${patient.id}`,
          headers: { ...adminKey, "CF-Connecting-IP": nextIp() },
          phi: patient.phi,
        };
      },
    );
    expect(problems.length, problems.join("; ")).toBeGreaterThan(0);
    if (kind === "silent") expect(problems.join("; ")).toMatch(/wrote none of its declared events/);
    else expect(problems.join("; ")).toMatch(/disclosed .* although its audit event could not be written/);
  });
});
