import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SESSION_COOKIE } from "../../shared/auth/session-token";
import {
  MAX_PASSWORD_FAILURES,
  SIGN_IN_FAILED_MESSAGE,
} from "../../shared/auth/sign-in/sign-in-with-password";
import { createUser, signIn, type TestUser } from "../../test/helpers/identity";
import { createTenant, startTestDatabase, type TestDatabase } from "../../test/helpers/test-database";
import { testEnv } from "../../test/helpers/test-env";
import { AUTH_IP_LIMIT_PER_MINUTE, buildAuthApp } from "./app";

let database: TestDatabase;
let env: Record<string, unknown>;
let tenantA: string;
let tenantB: string;
const app = buildAuthApp();
// biome-ignore lint/suspicious/noExplicitAny: response bodies are checked field by field
type SessionBody = Record<string, any>;
let ipCounter = 0;
/** Each test gets its own client IP so the per-IP limit only bites where a test wants it. */
const freshIp = () => `198.51.100.${++ipCounter}`;

beforeAll(async () => {
  database = await startTestDatabase();
  env = testEnv(database.url);
  tenantA = await createTenant(database.owner, "auth-a");
  tenantB = await createTenant(database.owner, "auth-b");
});
afterAll(async () => {
  await database?.stop();
});

function post(path: string, body: unknown, headers: Record<string, string> = {}, ip = freshIp()) {
  return app.request(
    path,
    {
      method: "POST",
      headers: { "Content-Type": "application/json", "CF-Connecting-IP": ip, ...headers },
      body: JSON.stringify(body),
    },
    env,
  );
}
function get(path: string, headers: Record<string, string> = {}) {
  return app.request(path, { headers: { "CF-Connecting-IP": freshIp(), ...headers } }, env);
}
function sessionCookieOf(res: Response): string | null {
  const raw = res.headers.get("Set-Cookie") ?? "";
  const match = new RegExp(`${SESSION_COOKIE}=([^;]*)`).exec(raw);
  return match?.[1] ? `${SESSION_COOKIE}=${match[1]}` : null;
}
async function auditActions(tenantId: string, resourceId?: string): Promise<string[]> {
  const rows = await database.owner<{ action: string }[]>`
    select action from medchr.audit_events where tenant_id = ${tenantId}
    ${resourceId ? database.owner`and resource_id = ${resourceId}` : database.owner``} order by seq`;
  return rows.map((r) => r.action);
}
async function setMfaRequired(tenantId: string, required: boolean) {
  await database.owner`insert into medchr.tenant_policies (tenant_id, mfa_required) values (${tenantId}, ${required})
    on conflict (tenant_id) do update set mfa_required = excluded.mfa_required`;
}

