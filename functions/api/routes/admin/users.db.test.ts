import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyPassword } from "../../../../shared/auth/password-hash";
import {
  createApiKey,
  createUser as createUserFixture,
  signIn,
  type TestSession,
  type TestUser,
  testKeyRing,
  uniqueEmail,
} from "../../../../test/helpers/identity";
import { createTenant } from "../../../../test/helpers/test-database";
import {
  type AdminHarness,
  auditCount,
  auditRows,
  type Body,
  buildAdminTestApp,
  fieldsOf,
  json,
  makeCaller,
  PROBE_PATH,
  startAdminHarness,
} from "./testing";

let h: AdminHarness;
const app = buildAdminTestApp();
const call = makeCaller(app, () => h.env);
const USERS = "/api/v1/admin/users";

let userB: TestUser;
let sessionB: TestSession;

beforeAll(async () => {
  h = await startAdminHarness("users");
  userB = await createUserFixture(h.database.owner, h.tenantB, { role: "clinician" });
  sessionB = await signIn(h.database.db, userB);
});
afterAll(async () => {
  await h?.stop();
});

const asAdmin = (extra: Record<string, string> = {}) => ({ ...h.session.headers, ...extra });

async function userRow(id: string) {
  const [row] = await h.database.owner<
    { role: string; status: string; display_name: string; password_hash: string }[]
  >`select role, status, display_name, password_hash from medchr.users where id = ${id}`;
  return row!;
}
async function revokeReasons(userId: string) {
  const rows = await h.database.owner<{ revoke_reason: string | null }[]>`
    select revoke_reason from medchr.ui_sessions where user_id = ${userId} order by created_at`;
  return rows.map((r) => r.revoke_reason);
}

