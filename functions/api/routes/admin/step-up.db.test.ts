import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiKey, createUser, signIn, type TestUser } from "../../../../test/helpers/identity";
import { createTenant, startTestDatabase, type TestDatabase } from "../../../../test/helpers/test-database";
import { strictApiTestEnv, testEnv } from "../../../../test/helpers/test-env";
import { auditRows, buildAdminTestApp, json, makeCaller } from "./testing";

/**
 * Step-up (security-baseline "step-up", ASVS 7.5.3) on the admin API in HIPAA mode: every
 * admin permission is a step-up permission, so a session whose last MFA verification is
 * older than the window is answered 401 step_up_required, whatever the route.
 */

let database: TestDatabase;
let strictEnv: Record<string, unknown>;
let devEnv: Record<string, unknown>;
let useStrict = true;
const app = buildAdminTestApp();
const call = makeCaller(app, () => (useStrict ? strictEnv : devEnv));

let tenant: string;
let admin: TestUser;
const MINUTE = 60_000;

beforeAll(async () => {
  database = await startTestDatabase();
  strictEnv = strictApiTestEnv(database.url);
  devEnv = testEnv(database.url);
  tenant = await createTenant(database.owner, "step-up");
  admin = await createUser(database.owner, tenant, { role: "admin" });
});
afterAll(async () => {
  await database?.stop();
});

describe("step-up on /api/v1/admin in HIPAA mode", () => {
  it("the strict config loads (otherwise every request would be 503 and prove nothing)", async () => {
    const fresh = await signIn(database.db, admin);
    const res = await call("/api/v1/admin/policy", { headers: fresh.headers });
    expect(res.status).toBe(200);
  });

  it("refuses a session verified 20 minutes ago with 401 step_up_required and audits it; a fresh one gets 201", async () => {
    const stale = await signIn(database.db, admin, { mfaVerifiedAt: new Date(Date.now() - 20 * MINUTE) });
    const body = { name: "Partner", scopes: ["read"] };
    const refused = await call("/api/v1/admin/api-keys", { method: "POST", headers: stale.headers, body });
    expect(refused.status).toBe(401);
    expect((await json(refused)).error.code).toBe("step_up_required");
    const [keys] = await database.owner<{ n: number }[]>`
      select count(*)::int as n from medchr.api_keys where tenant_id = ${tenant}`;
    expect(keys!.n).toBe(0);
    const denials = await auditRows(database.owner, tenant, {
      action: "access.denied",
      resourceId: admin.id,
    });
    expect(denials.at(-1)).toMatchObject({ outcome: "DENIED", details: { reason: "step_up_required" } });

    const fresh = await signIn(database.db, admin, { mfaVerifiedAt: new Date(Date.now() - 2 * MINUTE) });
    const created = await call("/api/v1/admin/api-keys", { method: "POST", headers: fresh.headers, body });
    expect(created.status).toBe(201);
  });

  it("applies to user and policy management too, and to a session that never verified MFA", async () => {
    const stale = await signIn(database.db, admin, { mfaVerifiedAt: new Date(Date.now() - 20 * MINUTE) });
    const never = await signIn(database.db, admin, { mfaVerifiedAt: null });
    const target = await createUser(database.owner, tenant);
    for (const headers of [stale.headers, never.headers]) {
      const attempts = [
        call(`/api/v1/admin/users/${target.id}`, { method: "PATCH", headers, body: { role: "auditor" } }),
        call("/api/v1/admin/policy", { method: "PUT", headers, body: { stepUpWindowMinutes: 5 } }),
        call("/api/v1/admin/users", { headers }),
      ];
      for (const res of await Promise.all(attempts)) {
        expect(res.status).toBe(401);
        expect((await json(res)).error.code).toBe("step_up_required");
      }
    }
    const [row] = await database.owner<
      { role: string }[]
    >`select role from medchr.users where id = ${target.id}`;
    expect(row!.role).toBe("clinician");
  });

  it("uses the clinic's shorter window when its policy sets one", async () => {
    const fresh = await signIn(database.db, admin);
    expect(
      (
        await call("/api/v1/admin/policy", {
          method: "PUT",
          headers: fresh.headers,
          body: { stepUpWindowMinutes: 5 },
        })
      ).status,
    ).toBe(200);
    const tenMinutes = await signIn(database.db, admin, {
      mfaVerifiedAt: new Date(Date.now() - 10 * MINUTE),
    });
    const res = await call("/api/v1/admin/api-keys", { headers: tenMinutes.headers });
    expect(res.status).toBe(401);
    expect((await json(res)).error.code).toBe("step_up_required");
  });

  it("does not ask API keys to step up (their issuance did), nor sessions outside strict mode", async () => {
    const key = await createApiKey(database.owner, tenant, { scopes: ["admin"] });
    const byKey = await call("/api/v1/admin/api-keys", {
      method: "POST",
      headers: key.headers,
      body: { name: "By key", scopes: ["read"] },
    });
    expect(byKey.status).toBe(201);

    const stale = await signIn(database.db, admin, { mfaVerifiedAt: new Date(Date.now() - 20 * MINUTE) });
    useStrict = false;
    try {
      expect((await call("/api/v1/admin/api-keys", { headers: stale.headers })).status).toBe(200);
    } finally {
      useStrict = true;
    }
  });
});
