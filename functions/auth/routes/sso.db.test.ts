import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { verifyAuditChain } from "../../../shared/audit/verify-audit-chain";
import { SESSION_COOKIE } from "../../../shared/auth/session-token";
import { linkSsoIdentity } from "../../../shared/auth/sso/link-sso-identity";
import {
  openSsoState,
  SSO_STATE_COOKIE,
  SSO_STATE_TTL_MS,
  type SsoState,
  sealSsoState,
} from "../../../shared/auth/sso/sso-state-cookie";
import { parseKeyRing } from "../../../shared/config/key-ring";
import { createFunctionApp } from "../../../shared/http/create-app";
import {
  type OidcTestAccount,
  type OidcTestProvider,
  startOidcProvider,
  TestBrowser,
} from "../../../test/helpers/oidc-provider";
import { startTestDatabase, type TestDatabase } from "../../../test/helpers/test-database";
import { testEnv } from "../../../test/helpers/test-env";
import { registerSsoRoutes } from "./sso";

/**
 * The SSO flow end to end against a real OpenID Provider (oidc-provider on a loopback
 * port) and PGlite with the real migrations. Refusals are produced by making the provider
 * or the browser really misbehave (tampered tokens, another provider's tokens, rewritten
 * discovery, replayed or forged state), never by stubbing the client library.
 */

const APP = "https://medchr.test";
const CLIENT = {
  client_id: "medchr-test",
  client_secret: "test-client-secret-0123456789abcdef",
  redirect_uris: [`${APP}/auth/sso/callback`],
};
const CLIENT_IP = "203.0.113.9";
const USER_AGENT = "medchr-sso-test/1.0";

let t: TestDatabase;
let idp: OidcTestProvider;
let other: OidcTestProvider;
const tenants: Record<"harbor" | "lake" | "ridge" | "sharedA" | "sharedB" | "closed", string> = {
  harbor: "",
  lake: "",
  ridge: "",
  sharedA: "",
  sharedB: "",
  closed: "",
};

async function insertTenant(slug: string, domains: string[], status = "active"): Promise<string> {
  const [row] = await t.owner<{ id: string }[]>`
    insert into medchr.tenants (name, slug, email_domains, status)
    values (${`Clinic ${slug}`}, ${slug}, string_to_array(${domains.join(",")}, ','), ${status})
    returning id`;
  return row!.id;
}

beforeAll(async () => {
  t = await startTestDatabase();
  idp = await startOidcProvider({ clients: [CLIENT], accounts: [] });
  other = await startOidcProvider({ clients: [CLIENT], accounts: [] });
  tenants.harbor = await insertTenant("harbor", ["harbor.example"]);
  tenants.lake = await insertTenant("lake", ["lake.example"]);
  tenants.ridge = await insertTenant("ridge", ["ridge.example"]);
  tenants.sharedA = await insertTenant("shared-a", ["shared.example"]);
  tenants.sharedB = await insertTenant("shared-b", ["shared.example"]);
  tenants.closed = await insertTenant("closed", ["closed.example"], "suspended");
  // Lake lets users in without MFA; Harbor keeps the default (MFA required).
  await t.owner`insert into medchr.tenant_policies (tenant_id, mfa_required) values (${tenants.lake}, false)`;
});

afterAll(async () => {
  await idp?.stop();
  await other?.stop();
  await t?.stop();
});

/** The route's log lines (raw) and the parsed sso_rejected events, per test. */
let logLines: string[] = [];
let rejections: { reason: string; detail?: string }[] = [];

beforeEach(() => {
  idp.tamperIdToken(null);
  idp.rewriteDiscovery(null);
  logLines = [];
  rejections = [];
  vi.spyOn(console, "warn").mockImplementation((...args: unknown[]) => {
    const line = args.map(String).join(" ");
    logLines.push(line);
    const parsed = JSON.parse(line) as { event?: string; reason: string; detail?: string };
    if (parsed.event === "sso_rejected") rejections.push({ reason: parsed.reason, detail: parsed.detail });
  });
});

afterEach(() => {
  vi.restoreAllMocks();
});

/** The check that refused, as logged for operators (reason + library error code). */
const lastRejection = () => rejections.at(-1);

function ssoEnv(overrides: Record<string, unknown> = {}) {
  return testEnv(t.url, {
    PUBLIC_ORIGIN: APP,
    OIDC_ISSUER: idp.issuer,
    OIDC_CLIENT_ID: CLIENT.client_id,
    OIDC_CLIENT_SECRET: CLIENT.client_secret,
    ...overrides,
  });
}

function makeApp() {
  const app = createFunctionApp("auth", { usesDatabase: true });
  registerSsoRoutes(app);
  return app;
}

const sessionKeys = () =>
  parseKeyRing("SESSION_KEYS", ssoEnv().SESSION_KEYS as string, { strict: false }).ring!;
