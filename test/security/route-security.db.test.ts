/**
 * The shared security suite (issue 3 acceptance; security-baseline "How to prove it"):
 * every route registered in the api and auth functions is found through its OpenAPI
 * definition and checked for: no credentials -> 401; wrong content type -> 415; cookie
 * call without the anti-forgery token -> 403; missing permission (role) or scope (API
 * key) -> 403; another tenant's ids -> 404 with no data and nothing changed. Routes added
 * by later issues get these checks by being registered; what the suite cannot infer
 * (public allowlist, sample bodies, fixtures per path parameter) is in route-cases.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  API_KEY_SCOPES,
  type ApiKeyScope,
  ROLE_PERMISSIONS,
  ROLES,
  SCOPE_PERMISSIONS,
} from "../../shared/auth/permissions";
import type { SessionStage } from "../../shared/auth/principal";
import { seedReport, seedShare } from "../../shared/reports/testing";
import { createApiKey, createUser, signIn, type TestSession, testKeyRing } from "../helpers/identity";
import { createTenant, startTestDatabase, type TestDatabase } from "../helpers/test-database";
import { testEnv } from "../helpers/test-env";
import { type FixtureKind, PARAM_FIXTURES, PUBLIC_ROUTES, rowParams, SAMPLE_BODIES } from "./route-cases";
import { allRoutes, buildInventoryApps, pathWith, type RouteUnderTest } from "./route-inventory";

const apps = buildInventoryApps();

const ROUTES = allRoutes(apps);
const PROTECTED = ROUTES.filter((r) => r.auth !== "public");
const UNSAFE = new Set(["POST", "PUT", "PATCH", "DELETE"]);

let database: TestDatabase;
let env: Record<string, unknown>;
let tenantA: string;
let tenantB: string;
const sessions = new Map<string, TestSession>();
const foreign: Partial<Record<FixtureKind, string>> = {};
let adminKeyHeaders: Record<string, string>;
let ip = 0;
const nextIp = () => `10.${(++ip >> 16) & 255}.${(ip >> 8) & 255}.${ip & 255}`;

async function sessionFor(
  role: (typeof ROLES)[number],
  stage: SessionStage = "active",
): Promise<TestSession> {
  const key = `${role}:${stage}`;
  let session = sessions.get(key);
  if (!session) {
    const user = await createUser(database.owner, tenantA, { role });
    session = await signIn(database.db, user, {
      stage,
      mfaVerifiedAt: stage === "active" ? new Date() : null,
    });
    sessions.set(key, session);
  }
  return session;
}

function call(
  route: RouteUnderTest,
  init: { path?: string; headers?: Record<string, string>; body?: unknown },
) {
  const headers: Record<string, string> = { "CF-Connecting-IP": nextIp(), ...init.headers };
  let body: BodyInit | undefined;
  if (init.body instanceof FormData) {
    // Multipart samples go as they are: fetch sets the boundary in Content-Type.
    delete headers["Content-Type"];
    body = init.body;
  } else {
    body =
      init.body === undefined
        ? undefined
        : typeof init.body === "string"
          ? init.body
          : JSON.stringify(init.body);
  }
  return apps[route.fn].request(
    init.path ?? pathWith(route, {}),
    { method: route.method, headers, body },
    env,
  );
}

function bodyFor(route: RouteUnderTest): unknown {
  if (!route.hasBody) return undefined;
  if (!(route.key in SAMPLE_BODIES))
    throw new Error(`add a sample body for "${route.key}" to test/security/route-cases.ts`);
  return SAMPLE_BODIES[route.key];
}

async function expectError(res: Response, status: number, code?: string) {
  expect(res.status).toBe(status);
  const json = (await res.json()) as { error: { code: string; message: string; requestId: string } };
  expect(json.error.requestId).toBeTruthy();
  expect(json.error.message).toBeTruthy();
  if (code) expect(json.error.code).toBe(code);
  return json;
}

beforeAll(async () => {
  database = await startTestDatabase();
  env = testEnv(database.url);
  tenantA = await createTenant(database.owner, "suite-a");
  tenantB = await createTenant(database.owner, "suite-b");
  const userB = await createUser(database.owner, tenantB, { role: "clinician" });
  foreign.user = userB.id;
  foreign.session = (await signIn(database.db, userB)).sessionId;
  foreign.apiKey = (await createApiKey(database.owner, tenantB, { scopes: ["read"] })).id;
  const [patientB] = await database.owner<{ id: string }[]>`
    insert into medchr.patients (tenant_id, mrn, given_name, family_name, date_of_birth, sex, notes)
    values (${tenantB}, 'SUITE-B-1', 'Other', 'Clinic', '1970-01-01', 'unknown', 'tenant B only')
    returning id`;
  foreign.patient = patientB!.id;
  const [documentB] = await database.owner<{ id: string }[]>`
    insert into medchr.documents (tenant_id, patient_id, storage_path, original_filename, media_type,
      size_bytes, sha256, scan_result, created_by)
    values (${tenantB}, ${foreign.patient}, ${`${tenantB}/${foreign.patient}/${"0".repeat(32)}`}, 'suite-b.pdf',
      'application/pdf', 1024, ${"a".repeat(64)}, 'not_scanned', 'suite')
    returning id`;
  foreign.document = documentB!.id;
  const [jobB] = await database.owner<{ id: string }[]>`
    insert into medchr.jobs (tenant_id, kind, patient_id, document_id, created_by)
    values (${tenantB}, 'document.process', ${foreign.patient}, ${foreign.document}, 'suite')
    returning id`;
  foreign.job = jobB!.id;
  foreign.report = (await seedReport(database.owner, tenantB, foreign.patient)).reportId;
  const finalizedB = await seedReport(database.owner, tenantB, foreign.patient, { status: "finalized" });
  foreign.share = (
    await seedShare(database.owner, tenantB, finalizedB.reportId, testKeyRing("SHARE_LINK_KEYS"))
  ).shareId;
  adminKeyHeaders = (await createApiKey(database.owner, tenantA, { scopes: ["read", "write", "admin"] }))
    .headers;
});
afterAll(async () => {
  await database?.stop();
});

describe("route inventory", () => {
  it("finds the routes of both functions", () => {
    expect(ROUTES.length).toBeGreaterThan(10);
    expect(ROUTES.map((r) => r.key)).toEqual(
      expect.arrayContaining(["POST /auth/login", "GET /auth/session"]),
    );
  });

  it("every route declares how it authenticates, and public routes are exactly the allowlist", () => {
    for (const route of ROUTES)
      expect(route.auth, route.key).toMatch(/^(public|session|session_or_api_key)$/);
    const publicKeys = ROUTES.filter((r) => r.auth === "public")
      .map((r) => r.key)
      .sort();
    expect(publicKeys).toEqual([...PUBLIC_ROUTES].filter((k) => ROUTES.some((r) => r.key === k)).sort());
    for (const key of publicKeys)
      expect(PUBLIC_ROUTES.has(key), `${key} is public but not in PUBLIC_ROUTES`).toBe(true);
  });

  it("every api route names a permission, and every path parameter has a cross-tenant fixture", () => {
    for (const route of ROUTES.filter((r) => r.auth === "session_or_api_key")) {
      expect(route.permission, `${route.key} has no permission`).toBeTruthy();
    }
    for (const route of PROTECTED) {
      for (const param of rowParams(route.params)) {
        expect(PARAM_FIXTURES, `add "${param}" (${route.key}) to PARAM_FIXTURES`).toHaveProperty(param);
      }
    }
  });
});

describe.each(PROTECTED.map((r) => [r.key, r] as const))("%s", (_key, route) => {
  it("refuses a call without credentials with 401", async () => {
    await expectError(
      await call(route, { headers: { "Content-Type": "application/json" }, body: bodyFor(route) }),
      401,
      "unauthorized",
    );
  });

  it("refuses a bad or revoked credential with 401", async () => {
    const res = await call(route, {
      headers: { "Content-Type": "application/json", Cookie: `__Host-medchr_session=${"x".repeat(43)}` },
      body: bodyFor(route),
    });
    await expectError(res, 401);
    const key = await call(route, {
      headers: {
        "Content-Type": "application/json",
        Authorization: `Bearer mk_${"a".repeat(16)}_${"b".repeat(43)}`,
      },
      body: bodyFor(route),
    });
    await expectError(key, 401);
  });

  if (route.hasBody) {
    it("refuses a body that is not JSON with 415", async () => {
      const session = await sessionFor("admin", route.stages[0]);
      const res = await call(route, {
        headers: { ...session.headers, "Content-Type": "text/plain" },
        body: "not json",
      });
      await expectError(res, 415, "unsupported_media_type");
    });
  }

  if (UNSAFE.has(route.method)) {
    it("refuses a cookie call without the anti-forgery token with 403", async () => {
      const session = await sessionFor("admin", route.stages[0]);
      const { "X-CSRF-Token": _omitted, ...headers } = session.headers;
      await expectError(await call(route, { headers, body: bodyFor(route) }), 403, "csrf_failed");
    });
  }

  if (route.permission) {
    const permission = route.permission;
    const lackingRole = ROLES.find((role) => !ROLE_PERMISSIONS[role].has(permission));
    if (lackingRole) {
      it(`refuses a ${lackingRole} (no ${permission}) with 403`, async () => {
        const session = await sessionFor(lackingRole);
        await expectError(
          await call(route, { headers: session.headers, body: bodyFor(route) }),
          403,
          "forbidden",
        );
      });
    }
    const lackingScope = API_KEY_SCOPES.find((scope) => !SCOPE_PERMISSIONS[scope].has(permission));
    if (route.auth === "session_or_api_key" && lackingScope) {
      it(`refuses an API key with scope ${lackingScope} (no ${permission}) with 403`, async () => {
        const key = await createApiKey(database.owner, tenantA, { scopes: [lackingScope as ApiKeyScope] });
        await expectError(
          await call(route, { headers: key.headers, body: bodyFor(route) }),
          403,
          "forbidden",
        );
      });
    }
  }

  if (route.auth === "session") {
    it("refuses an API key on a browser-session route with 401", async () => {
      await expectError(await call(route, { headers: adminKeyHeaders, body: bodyFor(route) }), 401);
    });
  }

  if (route.params.length > 0) {
    it("answers 404 with no data for another tenant's ids, and changes nothing", async () => {
      const ids = Object.fromEntries(
        rowParams(route.params).map((p) => [p, foreign[PARAM_FIXTURES[p as keyof typeof PARAM_FIXTURES]]!]),
      );
      for (const value of Object.values(ids))
        expect(value, `no foreign fixture for ${route.key}`).toBeTruthy();
      const callers: Record<string, string>[] = [(await sessionFor("admin", route.stages[0])).headers];
      if (route.auth === "session_or_api_key") callers.push(adminKeyHeaders);
      for (const headers of callers) {
        const res = await call(route, { path: pathWith(route, ids), headers, body: bodyFor(route) });
        const text = await res.clone().text();
        await expectError(res, 404, "not_found");
        for (const value of Object.values(ids)) expect(text).not.toContain(value);
      }
    });
  }
});

describe("other tenant's fixtures after the suite", () => {
  it("are unchanged: user active, session live, key not revoked, patient intact", async () => {
    const [user] = await database.owner<
      { status: string; role: string }[]
    >`select status, role from medchr.users where id = ${foreign.user!}`;
    expect(user).toEqual({ status: "active", role: "clinician" });
    const [session] = await database.owner<
      { revoked_at: Date | null }[]
    >`select revoked_at from medchr.ui_sessions where id = ${foreign.session!}`;
    expect(session!.revoked_at).toBeNull();
    const [key] = await database.owner<
      { revoked_at: Date | null }[]
    >`select revoked_at from medchr.api_keys where id = ${foreign.apiKey!}`;
    expect(key!.revoked_at).toBeNull();
    const [patient] = await database.owner<{ mrn: string; family_name: string; notes: string }[]>`
      select mrn, family_name, notes from medchr.patients where id = ${foreign.patient!}`;
    expect(patient).toEqual({ mrn: "SUITE-B-1", family_name: "Clinic", notes: "tenant B only" });
    const [report] = await database.owner<{ status: string; revision: number }[]>`
      select status, revision from medchr.reports where id = ${foreign.report!}`;
    expect(report).toEqual({ status: "draft", revision: 1 });
    const [events] = await database.owner<{ n: number }[]>`
      select count(*)::int as n from medchr.audit_events where tenant_id = ${tenantB} and action not in ('session.create')`;
    expect(events!.n).toBe(0);
  });
});