describe("POST /auth/login", () => {
  let user: TestUser;
  beforeAll(async () => {
    user = await createUser(database.owner, tenantA);
  });

  it("sets a __Host- cookie (Secure, HttpOnly, SameSite=Strict, Path=/) and asks for MFA enrolment by default", async () => {
    const res = await post("/auth/login", { email: user.email, password: user.password });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { stage: string; csrfToken: string };
    expect(body.stage).toBe("mfa_enrollment");
    expect(body.csrfToken).toMatch(/^sess1\./);
    const cookie = res.headers.get("Set-Cookie")!;
    expect(cookie).toContain(`${SESSION_COOKIE}=`);
    expect(cookie).toMatch(/Secure/);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    expect(cookie).toMatch(/Path=\//);
    expect(cookie).not.toMatch(/Domain=/i);
    expect(await auditActions(tenantA, undefined)).toContain("session.create");
  });

  it("opens an active session when the clinic does not require MFA and the user has none", async () => {
    await setMfaRequired(tenantB, false);
    const other = await createUser(database.owner, tenantB);
    const res = await post("/auth/login", { email: other.email.toUpperCase(), password: other.password });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { stage: string }).stage).toBe("active");
    expect(await auditActions(tenantB, other.id)).toContain("user.login");
  });

  it("answers an unknown email exactly like a wrong password", async () => {
    const unknown = await post("/auth/login", {
      email: "nobody@clinic.example.org",
      password: "whatever-password",
    });
    const wrong = await post("/auth/login", { email: user.email, password: "not the password" });
    expect(unknown.status).toBe(401);
    expect(wrong.status).toBe(401);
    const a = ((await unknown.json()) as { error: { code: string; message: string } }).error;
    const b = ((await wrong.json()) as { error: { code: string; message: string } }).error;
    expect([a.code, a.message]).toEqual([b.code, b.message]);
    expect(a.message).toBe(SIGN_IN_FAILED_MESSAGE);
    expect(unknown.headers.get("Set-Cookie")).toBeNull();
  });

  it("locks the account after 10 failures, refuses even the right password, audits, and clears after expiry", async () => {
    const victim = await createUser(database.owner, tenantA);
    for (let i = 0; i < MAX_PASSWORD_FAILURES; i++) {
      expect((await post("/auth/login", { email: victim.email, password: `wrong-${i}` })).status).toBe(401);
    }
    const locked = await post("/auth/login", { email: victim.email, password: victim.password });
    expect(locked.status).toBe(401);
    const actions = await auditActions(tenantA, victim.id);
    expect(actions.filter((a) => a === "user.login_failed")).toHaveLength(MAX_PASSWORD_FAILURES + 1);
    expect(actions).toContain("user.lockout");
    const [row] = await database.owner<
      { locked_until: Date }[]
    >`select locked_until from medchr.users where id = ${victim.id}`;
    expect(new Date(row!.locked_until).getTime()).toBeGreaterThan(Date.now() + 14 * 60_000);
    // The lock expires (15 minutes later).
    await database.owner`update medchr.users set locked_until = now() - interval '1 second' where id = ${victim.id}`;
    const after = await post("/auth/login", { email: victim.email, password: victim.password });
    expect(after.status).toBe(200);
    expect(await auditActions(tenantA, victim.id)).toContain("user.lockout_clear");
  });

  it("refuses a disabled user with the same answer", async () => {
    const disabled = await createUser(database.owner, tenantA, { status: "disabled" });
    const res = await post("/auth/login", { email: disabled.email, password: disabled.password });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { message: string } }).error.message).toBe(SIGN_IN_FAILED_MESSAGE);
  });

  it("issues a new token at login and ends the one the browser had (session fixation)", async () => {
    const planted = await signIn(database.db, user, { stage: "mfa_enrollment", mfaVerifiedAt: null });
    const res = await post(
      "/auth/login",
      { email: user.email, password: user.password },
      { Cookie: planted.cookie },
    );
    expect(res.status).toBe(200);
    const fresh = sessionCookieOf(res);
    expect(fresh).not.toBeNull();
    expect(fresh).not.toBe(planted.cookie);
    expect((await get("/auth/session", { Cookie: planted.cookie })).status).toBe(401);
    expect((await get("/auth/session", { Cookie: fresh! })).status).toBe(200);
  });

  it("rejects a form post with 415 and a malformed body with 400", async () => {
    const form = await app.request(
      "/auth/login",
      {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded", "CF-Connecting-IP": freshIp() },
        body: "email=a&password=b",
      },
      env,
    );
    expect(form.status).toBe(415);
    const bad = await post("/auth/login", { email: 42 });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe("validation_failed");
  });

  it("limits state-changing /auth calls per client IP with 429 and Retry-After", async () => {
    const ip = "203.0.113.77";
    let last: Response | undefined;
    // Cheap calls (no bcrypt): the limit counts every state-changing /auth call from the IP.
    for (let i = 0; i <= AUTH_IP_LIMIT_PER_MINUTE; i++) last = await post("/auth/logout", {}, {}, ip);
    expect(last!.status).toBe(429);
    expect(Number(last!.headers.get("Retry-After"))).toBeGreaterThan(0);
    // Another address is unaffected.
    expect((await post("/auth/login", { email: "nobody@clinic.example.org", password: "x" })).status).toBe(
      401,
    );
  });
});