const auditKeys = () => parseKeyRing("AUDIT_KEYS", ssoEnv().AUDIT_KEYS as string, { strict: false }).ring!;

function newBrowser(env = ssoEnv(), app = makeApp()) {
  return new TestBrowser({
    appOrigin: APP,
    app: (request) => app.request(request, undefined, env),
    appHeaders: { "User-Agent": USER_AGENT, "CF-Connecting-IP": CLIENT_IP },
  });
}

const loginUrl = (query: Record<string, string> = {}) =>
  `${APP}/auth/sso/login?${new URLSearchParams({ provider: "oidc", ...query })}`;

/** A full login as `account` at `provider` (default: the configured one) in a fresh browser. */
async function ssoLogin(
  account: OidcTestAccount,
  options: { env?: Record<string, unknown>; provider?: OidcTestProvider; returnTo?: string } = {},
) {
  const provider = options.provider ?? idp;
  provider.setAccount(account);
  provider.signInAs(account.sub);
  const browser = newBrowser(options.env);
  const navigation = await browser.navigate(
    loginUrl(options.returnTo !== undefined ? { returnTo: options.returnTo } : {}),
  );
  return {
    browser,
    navigation,
    location: navigation.location,
    sessionToken: browser.cookie(APP, SESSION_COOKIE),
    stateCookie: browser.cookie(APP, SSO_STATE_COOKIE),
  };
}

/** Stops at the callback without calling it: the browser holds the state cookie. */
async function loginUntilCallback(account: OidcTestAccount, browser = newBrowser(), provider = idp) {
  provider.setAccount(account);
  provider.signInAs(account.sub);
  const navigation = await browser.navigate(loginUrl(), {
    stopBefore: (next) => next.origin === APP && next.pathname === "/auth/sso/callback",
  });
  expect(navigation.location?.pathname).toBe("/auth/sso/callback");
  return { browser, callbackUrl: navigation.location! };
}

const ssoError = (location: URL | null) =>
  location?.origin === APP && location.pathname === "/"
    ? location.searchParams.get("sso_error")
    : "(no refusal)";

async function usersWithEmail(email: string) {
  return t.owner<
    { id: string; tenant_id: string; role: string; password_hash: string | null; display_name: string }[]
  >`select id, tenant_id, role, password_hash, display_name from medchr.users where email = ${email}`;
}

async function auditRows(tenantId: string, sinceSeq = 0) {
  return t.owner<
    {
      seq: string;
      action: string;
      outcome: string;
      actor_type: string;
      actor_id: string | null;
      resource_id: string | null;
      ip: string | null;
      user_agent: string | null;
      details: Record<string, unknown>;
    }[]
  >`select seq, action, outcome, actor_type, actor_id, resource_id, ip, user_agent, details
    from medchr.audit_events where tenant_id = ${tenantId} and seq > ${sinceSeq} order by seq`;
}

async function headSeq(tenantId: string): Promise<number> {
  const [row] = await t.owner<{ seq: string }[]>`
    select coalesce(max(seq), 0) as seq from medchr.audit_events where tenant_id = ${tenantId}`;
  return Number(row!.seq);
}

async function sessionFor(token: string) {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(token)));
  const [row] = await t.owner<{ user_id: string; tenant_id: string; stage: string; method: string }[]>`
    select user_id, tenant_id, stage, method from medchr.ui_sessions where token_hash = ${digest}`;
  return row;
}

let accountCounter = 0;
const account = (local: string, domain: string, extra: Partial<OidcTestAccount> = {}): OidcTestAccount => {
  accountCounter += 1;
  return {
    sub: `sub-${local}-${accountCounter}`,
    email: `${local}${accountCounter}@${domain}`,
    email_verified: true,
    name: `Dr ${local}`,
    ...extra,
  };
};