describe("POST /api/v1/admin/users", () => {
  it("creates a user with the admin's chosen password, returns no secret, and audits user.create", async () => {
    const email = uniqueEmail("Nurse").toUpperCase();
    const password = "harbor lights at dusk 1987";
    const res = await call(USERS, {
      method: "POST",
      headers: asAdmin(),
      body: { email: `  ${email} `, displayName: " Nurse Joy ", role: "clinician", password },
      ip: "203.0.113.40",
    });
    expect(res.status).toBe(201);
    const text = await res.text();
    expect(text).not.toMatch(/pbh1|password_hash|passwordHash|\$2[aby]\$/);
    const body = JSON.parse(text) as Body;
    expect(body.generatedPassword).toBeNull();
    expect(body.user).toMatchObject({
      email: email.toLowerCase(),
      displayName: "Nurse Joy",
      role: "clinician",
      status: "active",
      mfaEnrolled: false,
      lockedUntil: null,
    });
    const row = await userRow(body.user.id);
    expect(await verifyPassword(password, row.password_hash, testKeyRing("PASSWORD_PEPPER_KEYS"))).toBe(true);

    const [event] = await auditRows(h.database.owner, h.tenantA, {
      action: "user.create",
      resourceId: body.user.id,
    });
    expect(event).toMatchObject({
      outcome: "SUCCESS",
      actor_type: "user",
      actor_id: h.admin.id,
      ip: "203.0.113.40",
      details: { role: "clinician", createdBy: "admin" },
    });
  });

  it("generates a password when none is given and returns it once", async () => {
    const res = await call(USERS, {
      method: "POST",
      headers: asAdmin(),
      body: { email: uniqueEmail("aud"), displayName: "Auditor Al", role: "auditor" },
    });
    expect(res.status).toBe(201);
    const body = await json(res);
    expect(body.generatedPassword).toMatch(/^[A-Za-z0-9]{20}$/);
    const row = await userRow(body.user.id);
    expect(
      await verifyPassword(body.generatedPassword, row.password_hash, testKeyRing("PASSWORD_PEPPER_KEYS")),
    ).toBe(true);
    // Never again: reading the user back shows no password of any kind.
    const again = await call(`${USERS}/${body.user.id}`, { headers: asAdmin() });
    const againText = await again.text();
    expect(againText).not.toContain(body.generatedPassword);
    expect(againText).not.toMatch(/password/i);
  });

  it.each([
    ["a malformed email", { email: "not-an-email", displayName: "X", role: "clinician" }, ["email"]],
    [
      "an empty display name",
      { email: uniqueEmail(), displayName: "  ", role: "clinician" },
      ["displayName"],
    ],
    ["an unknown role", { email: uniqueEmail(), displayName: "X", role: "superuser" }, ["role"]],
    ["a missing role", { email: uniqueEmail(), displayName: "X" }, ["role"]],
  ])("refuses %s with 400 naming the field", async (_label, body, fields) => {
    const before = await auditCount(h.database.owner, h.tenantA);
    const res = await call(USERS, { method: "POST", headers: asAdmin(), body });
    expect(res.status).toBe(400);
    const error = await json(res);
    expect(error.error.code).toBe("validation_failed");
    expect(fieldsOf(error)).toEqual(fields);
    expect(await auditCount(h.database.owner, h.tenantA)).toBe(before);
  });

  it("refuses a password the policy rejects, naming the field and the reasons but not the value", async () => {
    const email = uniqueEmail("weak");
    const res = await call(USERS, {
      method: "POST",
      headers: asAdmin(),
      body: { email, displayName: "Weak Pw", role: "clinician", password: "password1234" },
    });
    expect(res.status).toBe(400);
    const text = await res.text();
    expect(text).not.toContain("password1234");
    const body = JSON.parse(text) as Body;
    expect(fieldsOf(body)).toEqual(["password"]);
    expect(body.error.details.reasons).toContain("common");
    const [exists] = await h.database.owner`select 1 from medchr.users where email = ${email}`;
    expect(exists).toBeUndefined();
  });

  it("refuses unknown body fields (no mass assignment of status or tenant)", async () => {
    const res = await call(USERS, {
      method: "POST",
      headers: asAdmin(),
      body: { email: uniqueEmail(), displayName: "X", role: "clinician", tenantId: h.tenantB },
    });
    expect(res.status).toBe(400);
  });

  it("answers 409 for an email already used, in this clinic or another, and writes nothing", async () => {
    const before = await auditCount(h.database.owner, h.tenantA);
    for (const email of [h.admin.email, userB.email.toUpperCase()]) {
      const res = await call(USERS, {
        method: "POST",
        headers: asAdmin(),
        body: { email, displayName: "Dup", role: "clinician" },
      });
      expect(res.status).toBe(409);
      expect((await json(res)).error.code).toBe("conflict");
    }
    expect(await auditCount(h.database.owner, h.tenantA)).toBe(before);
    expect((await userRow(userB.id)).display_name).toBe("Test User");
  });

  it("answers 415 to a form post and 403 without the anti-forgery token", async () => {
    const form = await call(USERS, {
      method: "POST",
      headers: { ...asAdmin(), "Content-Type": "application/x-www-form-urlencoded" },
      body: "email=x",
    });
    expect(form.status).toBe(415);
    const { "X-CSRF-Token": _dropped, ...noCsrf } = asAdmin();
    const res = await call(USERS, {
      method: "POST",
      headers: noCsrf,
      body: { email: uniqueEmail(), displayName: "X", role: "clinician" },
    });
    expect(res.status).toBe(403);
  });
});

describe("GET /api/v1/admin/users", () => {
  it("pages through this clinic's users only, oldest first, without password hashes", async () => {
    const tenant = await createTenant(h.database.owner, "users-paging");
    const admin = await createUserFixture(h.database.owner, tenant, { role: "admin" });
    const session = await signIn(h.database.db, admin);
    const created = [admin.id];
    for (let i = 0; i < 4; i++) created.push((await createUserFixture(h.database.owner, tenant)).id);

    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = cursor ? `?limit=2&cursor=${encodeURIComponent(cursor)}` : "?limit=2";
      const res = await call(`${USERS}${query}`, { headers: session.headers });
      expect(res.status).toBe(200);
      const text = await res.text();
      expect(text).not.toMatch(/pbh1|password/i);
      const body = JSON.parse(text) as Body;
      expect(body.users.length).toBeLessThanOrEqual(2);
      seen.push(...body.users.map((u: Body) => u.id));
      cursor = body.nextCursor;
      pages += 1;
    } while (cursor && pages < 10);
    expect(pages).toBe(3);
    expect(seen).toEqual(created);
    expect(seen).not.toContain(userB.id);
  });

  it.each([
    ["a forged cursor", "?cursor=bm90LWEtY3Vyc29y", "cursor"],
    ["a limit above 100", "?limit=101", "limit"],
    ["a limit of 0", "?limit=0", "limit"],
  ])("refuses %s with 400 naming the field", async (_label, query, field) => {
    const res = await call(`${USERS}${query}`, { headers: asAdmin() });
    expect(res.status).toBe(400);
    expect(fieldsOf(await json(res))).toEqual([field]);
  });
});

