import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MFA_MAX_FAILURES } from "../../shared/auth/mfa/mfa-policy";
import { decodeBase32, generateTotpCode, totpStepAt } from "../../shared/auth/mfa/totp";
import { SESSION_COOKIE } from "../../shared/auth/session-token";
import { createUser, type TestUser } from "../../test/helpers/identity";
import { createTenant, startTestDatabase, type TestDatabase } from "../../test/helpers/test-database";
import { testEnv } from "../../test/helpers/test-env";
import { buildAuthApp } from "./app";

let database: TestDatabase;
let env: Record<string, unknown>;
let tenant: string;
const app = buildAuthApp();
let ipCounter = 0;

beforeAll(async () => {
  database = await startTestDatabase();
  env = testEnv(database.url);
  tenant = await createTenant(database.owner, "mfa-routes");
});
afterAll(async () => {
  await database?.stop();
});

/** A browser: keeps the session cookie and the latest CSRF token, like the web UI. */
class Browser {
  cookie = "";
  csrf = "";
  readonly ip = `192.0.2.${++ipCounter}`;
  async call(method: string, path: string, body?: unknown) {
    const res = await app.request(
      path,
      {
        method,
        headers: {
          "CF-Connecting-IP": this.ip,
          ...(this.cookie ? { Cookie: this.cookie } : {}),
          ...(this.csrf ? { "X-CSRF-Token": this.csrf } : {}),
          ...(body !== undefined ? { "Content-Type": "application/json" } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      },
      env,
    );
    const set = /__Host-medchr_session=([^;]*)/.exec(res.headers.get("Set-Cookie") ?? "");
    if (set) this.cookie = set[1] ? `${SESSION_COOKIE}=${set[1]}` : "";
    const json = (await res.json()) as Record<string, unknown>;
    if (typeof json.csrfToken === "string") this.csrf = json.csrfToken;
    return { status: res.status, json, headers: res.headers };
  }
}

async function codeFor(secret: string, offsetSteps = 0) {
  return generateTotpCode(decodeBase32(secret)!, totpStepAt(new Date()) + offsetSteps);
}
async function audit(userId: string) {
  return database.owner<{ action: string; outcome: string; details: Record<string, unknown> }[]>`
    select action, outcome, details from medchr.audit_events where tenant_id = ${tenant} and resource_id = ${userId} order by seq`;
}

/** Enrols `user` through the routes; returns the secret and recovery codes. */
async function enrol(user: TestUser) {
  const browser = new Browser();
  const login = await browser.call("POST", "/auth/login", { email: user.email, password: user.password });
  expect(login.json.stage).toBe("mfa_enrollment");
  const setup = await browser.call("POST", "/auth/mfa/setup", { password: user.password });
  expect(setup.status).toBe(200);
  const secret = setup.json.secret as string;
  const confirm = await browser.call("POST", "/auth/mfa/setup/confirm", {
    setupToken: setup.json.setupToken,
    code: await codeFor(secret),
  });
  expect(confirm.status).toBe(200);
  return { browser, secret, recoveryCodes: confirm.json.recoveryCodes as string[] };
}

describe("MFA enrolment", () => {
  it("a must-enrol session can do nothing else; setup needs the password; confirm rotates and returns 10 codes", async () => {
    const user = await createUser(database.owner, tenant);
    const browser = new Browser();
    await browser.call("POST", "/auth/login", { email: user.email, password: user.password });
    expect((await browser.call("GET", "/auth/sessions")).status).toBe(403);
    expect((await browser.call("POST", "/auth/mfa/setup", { password: "wrong password" })).status).toBe(401);
    const setup = await browser.call("POST", "/auth/mfa/setup", { password: user.password });
    expect(setup.status).toBe(200);
    expect(setup.json.otpauthUri).toMatch(/^otpauth:\/\/totp\//);
    expect(setup.headers.get("Set-Cookie")).toBeNull();
    const before = browser.cookie;
    const wrong = await browser.call("POST", "/auth/mfa/setup/confirm", {
      setupToken: setup.json.setupToken,
      code: "000000",
    });
    expect(wrong.status).toBe(401);
    const confirm = await browser.call("POST", "/auth/mfa/setup/confirm", {
      setupToken: setup.json.setupToken,
      code: await codeFor(setup.json.secret as string),
    });
    expect(confirm.status).toBe(200);
    expect(confirm.json.stage).toBe("active");
    expect(confirm.json.recoveryCodes).toHaveLength(10);
    expect(browser.cookie).not.toBe(before);
    expect((await browser.call("GET", "/auth/sessions")).status).toBe(200);
    const stale = await app.request("/auth/session", { headers: { Cookie: before } }, env);
    expect(stale.status).toBe(401);
    const actions = (await audit(user.id)).map((e) => e.action);
    expect(actions).toEqual(
      expect.arrayContaining(["mfa.enroll", "mfa.recovery_codes_generate", "user.login"]),
    );
  });
});

describe("two-step login, replay, recovery codes, lockout, step-up", () => {
  it("password gives a partial session that can only submit a code; the code completes sign-in", async () => {
    const user = await createUser(database.owner, tenant);
    const { secret } = await enrol(user);
    const browser = new Browser();
    const login = await browser.call("POST", "/auth/login", { email: user.email, password: user.password });
    expect(login.json.stage).toBe("mfa_pending");
    expect((await browser.call("GET", "/auth/sessions")).status).toBe(403);
    expect((await browser.call("POST", "/auth/mfa/setup", { password: user.password })).status).toBe(403);
    const partial = browser.cookie;
    // The confirming code's step is spent: the next step's code signs in (one step of drift).
    const verify = await browser.call("POST", "/auth/mfa/verify", { code: await codeFor(secret, 1) });
    expect(verify.status).toBe(200);
    expect(browser.cookie).not.toBe(partial);
    expect((await browser.call("GET", "/auth/sessions")).status).toBe(200);
  });

  it("refuses a replayed time step and audits it", async () => {
    const user = await createUser(database.owner, tenant);
    const { secret } = await enrol(user);
    const first = new Browser();
    await first.call("POST", "/auth/login", { email: user.email, password: user.password });
    const code = await codeFor(secret, 1);
    expect((await first.call("POST", "/auth/mfa/verify", { code })).status).toBe(200);
    const second = new Browser();
    await second.call("POST", "/auth/login", { email: user.email, password: user.password });
    const replay = await second.call("POST", "/auth/mfa/verify", { code });
    expect(replay.status).toBe(401);
    const replays = (await audit(user.id)).filter(
      (e) => e.action === "mfa.verify" && e.details.replay === true,
    );
    expect(replays.map((e) => e.outcome)).toEqual(["DENIED"]);
  });

  it("accepts each recovery code once", async () => {
    const user = await createUser(database.owner, tenant);
    const { recoveryCodes } = await enrol(user);
    const a = new Browser();
    await a.call("POST", "/auth/login", { email: user.email, password: user.password });
    expect((await a.call("POST", "/auth/mfa/verify", { code: recoveryCodes[0] })).status).toBe(200);
    const b = new Browser();
    await b.call("POST", "/auth/login", { email: user.email, password: user.password });
    expect((await b.call("POST", "/auth/mfa/verify", { code: recoveryCodes[0] })).status).toBe(401);
    expect((await b.call("POST", "/auth/mfa/verify", { code: recoveryCodes[1]!.toLowerCase() })).status).toBe(
      200,
    );
  });

  it("locks the login flow after 5 wrong codes with 429 + Retry-After, even for a right code", async () => {
    const user = await createUser(database.owner, tenant);
    const { secret } = await enrol(user);
    const browser = new Browser();
    await browser.call("POST", "/auth/login", { email: user.email, password: user.password });
    let last: Awaited<ReturnType<Browser["call"]>> | undefined;
    for (let i = 0; i < MFA_MAX_FAILURES; i++)
      last = await browser.call("POST", "/auth/mfa/verify", { code: "123456" });
    expect(last!.status).toBe(429);
    expect(Number(last!.headers.get("Retry-After"))).toBeGreaterThan(200);
    expect((await browser.call("POST", "/auth/mfa/verify", { code: await codeFor(secret, 1) })).status).toBe(
      429,
    );
    expect((await audit(user.id)).map((e) => e.action)).toContain("mfa.lockout");
  });

  it("step-up verifies a code, rotates the session and says until when it holds", async () => {
    const user = await createUser(database.owner, tenant);
    const { browser, secret } = await enrol(user);
    const before = browser.cookie;
    const stepUp = await browser.call("POST", "/auth/mfa/step-up", { code: await codeFor(secret, 1) });
    expect(stepUp.status).toBe(200);
    expect(new Date(stepUp.json.stepUpValidUntil as string).getTime()).toBeGreaterThan(
      Date.now() + 14 * 60_000,
    );
    expect(browser.cookie).not.toBe(before);
    const stepUps = (await audit(user.id)).filter(
      (e) => e.action === "mfa.verify" && e.details.stepUp === true,
    );
    expect(stepUps.map((e) => e.outcome)).toEqual(["SUCCESS"]);
  });

  it("replaces recovery codes only with a current code", async () => {
    const user = await createUser(database.owner, tenant);
    const { browser, recoveryCodes } = await enrol(user);
    expect((await browser.call("POST", "/auth/mfa/recovery-codes", { code: "111111" })).status).toBe(401);
    const fresh = await browser.call("POST", "/auth/mfa/recovery-codes", { code: recoveryCodes[2] });
    expect(fresh.status).toBe(200);
    expect(fresh.json.recoveryCodes).toHaveLength(10);
    const other = new Browser();
    await other.call("POST", "/auth/login", { email: user.email, password: user.password });
    expect((await other.call("POST", "/auth/mfa/verify", { code: recoveryCodes[3] })).status).toBe(401);
  });
});