describe("GET /auth/sso/login", () => {
  it("redirects to the provider with code + PKCE S256 + state + nonce, keeping them in a sealed __Host- cookie", async () => {
    const app = makeApp();
    const res = await app.request(loginUrl({ returnTo: "/reports?tab=2" }), {}, ssoEnv());
    expect(res.status).toBe(302);
    const to = new URL(res.headers.get("location")!);
    expect(to.origin).toBe(idp.issuer);
    const q = to.searchParams;
    expect(q.get("response_type")).toBe("code");
    expect(q.get("client_id")).toBe(CLIENT.client_id);
    expect(q.get("redirect_uri")).toBe(`${APP}/auth/sso/callback`);
    expect(q.get("scope")).toBe("openid email profile");
    expect(q.get("code_challenge_method")).toBe("S256");
    expect(q.get("code_challenge")).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(q.get("state")).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(q.get("nonce")).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const cookie = res.headers.getSetCookie().find((c) => c.startsWith(`${SSO_STATE_COOKIE}=`))!;
    expect(cookie).toBeDefined();
    expect(cookie).toMatch(/; Max-Age=600/);
    expect(cookie).toMatch(/; Path=\//);
    expect(cookie).toMatch(/; HttpOnly/);
    expect(cookie).toMatch(/; Secure/);
    expect(cookie).toMatch(/; SameSite=Lax/);
    expect(cookie).not.toMatch(/Domain=/i);
    const value = cookie.slice(SSO_STATE_COOKIE.length + 1, cookie.indexOf(";"));
    // Encrypted: neither the state, the nonce nor the return path is readable.
    expect(value).not.toContain(q.get("state")!);
    expect(value).not.toContain(q.get("nonce")!);
    expect(value).not.toContain("reports");
    const opened = await openSsoState(value, sessionKeys(), new Date());
    expect(opened.ok && opened.value).toMatchObject({
      provider: "oidc",
      issuer: idp.issuer,
      state: q.get("state"),
      nonce: q.get("nonce"),
      returnTo: "/reports?tab=2",
    });
  });

  it("serves the same flow under the /ui/sso/login alias", async () => {
    const res = await makeApp().request(`${APP}/ui/sso/login?provider=oidc`, {}, ssoEnv());
    expect(res.status).toBe(302);
    expect(new URL(res.headers.get("location")!).origin).toBe(idp.issuer);
  });

  it("refuses a provider that is not configured or not allowed with 403, and an unknown name with 400", async () => {
    const app = makeApp();
    const google = await app.request(loginUrl({ provider: "google" }), {}, ssoEnv());
    expect(google.status).toBe(403);
    const body = (await google.json()) as { error: { code: string; message: string; requestId: string } };
    expect(body.error.code).toBe("forbidden");
    expect(body.error.requestId).toBeTruthy();
    expect(google.headers.getSetCookie().some((c) => c.startsWith(SSO_STATE_COOKIE))).toBe(false);

    // Google configured, but only Google allowed: the generic provider is refused.
    const onlyGoogle = ssoEnv({
      GOOGLE_CLIENT_ID: "google-client",
      GOOGLE_CLIENT_SECRET: "google-secret",
      SSO_ALLOWED_PROVIDERS: "google",
    });
    expect((await app.request(loginUrl(), {}, onlyGoogle)).status).toBe(403);

    const unknown = await app.request(loginUrl({ provider: "github" }), {}, ssoEnv());
    expect(unknown.status).toBe(400);
    expect(((await unknown.json()) as { error: { code: string } }).error.code).toBe("validation_failed");
  });

  it("answers 503 misconfigured when the SSO settings are invalid, naming no value", async () => {
    const res = await makeApp().request(loginUrl(), {}, ssoEnv({ OIDC_CLIENT_SECRET: undefined }));
    expect(res.status).toBe(503);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("misconfigured");
    expect(body.error.message).not.toContain(CLIENT.client_id);
  });

  it("refuses a provider whose discovery document names another issuer (503, nothing cached)", async () => {
    // Same server, reached as "localhost": its metadata says 127.0.0.1, so it is not the configured issuer.
    const app = makeApp();
    const aliased = ssoEnv({ OIDC_ISSUER: `http://localhost:${idp.port}` });
    const res = await app.request(loginUrl(), {}, aliased);
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("unavailable");

    idp.rewriteDiscovery((m) => ({ ...m, issuer: other.issuer }));
    const rewritten = await makeApp().request(loginUrl(), {}, ssoEnv());
    expect(rewritten.status).toBe(503);
  });

  it("caches discovery per isolate", async () => {
    const app = makeApp();
    const env = ssoEnv();
    const before = idp.discoveryRequests;
    for (let i = 0; i < 3; i++) expect((await app.request(loginUrl(), {}, env)).status).toBe(302);
    expect(idp.discoveryRequests - before).toBe(1);
  });
});

describe("GET /auth/sso/callback: sign-in and provisioning", () => {
  it("provisions a clinician in the tenant that owns the email domain, opens the session in the MFA stage, and audits it", async () => {
    const alice = account("alice", "harbor.example", { name: "Alice Harbor" });
    const since = await headSeq(tenants.harbor);
    const { location, sessionToken, stateCookie } = await ssoLogin(alice, { returnTo: "/reports?tab=2" });

    expect(location?.href).toBe(`${APP}/reports?tab=2`);
    expect(stateCookie).toBeUndefined();
    expect(sessionToken).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const [user, ...more] = await usersWithEmail(alice.email!);
    expect(more).toHaveLength(0);
    expect(user).toMatchObject({
      tenant_id: tenants.harbor,
      role: "clinician",
      password_hash: null,
      display_name: "Alice Harbor",
    });
    const identities = await t.owner<
      { tenant_id: string; user_id: string; provider: string; issuer: string }[]
    >`
      select tenant_id, user_id, provider, issuer from medchr.sso_identities where subject = ${alice.sub}`;
    expect(identities).toEqual([
      { tenant_id: tenants.harbor, user_id: user!.id, provider: "oidc", issuer: idp.issuer },
    ]);
    // Harbor requires MFA and Alice has no factor yet: the session can only enrol.
    expect(await sessionFor(sessionToken!)).toEqual({
      user_id: user!.id,
      tenant_id: tenants.harbor,
      stage: "mfa_enrollment",
      method: "sso",
    });

    const events = await auditRows(tenants.harbor, since);
    expect(events.map((e) => e.action)).toEqual(["user.create", "session.create"]);
    expect(events[0]).toMatchObject({
      outcome: "SUCCESS",
      actor_type: "system",
      actor_id: "auth.sso",
      resource_id: user!.id,
      ip: CLIENT_IP,
      user_agent: USER_AGENT,
      details: { role: "clinician", createdBy: "sso" },
    });
    expect(events[1]).toMatchObject({
      actor_type: "user",
      actor_id: user!.id,
      details: { method: "sso", mfa: false },
    });
    // No email or name in any audit row.
    expect(JSON.stringify(events)).not.toContain(alice.email);
    expect(JSON.stringify(events)).not.toContain("Alice Harbor");
    expect((await verifyAuditChain(t.db, auditKeys(), tenants.harbor)).ok).toBe(true);
  });

  it("signs the same identity in again without creating anything new; a user with a factor gets mfa_pending", async () => {
    const bob = account("bob", "harbor.example");
    const first = await ssoLogin(bob);
    const [user] = await usersWithEmail(bob.email!);
    expect(first.location?.href).toBe(`${APP}/`);

    // Give Bob a TOTP factor (its content does not matter for the stage decision).
    await t.owner`insert into medchr.mfa_factors (tenant_id, user_id, secret_ciphertext, key_id)
      values (${tenants.harbor}, ${user!.id}, 'v1.k.x.y', 'k')`;
    const since = await headSeq(tenants.harbor);
    const second = await ssoLogin(bob);
    expect(second.sessionToken).toBeDefined();
    expect(second.sessionToken).not.toBe(first.sessionToken);
    expect(await usersWithEmail(bob.email!)).toHaveLength(1);
    expect(await sessionFor(second.sessionToken!)).toMatchObject({ user_id: user!.id, stage: "mfa_pending" });
    const [identity] = await t.owner<{ n: number; last_login_at: Date | null }[]>`
      select count(*) over ()::int as n, last_login_at from medchr.sso_identities where subject = ${bob.sub}`;
    expect(identity).toMatchObject({ n: 1 });
    expect(identity!.last_login_at).not.toBeNull();
    expect((await auditRows(tenants.harbor, since)).map((e) => e.action)).toEqual(["session.create"]);
  });

  it("opens an active session (and audits user.login) where the tenant does not require MFA", async () => {
    const carol = account("carol", "lake.example");
    const since = await headSeq(tenants.lake);
    const { sessionToken } = await ssoLogin(carol);
    const [user] = await usersWithEmail(carol.email!);
    expect(await sessionFor(sessionToken!)).toMatchObject({
      user_id: user!.id,
      stage: "active",
      method: "sso",
    });
    const events = await auditRows(tenants.lake, since);
    expect(events.map((e) => e.action)).toEqual(["user.create", "session.create", "user.login"]);
    expect(events[2]).toMatchObject({ resource_id: user!.id, details: { method: "sso", mfa: false } });
  });

  it("two first logins of the same person at once end with one account, both signed in", async () => {
    const uma = account("uma", "lake.example");
    const a = await loginUntilCallback(uma);
    const b = await loginUntilCallback(uma);
    const [resA, resB] = await Promise.all([
      a.browser.request(a.callbackUrl),
      b.browser.request(b.callbackUrl),
    ]);
    expect([resA.headers.get("location"), resB.headers.get("location")]).toEqual(["/", "/"]);
    const users = await usersWithEmail(uma.email!);
    expect(users).toHaveLength(1);
    const sessions = await Promise.all(
      [a.browser, b.browser].map((br) => sessionFor(br.cookie(APP, SESSION_COOKIE)!)),
    );
    expect(sessions.map((s) => s?.user_id)).toEqual([users[0]!.id, users[0]!.id]);
    const [creates] = await t.owner<{ n: number }[]>`
      select count(*)::int as n from medchr.audit_events
      where action = 'user.create' and resource_id = ${users[0]!.id}`;
    expect(creates!.n).toBe(1);
  });

  it("ignores a return path that would leave the site", async () => {
    for (const returnTo of [
      "//evil.example/x",
      "https://evil.example/",
      "/\\evil.example",
      "javascript:alert(1)",
    ]) {
      const { location, sessionToken } = await ssoLogin(account("dan", "lake.example"), { returnTo });
      expect(sessionToken).toBeDefined();
      expect(location?.href).toBe(`${APP}/`);
    }
  });
});

describe("GET /auth/sso/callback: token validation", () => {
  async function expectRefused(acct: OidcTestAccount, reason: string) {
    const { location, sessionToken, stateCookie } = await ssoLogin(acct);
    expect(ssoError(location)).toBe(reason);
    expect(sessionToken).toBeUndefined();
    expect(stateCookie).toBeUndefined();
    expect(await usersWithEmail(acct.email!)).toHaveLength(0);
  }

  it("refuses an ID token whose nonce is not this browser's", async () => {
    idp.tamperIdToken((claims) => ({ ...claims, nonce: "A".repeat(43) }));
    await expectRefused(account("eve", "harbor.example"), "token_invalid");
    expect(lastRejection()?.detail).toBe("OAUTH_JWT_CLAIM_COMPARISON_FAILED");
  });

  it("refuses an ID token signed with a key the provider does not publish (claims untouched)", async () => {
    idp.tamperIdToken((claims) => claims, { signWith: "foreign" });
    await expectRefused(account("eve", "harbor.example"), "token_invalid");
    expect(lastRejection()?.detail).toBe("OAUTH_INVALID_RESPONSE");
    // The same token signed with the provider's key passes: the signature was the only fault.
    idp.tamperIdToken((claims) => claims, { signWith: "provider" });
    expect((await ssoLogin(account("eve", "harbor.example"))).sessionToken).toBeDefined();
  });

  it("refuses an ID token for another audience, an expired one, and one naming another issuer", async () => {
    idp.tamperIdToken((claims) => ({ ...claims, aud: "someone-else" }));
    await expectRefused(account("eve", "harbor.example"), "token_invalid");
    expect(lastRejection()?.detail).toBe("OAUTH_JWT_CLAIM_COMPARISON_FAILED");
    const now = Math.floor(Date.now() / 1000);
    idp.tamperIdToken((claims) => ({ ...claims, iat: now - 7200, exp: now - 3600 }));
    await expectRefused(account("eve", "harbor.example"), "token_invalid");
    expect(lastRejection()?.detail).toBe("OAUTH_JWT_TIMESTAMP_CHECK_FAILED");
    idp.tamperIdToken((claims) => ({ ...claims, iss: other.issuer }));
    await expectRefused(account("eve", "harbor.example"), "token_invalid");
    expect(lastRejection()?.detail).toBe("OAUTH_JWT_CLAIM_COMPARISON_FAILED");
  });

  it("refuses codes and tokens from another provider (mix-up): by the iss response parameter, and by the ID token issuer", async () => {
    // Discovery of the configured issuer is poisoned to send the whole flow to `other`,
    // which issues genuine, validly signed tokens of its own issuer.
    idp.rewriteDiscovery((m) => ({
      ...m,
      authorization_endpoint: `${other.issuer}/auth`,
      token_endpoint: `${other.issuer}/token`,
      jwks_uri: `${other.issuer}/jwks`,
    }));
    const mallory = account("mallory", "harbor.example");
    other.setAccount(mallory);
    other.signInAs(mallory.sub);
    const otherTokens = other.tokenRequests;
    await expectRefused(mallory, "token_invalid");
    // Refused on the callback's iss parameter, before any code exchange.
    expect(lastRejection()?.detail).toBe("OAUTH_INVALID_RESPONSE");
    expect(other.tokenRequests).toBe(otherTokens);

    // A provider without RFC 9207 support (no `iss` in the callback): the code is
    // exchanged at `other`, and the issuer of its genuine ID token is what is refused.
    idp.rewriteDiscovery((m) => {
      const { authorization_response_iss_parameter_supported: _, ...rest } = m;
      return {
        ...rest,
        authorization_endpoint: `${other.issuer}/auth`,
        token_endpoint: `${other.issuer}/token`,
        jwks_uri: `${other.issuer}/jwks`,
      };
    });
    const { browser, callbackUrl } = await loginUntilCallback(mallory, newBrowser(), other);
    expect(callbackUrl.searchParams.get("iss")).toBe(other.issuer);
    callbackUrl.searchParams.delete("iss");
    const tokenRequests = other.tokenRequests;
    const res = await browser.request(callbackUrl);
    expect(other.tokenRequests).toBe(tokenRequests + 1);
    expect(ssoError(new URL(res.headers.get("location")!, APP))).toBe("token_invalid");
    expect(lastRejection()?.detail).toBe("OAUTH_JWT_CLAIM_COMPARISON_FAILED");
    expect(browser.cookie(APP, SESSION_COOKIE)).toBeUndefined();
    expect(await usersWithEmail(mallory.email!)).toHaveLength(0);
  });

  it("reports a refusal at the provider (no account chosen) as provider_error", async () => {
    idp.signInAs("nobody");
    const browser = newBrowser();
    const navigation = await browser.navigate(loginUrl());
    expect(ssoError(navigation.location)).toBe("provider_error");
    expect(browser.cookie(APP, SESSION_COOKIE)).toBeUndefined();
  });
});

describe("GET /auth/sso/callback: state", () => {
  it("refuses a callback without the state cookie", async () => {
    const { browser, callbackUrl } = await loginUntilCallback(account("frank", "harbor.example"));
    browser.setCookie(APP, SSO_STATE_COOKIE, null);
    const res = await browser.request(callbackUrl);
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe("/?sso_error=state_invalid");
    expect(lastRejection()).toEqual({ reason: "state_invalid", detail: "missing" });
    expect(browser.cookie(APP, SESSION_COOKIE)).toBeUndefined();
  });

  it("refuses a callback whose state belongs to another login attempt of the same browser", async () => {
    const frank = account("frank", "harbor.example");
    const browser = newBrowser();
    const first = await loginUntilCallback(frank, browser);
    // A second attempt replaces the cookie; the first attempt's callback no longer matches.
    await loginUntilCallback(frank, browser);
    const tokenRequests = idp.tokenRequests;
    const res = await browser.request(first.callbackUrl);
    expect(res.headers.get("location")).toBe("/?sso_error=state_invalid");
    expect(idp.tokenRequests).toBe(tokenRequests);
    expect(await usersWithEmail(frank.email!)).toHaveLength(0);
  });

  it("refuses a tampered state cookie", async () => {
    const { browser, callbackUrl } = await loginUntilCallback(account("gina", "harbor.example"));
    const sealed = browser.cookie(APP, SSO_STATE_COOKIE)!;
    // A character in the middle: every one of its 6 bits is data. (The last base64url character
    // may carry unused bits, so changing it can leave the decoded bytes as they were.)
    const at = Math.floor(sealed.length / 2);
    const swapped = sealed[at] === "A" ? "B" : "A";
    browser.setCookie(APP, SSO_STATE_COOKIE, `${sealed.slice(0, at)}${swapped}${sealed.slice(at + 1)}`);
    const res = await browser.request(callbackUrl);
    expect(res.headers.get("location")).toBe("/?sso_error=state_invalid");
    expect(lastRejection()?.detail).toBe("authentication_failed");
  });

  it("clears the state cookie on use, and a replayed callback is refused with or without the old cookie", async () => {
    const hank = account("hank", "harbor.example");
    const { browser, callbackUrl } = await loginUntilCallback(hank);
    const sealed = browser.cookie(APP, SSO_STATE_COOKIE)!;
    const done = await browser.request(callbackUrl);
    expect(done.headers.get("location")).toBe("/");
    expect(browser.cookie(APP, SSO_STATE_COOKIE)).toBeUndefined();

    const replayed = await browser.request(callbackUrl);
    expect(replayed.headers.get("location")).toBe("/?sso_error=state_invalid");

    // An attacker who kept the cookie: the code is single-use at the provider.
    const attacker = newBrowser();
    attacker.setCookie(APP, SSO_STATE_COOKIE, sealed);
    const stolen = await attacker.request(callbackUrl);
    expect(stolen.headers.get("location")).toBe("/?sso_error=token_invalid");
    expect(lastRejection()?.detail).toBe("OAUTH_RESPONSE_BODY_ERROR");
    expect(attacker.cookie(APP, SESSION_COOKIE)).toBeUndefined();
  });

  it("binds the ID token to the nonce and the code to the PKCE verifier kept in the state", async () => {
    const checks = { nonce: "OAUTH_JWT_CLAIM_COMPARISON_FAILED", codeVerifier: "OAUTH_RESPONSE_BODY_ERROR" };
    for (const field of ["nonce", "codeVerifier"] as const) {
      const ivy = account("ivy", "harbor.example");
      const { browser, callbackUrl } = await loginUntilCallback(ivy);
      const opened = await openSsoState(browser.cookie(APP, SSO_STATE_COOKIE), sessionKeys(), new Date());
      expect(opened.ok).toBe(true);
      const swapped: SsoState = { ...(opened.ok ? opened.value : ({} as SsoState)), [field]: "Z".repeat(43) };
      browser.setCookie(APP, SSO_STATE_COOKIE, await sealSsoState(swapped, sessionKeys()));
      const res = await browser.request(callbackUrl);
      expect(res.headers.get("location")).toBe("/?sso_error=token_invalid");
      expect(lastRejection()?.detail).toBe(checks[field]);
      expect(await usersWithEmail(ivy.email!)).toHaveLength(0);
    }
  });

  it("refuses an expired state, and one sealed for a provider whose issuer has since changed", async () => {
    const jack = account("jack", "harbor.example");
    const { browser, callbackUrl } = await loginUntilCallback(jack);
    const opened = await openSsoState(browser.cookie(APP, SSO_STATE_COOKIE), sessionKeys(), new Date());
    const state = opened.ok ? opened.value : ({} as SsoState);
    browser.setCookie(
      APP,
      SSO_STATE_COOKIE,
      await sealSsoState({ ...state, issuedAt: Date.now() - SSO_STATE_TTL_MS - 1000 }, sessionKeys()),
    );
    expect((await browser.request(callbackUrl)).headers.get("location")).toBe("/?sso_error=state_invalid");
    expect(lastRejection()?.detail).toBe("expired");

    browser.setCookie(
      APP,
      SSO_STATE_COOKIE,
      await sealSsoState({ ...state, issuer: other.issuer }, sessionKeys()),
    );
    expect((await browser.request(callbackUrl)).headers.get("location")).toBe("/?sso_error=state_invalid");
    expect(lastRejection()?.detail).toBe("issuer_changed");
  });

  it("refuses a callback for a provider that was disallowed after the login started", async () => {
    const kim = account("kim", "harbor.example");
    const { callbackUrl, browser } = await loginUntilCallback(kim);
    const app = makeApp();
    const env = ssoEnv({
      GOOGLE_CLIENT_ID: "google-client",
      GOOGLE_CLIENT_SECRET: "google-secret",
      SSO_ALLOWED_PROVIDERS: "google",
    });
    const res = await app.request(
      callbackUrl,
      { headers: { cookie: `${SSO_STATE_COOKIE}=${browser.cookie(APP, SSO_STATE_COOKIE)}` } },
      env,
    );
    expect(res.headers.get("location")).toBe("/?sso_error=provider_not_allowed");
  });
});

describe("GET /auth/sso/callback: account policy", () => {
  it("refuses an unverified email", async () => {
    const leo = account("leo", "harbor.example", { email_verified: false });
    const since = await headSeq(tenants.harbor);
    const { location, sessionToken } = await ssoLogin(leo);
    expect(ssoError(location)).toBe("email_unverified");
    expect(sessionToken).toBeUndefined();
    expect(await usersWithEmail(leo.email!)).toHaveLength(0);
    // No tenant is trusted from an unverified claim: nothing is written to any audit chain.
    expect(await auditRows(tenants.harbor, since)).toHaveLength(0);
  });

  it("accepts an unverified email only when the deployment (not strict) turns the check off", async () => {
    const mia = account("mia", "lake.example", { email_verified: false });
    const { sessionToken } = await ssoLogin(mia, { env: ssoEnv({ SSO_REQUIRE_VERIFIED_EMAIL: "false" }) });
    expect(sessionToken).toBeDefined();
  });

  it("refuses a domain outside SSO_ALLOWED_DOMAINS even when a tenant owns it", async () => {
    const ned = account("ned", "harbor.example");
    const { location } = await ssoLogin(ned, { env: ssoEnv({ SSO_ALLOWED_DOMAINS: "lake.example" }) });
    expect(ssoError(location)).toBe("domain_not_allowed");
    expect(await usersWithEmail(ned.email!)).toHaveLength(0);
  });

  it("refuses a domain no active tenant owns, or that two tenants claim", async () => {
    for (const domain of ["nowhere.example", "shared.example", "closed.example"]) {
      const acct = account("oli", domain);
      const { location } = await ssoLogin(acct);
      expect(ssoError(location)).toBe("no_tenant");
      expect(await usersWithEmail(acct.email!)).toHaveLength(0);
    }
  });

  it("never links an existing password account by email; an admin link makes SSO sign that account in", async () => {
    const email = "pat@harbor.example";
    const [pat] = await t.owner<{ id: string }[]>`
      insert into medchr.users (tenant_id, email, display_name, role, password_hash)
      values (${tenants.harbor}, ${email}, 'Pat', 'admin', '$2b$12$abcdefghijklmnopqrstuuN5ZK0dWcZ8ZJXz4mC6qxbUOkYpWc6/e')
      returning id`;
    const patAtIdp: OidcTestAccount = { sub: "sub-pat", email, email_verified: true, name: "Someone Else" };
    const since = await headSeq(tenants.harbor);
    const refused = await ssoLogin(patAtIdp);
    expect(ssoError(refused.location)).toBe("account_exists");
    expect(refused.sessionToken).toBeUndefined();
    expect(await t.owner`select 1 from medchr.sso_identities where subject = 'sub-pat'`).toHaveLength(0);
    const events = await auditRows(tenants.harbor, since);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      action: "user.login_failed",
      outcome: "DENIED",
      actor_type: "anonymous",
      resource_id: null,
      ip: CLIENT_IP,
      details: { method: "sso", reason: "sso_rejected" },
    });

    // The admin path.
    const linked = await t.db.withTenant({ tenantId: tenants.harbor, requestId: "test-link" }, (tx) =>
      linkSsoIdentity(tx, { userId: pat!.id, provider: "oidc", issuer: idp.issuer, subject: "sub-pat" }),
    );
    expect(linked).toMatchObject({ ok: true, value: { tenantId: tenants.harbor } });
    const again = await ssoLogin(patAtIdp);
    expect(again.location?.href).toBe(`${APP}/`);
    expect(await sessionFor(again.sessionToken!)).toMatchObject({ user_id: pat!.id, method: "sso" });
    const [after] = await usersWithEmail(email);
    // The account keeps its password, role and name.
    expect(after).toMatchObject({ id: pat!.id, role: "admin", display_name: "Pat" });
    expect(after!.password_hash).not.toBeNull();
  });

  it("linkSsoIdentity refuses an identity linked elsewhere, a user of another tenant, and bad input", async () => {
    const [quinn] = await t.owner<{ id: string }[]>`
      insert into medchr.users (tenant_id, email, display_name, role)
      values (${tenants.lake}, 'quinn@lake.example', 'Quinn', 'clinician') returning id`;
    const [harborUser] = await t.owner<{ id: string }[]>`
      select id from medchr.users where tenant_id = ${tenants.harbor} limit 1`;
    const inLake = <T>(fn: Parameters<typeof t.db.withTenant<T>>[1]) =>
      t.db.withTenant({ tenantId: tenants.lake, requestId: "test-link" }, fn);

    const first = await inLake((tx) =>
      linkSsoIdentity(tx, { userId: quinn!.id, provider: "oidc", issuer: idp.issuer, subject: "sub-quinn" }),
    );
    expect(first.ok).toBe(true);
    const duplicate = await inLake(async (tx) => {
      const result = await linkSsoIdentity(tx, {
        userId: quinn!.id,
        provider: "oidc",
        issuer: idp.issuer,
        subject: "sub-quinn",
      });
      // The transaction is still usable after the refused insert.
      const [row] = await tx<{ n: number }[]>`select count(*)::int as n from medchr.sso_identities`;
      return { result, n: row!.n };
    });
    expect(duplicate.result).toMatchObject({ ok: false, error: { code: "conflict" } });
    expect(duplicate.n).toBeGreaterThan(0);
    const foreign = await inLake((tx) =>
      linkSsoIdentity(tx, { userId: harborUser!.id, provider: "oidc", issuer: idp.issuer, subject: "sub-x" }),
    );
    expect(foreign).toMatchObject({ ok: false, error: { code: "not_found" } });
    const bad = await inLake((tx) =>
      linkSsoIdentity(tx, { userId: "not-a-uuid", provider: "oidc", issuer: idp.issuer, subject: "" }),
    );
    expect(bad).toMatchObject({ ok: false, error: { code: "invalid_input" } });
  });

  it("refuses a linked user who is disabled, auditing against that user", async () => {
    const rob = account("rob", "harbor.example");
    await ssoLogin(rob);
    const [user] = await usersWithEmail(rob.email!);
    await t.owner`update medchr.users set status = 'disabled' where id = ${user!.id}`;
    const since = await headSeq(tenants.harbor);
    const { location, sessionToken } = await ssoLogin(rob);
    expect(ssoError(location)).toBe("account_disabled");
    expect(sessionToken).toBeUndefined();
    const events = await auditRows(tenants.harbor, since);
    expect(events).toEqual([
      expect.objectContaining({
        action: "user.login_failed",
        resource_id: user!.id,
        details: { method: "sso", reason: "sso_rejected" },
      }),
    ]);
  });

  it("refuses a linked identity that now asserts another clinic's domain, auditing in the user's tenant", async () => {
    const sam = account("sam", "ridge.example");
    await ssoLogin(sam);
    const [user] = await usersWithEmail(sam.email!);
    const since = await headSeq(tenants.ridge);
    const moved = { ...sam, email: `sam-moved@lake.example` };
    const { location, sessionToken } = await ssoLogin(moved);
    expect(ssoError(location)).toBe("tenant_mismatch");
    expect(sessionToken).toBeUndefined();
    expect(await auditRows(tenants.ridge, since)).toEqual([
      expect.objectContaining({ action: "user.login_failed", resource_id: user!.id }),
    ]);
    // A policy refusal for a linked identity is audited in its tenant too.
    const unverified = { ...sam, email_verified: false };
    expect(ssoError((await ssoLogin(unverified)).location)).toBe("email_unverified");
    expect((await auditRows(tenants.ridge, since)).map((e) => e.action)).toEqual([
      "user.login_failed",
      "user.login_failed",
    ]);
  });

  it("keeps emails and names out of the log lines of refusals", async () => {
    const tom = account("tom", "harbor.example", { email_verified: false, name: "Tom Secretname" });
    await ssoLogin(tom);
    await ssoLogin(account("tom", "nowhere.example"));
    expect(rejections.map((r) => r.reason)).toEqual(["email_unverified", "no_tenant"]);
    for (const line of logLines) expect(line).not.toMatch(/@|Secretname|tom\d/);
  });
});