describe("GET /api/v1/admin/users/{userId}", () => {
  it("shows one user of my clinic", async () => {
    const res = await call(`${USERS}/${h.admin.id}`, { headers: asAdmin() });
    expect(res.status).toBe(200);
    expect((await json(res)).user).toMatchObject({ id: h.admin.id, email: h.admin.email, role: "admin" });
  });

  it("answers 404 for another clinic's user exactly as for an unknown id, and 400 for a malformed id", async () => {
    const other = await call(`${USERS}/${userB.id}`, { headers: asAdmin() });
    const unknown = await call(`${USERS}/00000000-0000-4000-8000-000000000000`, { headers: asAdmin() });
    expect(other.status).toBe(404);
    expect(unknown.status).toBe(404);
    const a = (await json(other)).error;
    const b = (await json(unknown)).error;
    expect([a.code, a.message]).toEqual([b.code, b.message]);
    expect((await call(`${USERS}/not-a-uuid`, { headers: asAdmin() })).status).toBe(400);
  });
});

describe("PATCH /api/v1/admin/users/{userId}", () => {
  it("renames a user without touching their sessions; audits the field name only", async () => {
    const user = await createUserFixture(h.database.owner, h.tenantA);
    const session = await signIn(h.database.db, user);
    const res = await call(`${USERS}/${user.id}`, {
      method: "PATCH",
      headers: asAdmin(),
      body: { displayName: "Dr. Renamed" },
    });
    expect(res.status).toBe(200);
    const body = await json(res);
    expect(body).toMatchObject({ user: { displayName: "Dr. Renamed" }, sessionsRevoked: 0 });
    expect((await call(PROBE_PATH, { headers: session.headers })).status).toBe(200);
    const events = await auditRows(h.database.owner, h.tenantA, { resourceId: user.id });
    expect(events.map((e) => [e.action, e.details])).toEqual([["user.update", { fields: ["display_name"] }]]);
    expect(JSON.stringify(events)).not.toContain("Renamed");
  });

  it("disabling ends every session of the user: their cookie then gets 401", async () => {
    const user = await createUserFixture(h.database.owner, h.tenantA);
    const first = await signIn(h.database.db, user);
    const second = await signIn(h.database.db, user);
    expect((await call(PROBE_PATH, { headers: first.headers })).status).toBe(200);

    const res = await call(`${USERS}/${user.id}`, {
      method: "PATCH",
      headers: asAdmin(),
      body: { status: "disabled" },
    });
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({ user: { status: "disabled" }, sessionsRevoked: 2 });
    for (const session of [first, second]) {
      expect((await call(PROBE_PATH, { headers: session.headers })).status).toBe(401);
    }
    expect(await revokeReasons(user.id)).toEqual(["user_disabled", "user_disabled"]);
    const events = await auditRows(h.database.owner, h.tenantA, { resourceId: user.id });
    expect(events.map((e) => [e.action, e.details])).toEqual([
      ["user.update", { fields: ["status"] }],
      ["user.sessions_revoke", { reason: "user_disabled", count: 2 }],
      ["user.disable", { sessionsRevoked: 2 }],
    ]);
    expect(events.every((e) => e.actor_id === h.admin.id)).toBe(true);

    // Enabling again does not bring old sessions back.
    const enabled = await call(`${USERS}/${user.id}`, {
      method: "PATCH",
      headers: asAdmin(),
      body: { status: "active" },
    });
    expect(enabled.status).toBe(200);
    expect((await call(PROBE_PATH, { headers: first.headers })).status).toBe(401);
  });

  it("a role change ends the user's sessions so the new privileges apply at once", async () => {
    const user = await createUserFixture(h.database.owner, h.tenantA, { role: "clinician" });
    const session = await signIn(h.database.db, user);
    expect((await call(PROBE_PATH, { headers: session.headers })).status).toBe(200);

    const res = await call(`${USERS}/${user.id}`, {
      method: "PATCH",
      headers: asAdmin(),
      body: { role: "auditor" },
    });
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({ user: { role: "auditor" }, sessionsRevoked: 1 });
    expect((await call(PROBE_PATH, { headers: session.headers })).status).toBe(401);
    expect(await revokeReasons(user.id)).toEqual(["role_change"]);
    const events = await auditRows(h.database.owner, h.tenantA, { resourceId: user.id });
    expect(events.map((e) => [e.action, e.details])).toEqual([
      ["user.update", { fields: ["role"], role: "auditor" }],
      ["user.sessions_revoke", { reason: "role_change", count: 1 }],
    ]);
    // A fresh sign-in carries the new role: the probe (patient.read) is now refused.
    const fresh = await signIn(h.database.db, user);
    expect((await call(PROBE_PATH, { headers: fresh.headers })).status).toBe(403);
  });

  it("refuses to let the last active admin demote or disable themselves (409, nothing changed)", async () => {
    const tenant = await createTenant(h.database.owner, "users-last-admin");
    const admin = await createUserFixture(h.database.owner, tenant, { role: "admin" });
    // A disabled admin does not count as a remaining administrator.
    await createUserFixture(h.database.owner, tenant, { role: "admin", status: "disabled" });
    const session = await signIn(h.database.db, admin);
    const before = await auditCount(h.database.owner, tenant);
    for (const change of [
      { role: "clinician" },
      { status: "disabled" },
      { role: "auditor", status: "disabled" },
    ]) {
      const res = await call(`${USERS}/${admin.id}`, {
        method: "PATCH",
        headers: session.headers,
        body: change,
      });
      expect(res.status).toBe(409);
      expect((await json(res)).error.message).toMatch(/last active administrator/);
    }
    expect(await userRow(admin.id)).toMatchObject({ role: "admin", status: "active" });
    expect(await auditCount(h.database.owner, tenant)).toBe(before);
    expect((await call(`${USERS}/${admin.id}`, { headers: session.headers })).status).toBe(200);

    // Nor can an admin-scoped API key remove the last admin.
    const key = await createApiKey(h.database.owner, tenant, { scopes: ["admin"] });
    const byKey = await call(`${USERS}/${admin.id}`, {
      method: "PATCH",
      headers: key.headers,
      body: { status: "disabled" },
    });
    expect(byKey.status).toBe(409);

    // With a second active admin, stepping down works and ends the caller's own session.
    const second = await createUserFixture(h.database.owner, tenant, { role: "admin" });
    const res = await call(`${USERS}/${admin.id}`, {
      method: "PATCH",
      headers: session.headers,
      body: { role: "clinician" },
    });
    expect(res.status).toBe(200);
    expect((await call(`${USERS}/${second.id}`, { headers: session.headers })).status).toBe(401);
  });

  it.each([
    ["an empty body", {}, ["(body)"]],
    ["an unknown status", { status: "deleted" }, ["status"]],
    ["a control character in the name", { displayName: "A\u0007B" }, ["displayName"]],
  ])("refuses %s with 400 naming the field", async (_label, body, fields) => {
    const res = await call(`${USERS}/${h.admin.id}`, { method: "PATCH", headers: asAdmin(), body });
    expect(res.status).toBe(400);
    expect(fieldsOf(await json(res))).toEqual(fields);
  });

  it("answers 404 for another clinic's user and changes nothing there", async () => {
    const beforeB = await auditCount(h.database.owner, h.tenantB);
    const res = await call(`${USERS}/${userB.id}`, {
      method: "PATCH",
      headers: asAdmin(),
      body: { status: "disabled", role: "auditor" },
    });
    expect(res.status).toBe(404);
    expect(await userRow(userB.id)).toMatchObject({ role: "clinician", status: "active" });
    expect((await call(PROBE_PATH, { headers: sessionB.headers })).status).toBe(200);
    expect(await auditCount(h.database.owner, h.tenantB)).toBe(beforeB);
  });
});