describe("GET /auth/session and session lifetime", () => {
  it("describes an active session: user, tenant, role, permissions, MFA state and CSRF token", async () => {
    const admin = await createUser(database.owner, tenantA, { role: "admin" });
    const session = await signIn(database.db, admin);
    const res = await get("/auth/session", { Cookie: session.cookie });
    expect(res.status).toBe(200);
    const body = (await res.json()) as SessionBody;
    expect(body.user).toMatchObject({ id: admin.id, email: admin.email, role: "admin" });
    expect(body.tenant.id).toBe(tenantA);
    expect(body.permissions).toContain("user.manage");
    expect(body.stage).toBe("active");
    expect(body.csrfToken).toBe(session.csrfToken);
    expect(body.mfa.stepUpValidUntil).not.toBeNull();
    expect(res.headers.get("Cache-Control")).toContain("no-store");
  });

  it("shows a half-signed-in session no permissions", async () => {
    const user = await createUser(database.owner, tenantA);
    const session = await signIn(database.db, user, { stage: "mfa_pending", mfaVerifiedAt: null });
    const body = (await (await get("/auth/session", { Cookie: session.cookie })).json()) as SessionBody;
    expect(body.stage).toBe("mfa_pending");
    expect(body.permissions).toEqual([]);
    // ...and cannot use a full-session route.
    expect((await get("/auth/sessions", { Cookie: session.cookie })).status).toBe(403);
  });

  it("ends a session idle longer than the idle limit, server-side, and audits it", async () => {
    const user = await createUser(database.owner, tenantA);
    const session = await signIn(database.db, user);
    await database.owner`update medchr.ui_sessions set last_seen_at = now() - interval '2 hours' where id = ${session.sessionId}`;
    const res = await get("/auth/session", { Cookie: session.cookie });
    expect(res.status).toBe(401);
    const [row] = await database.owner<
      { revoke_reason: string }[]
    >`select revoke_reason from medchr.ui_sessions where id = ${session.sessionId}`;
    expect(row!.revoke_reason).toBe("idle_timeout");
    expect(await auditActions(tenantA, session.sessionId)).toContain("session.revoke");
  });

  it("ends a session past its absolute limit even when active", async () => {
    const user = await createUser(database.owner, tenantA);
    const session = await signIn(database.db, user);
    await database.owner`update medchr.ui_sessions set absolute_expires_at = now() - interval '1 second' where id = ${session.sessionId}`;
    expect((await get("/auth/session", { Cookie: session.cookie })).status).toBe(401);
    const [row] = await database.owner<
      { revoke_reason: string }[]
    >`select revoke_reason from medchr.ui_sessions where id = ${session.sessionId}`;
    expect(row!.revoke_reason).toBe("absolute_timeout");
  });

  it("refuses a disabled user's session and a malformed or unknown cookie", async () => {
    const user = await createUser(database.owner, tenantA);
    const session = await signIn(database.db, user);
    await database.owner`update medchr.users set status = 'disabled' where id = ${user.id}`;
    expect((await get("/auth/session", { Cookie: session.cookie })).status).toBe(401);
    expect((await get("/auth/session", { Cookie: `${SESSION_COOKIE}=not-a-token` })).status).toBe(401);
    expect((await get("/auth/session", { Cookie: `${SESSION_COOKIE}=${"A".repeat(43)}` })).status).toBe(401);
    expect((await get("/auth/session")).status).toBe(401);
  });
});

describe("CSRF on cookie-authenticated calls", () => {
  it("requires the session-bound token, a same-origin Origin and Fetch Metadata", async () => {
    const user = await createUser(database.owner, tenantA);
    const session = await signIn(database.db, user);
    const { "X-CSRF-Token": _token, ...withoutToken } = session.headers;
    const missing = await post("/auth/sessions/revoke-others", {}, withoutToken);
    expect(missing.status).toBe(403);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe("csrf_failed");
    const other = await signIn(database.db, user);
    expect(
      (
        await post(
          "/auth/sessions/revoke-others",
          {},
          { ...session.headers, "X-CSRF-Token": other.csrfToken },
        )
      ).status,
    ).toBe(403);
    expect(
      (await post("/auth/sessions/revoke-others", {}, { ...session.headers, Origin: "https://evil.example" }))
        .status,
    ).toBe(403);
    expect(
      (await post("/auth/sessions/revoke-others", {}, { ...session.headers, "Sec-Fetch-Site": "cross-site" }))
        .status,
    ).toBe(403);
    expect(await auditActions(tenantA, user.id)).toContain("access.denied");
    const ok = await post(
      "/auth/sessions/revoke-others",
      {},
      { ...session.headers, Origin: "http://localhost", "Sec-Fetch-Site": "same-origin" },
    );
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { revoked: number }).revoked).toBe(1);
    expect((await get("/auth/session", { Cookie: other.cookie })).status).toBe(401);
  });
});