describe("POST /api/v1/admin/users/{userId}/sessions/revoke", () => {
  it("signs the user out everywhere and audits the count", async () => {
    const user = await createUserFixture(h.database.owner, h.tenantA);
    const sessions = [await signIn(h.database.db, user), await signIn(h.database.db, user)];
    const res = await call(`${USERS}/${user.id}/sessions/revoke`, {
      method: "POST",
      headers: asAdmin(),
      body: {},
    });
    expect(res.status).toBe(200);
    expect(await json(res)).toEqual({ sessionsRevoked: 2 });
    for (const s of sessions) expect((await call(PROBE_PATH, { headers: s.headers })).status).toBe(401);
    expect(await revokeReasons(user.id)).toEqual(["admin", "admin"]);
    // The account itself stays usable: a new sign-in works.
    expect((await call(PROBE_PATH, { headers: (await signIn(h.database.db, user)).headers })).status).toBe(
      200,
    );

    const quiet = await createUserFixture(h.database.owner, h.tenantA);
    const none = await call(`${USERS}/${quiet.id}/sessions/revoke`, {
      method: "POST",
      headers: asAdmin(),
      body: {},
    });
    expect(await json(none)).toEqual({ sessionsRevoked: 0 });

    const events = await auditRows(h.database.owner, h.tenantA, { action: "user.sessions_revoke" });
    const mine = events.filter((e) => e.resource_id === user.id || e.resource_id === quiet.id);
    expect(mine.map((e) => [e.resource_id, e.details, e.actor_id])).toEqual([
      [user.id, { reason: "admin", count: 2 }, h.admin.id],
      [quiet.id, { reason: "admin", count: 0 }, h.admin.id],
    ]);
  });

  it("answers 404 for another clinic's user and leaves their session alive", async () => {
    const res = await call(`${USERS}/${userB.id}/sessions/revoke`, {
      method: "POST",
      headers: asAdmin(),
      body: {},
    });
    expect(res.status).toBe(404);
    expect((await call(PROBE_PATH, { headers: sessionB.headers })).status).toBe(200);
  });
});