describe("logout, my sessions, password change", () => {
  it("logout revokes the session server-side", async () => {
    const user = await createUser(database.owner, tenantA);
    const session = await signIn(database.db, user);
    const res = await post("/auth/logout", {}, session.headers);
    expect(res.status).toBe(200);
    expect(res.headers.get("Set-Cookie")).toMatch(/Max-Age=0|Expires=Thu, 01 Jan 1970/);
    expect((await get("/auth/session", { Cookie: session.cookie })).status).toBe(401);
    expect(await auditActions(tenantA, session.sessionId)).toEqual(
      expect.arrayContaining(["session.revoke", "user.logout"]),
    );
  });

  it("lists my sessions and refuses to end another user's or another tenant's session (404)", async () => {
    const user = await createUser(database.owner, tenantA);
    const mine = await signIn(database.db, user);
    await signIn(database.db, user);
    const list = (await (await get("/auth/sessions", { Cookie: mine.cookie })).json()) as {
      sessions: { id: string; current: boolean }[];
    };
    expect(list.sessions).toHaveLength(2);
    expect(list.sessions.filter((s) => s.current).map((s) => s.id)).toEqual([mine.sessionId]);
    const stranger = await createUser(database.owner, tenantA);
    const theirs = await signIn(database.db, stranger);
    const otherTenantUser = await createUser(database.owner, tenantB);
    const otherTenant = await signIn(database.db, otherTenantUser);
    for (const target of [theirs.sessionId, otherTenant.sessionId]) {
      const res = await app.request(
        `/auth/sessions/${target}`,
        { method: "DELETE", headers: { ...mine.headers, "CF-Connecting-IP": freshIp() } },
        env,
      );
      expect(res.status).toBe(404);
    }
    expect((await get("/auth/session", { Cookie: theirs.cookie })).status).toBe(200);
    expect((await get("/auth/session", { Cookie: otherTenant.cookie })).status).toBe(200);
  });

  it("changes the password: current one required, policy applied, other sessions end, mine rotates", async () => {
    const user = await createUser(database.owner, tenantA);
    const mine = await signIn(database.db, user);
    const other = await signIn(database.db, user);
    const wrong = await post(
      "/auth/password/change",
      { currentPassword: "nope", newPassword: "a brand new long passphrase" },
      mine.headers,
    );
    expect(wrong.status).toBe(401);
    const weak = await post(
      "/auth/password/change",
      { currentPassword: user.password, newPassword: "password1234" },
      mine.headers,
    );
    expect(weak.status).toBe(400);
    const okRes = await post(
      "/auth/password/change",
      { currentPassword: user.password, newPassword: "a brand new long passphrase" },
      mine.headers,
    );
    expect(okRes.status).toBe(200);
    expect(((await okRes.json()) as { sessionsRevoked: number }).sessionsRevoked).toBe(1);
    const rotated = sessionCookieOf(okRes)!;
    expect(rotated).not.toBe(mine.cookie);
    expect((await get("/auth/session", { Cookie: mine.cookie })).status).toBe(401);
    expect((await get("/auth/session", { Cookie: other.cookie })).status).toBe(401);
    expect((await get("/auth/session", { Cookie: rotated })).status).toBe(200);
    expect(
      (await post("/auth/login", { email: user.email, password: "a brand new long passphrase" })).status,
    ).toBe(200);
    expect(await auditActions(tenantA, user.id)).toContain("user.password_change");
  });
});

describe("GET /auth/sso/providers", () => {
  it("names only the enabled providers", async () => {
    const none = await app.request("/auth/sso/providers", {}, env);
    expect(await none.json()).toEqual({ providers: [] });
    const withOidc = testEnv(database.url, {
      OIDC_ISSUER: "https://idp.example.org",
      OIDC_CLIENT_ID: "medchr",
      OIDC_CLIENT_SECRET: "a-client-secret-of-sufficient-length",
    });
    const one = await app.request("/auth/sso/providers", {}, withOidc);
    expect(await one.json()).toEqual({ providers: ["oidc"] });
  });
});

describe("prod/HIPAA mode", () => {
  it("makes every user enrol MFA first, even where the clinic's policy does not require it", async () => {
    await setMfaRequired(tenantB, false);
    const user = await createUser(database.owner, tenantB);
    const hipaa = testEnv(database.url, {
      HIPAA_MODE: "true",
      PHI_PROCESSORS: "none",
      UPSTASH_REDIS_REST_TOKEN: "t".repeat(40),
      PUBLIC_ORIGIN: "https://medchr.example.org",
    });
    const res = await app.request(
      "/auth/login",
      {
        method: "POST",
        headers: { "Content-Type": "application/json", "CF-Connecting-IP": freshIp() },
        body: JSON.stringify({ email: user.email, password: user.password }),
      },
      // Rate limits on Postgres here: the Upstash token is only there to satisfy strict config.
      { ...hipaa, UPSTASH_REDIS_REST_URL: "" },
    );
    expect(res.status).toBe(200);
    expect(((await res.json()) as { stage: string }).stage).toBe("mfa_enrollment");
  });
});