describe("who may manage users", () => {
  const routes = (id: string) =>
    [
      ["GET", USERS, undefined],
      ["POST", USERS, { email: uniqueEmail(), displayName: "X", role: "clinician" }],
      ["GET", `${USERS}/${id}`, undefined],
      ["PATCH", `${USERS}/${id}`, { displayName: "Nope" }],
      ["POST", `${USERS}/${id}/sessions/revoke`, {}],
    ] as const;

  it("refuses a clinician's and an auditor's session with 403 and audits the denial", async () => {
    for (const role of ["clinician", "auditor"] as const) {
      const user = await createUserFixture(h.database.owner, h.tenantA, { role });
      const session = await signIn(h.database.db, user);
      for (const [method, path, body] of routes(h.admin.id)) {
        const res = await call(path, { method, headers: session.headers, body });
        expect(res.status, `${role} ${method} ${path}`).toBe(403);
      }
      const denials = await auditRows(h.database.owner, h.tenantA, {
        action: "access.denied",
        resourceId: user.id,
      });
      expect(denials.map((d) => d.details)).toEqual(routes("").map(() => ({ reason: "missing_permission" })));
    }
    expect((await userRow(h.admin.id)).display_name).toBe("Test User");
  });

  it("refuses API keys with read or write scope (403) and accepts the admin scope", async () => {
    for (const scopes of [["read"], ["write"], ["read", "write"]] as const) {
      const key = await createApiKey(h.database.owner, h.tenantA, { scopes: [...scopes] });
      for (const [method, path, body] of routes(h.admin.id)) {
        const res = await call(path, { method, headers: key.headers, body });
        expect(res.status, `${scopes.join("+")} ${method} ${path}`).toBe(403);
      }
    }
    const admin = await createApiKey(h.database.owner, h.tenantA, { scopes: ["admin"] });
    expect((await call(USERS, { headers: admin.headers })).status).toBe(200);
    const created = await call(USERS, {
      method: "POST",
      headers: admin.headers,
      body: { email: uniqueEmail("bykey"), displayName: "By Key", role: "clinician" },
    });
    expect(created.status).toBe(201);
    const [event] = await auditRows(h.database.owner, h.tenantA, {
      action: "user.create",
      resourceId: (await json(created)).user.id,
    });
    expect(event).toMatchObject({ actor_type: "api_key", actor_id: admin.keyId });
  });

  it("answers 401 without credentials", async () => {
    for (const [method, path, body] of routes(h.admin.id)) {
      expect((await call(path, { method, body })).status).toBe(401);
    }
  });
});
