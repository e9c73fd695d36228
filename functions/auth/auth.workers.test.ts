import { env } from "cloudflare:workers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeBase32, generateTotpCode, totpStepAt } from "../../shared/auth/mfa/totp";
import { connect } from "../../shared/db/database";
import { createUser, type TestUser } from "../../test/helpers/identity";
import { testEnv } from "../../test/helpers/test-env";
import { authApp } from "./app";

/**
 * The sign-in flow inside workerd (runtime-facts: bcryptjs, WebCrypto AES-GCM/HMAC and
 * postgres over TCP must all work there, not only in Node).
 */
const urls = env as unknown as { TEST_DATABASE_URL: string; TEST_OWNER_DATABASE_URL: string };
const owner = connect(urls.TEST_OWNER_DATABASE_URL);
const bindings = testEnv(urls.TEST_DATABASE_URL);
let user: TestUser;

beforeAll(async () => {
  const [row] = await owner<{ id: string }[]>`
    insert into medchr.tenants (name, slug) values ('Workerd Clinic', ${`wd-${Date.now()}`}) returning id`;
  user = await createUser(owner, row!.id, { role: "clinician" });
});
afterAll(() => owner.end());

describe("auth function (workerd)", () => {
  it("signs in with password, enrols TOTP, signs out, and signs in again with a code", async () => {
    let cookie = "";
    let csrf = "";
    const call = async (method: string, path: string, body?: unknown) => {
      const res = await authApp.request(
        path,
        {
          method,
          headers: {
            "CF-Connecting-IP": "192.0.2.10",
            "Content-Type": "application/json",
            ...(cookie ? { Cookie: cookie } : {}),
            ...(csrf ? { "X-CSRF-Token": csrf } : {}),
          },
          ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        },
        bindings,
      );
      const set = /(__Host-medchr_session=[^;]*)/.exec(res.headers.get("Set-Cookie") ?? "");
      if (set) cookie = set[1]!;
      const json = (await res.json()) as Record<string, unknown>;
      if (typeof json.csrfToken === "string") csrf = json.csrfToken;
      return { status: res.status, json };
    };

    const login = await call("POST", "/auth/login", { email: user.email, password: user.password });
    expect(login).toMatchObject({ status: 200, json: { stage: "mfa_enrollment" } });
    const setup = await call("POST", "/auth/mfa/setup", { password: user.password });
    expect(setup.status).toBe(200);
    const secret = decodeBase32(setup.json.secret as string)!;
    const step = totpStepAt(new Date());
    const confirm = await call("POST", "/auth/mfa/setup/confirm", {
      setupToken: setup.json.setupToken,
      code: await generateTotpCode(secret, step),
    });
    expect(confirm.status).toBe(200);
    expect(confirm.json.recoveryCodes).toHaveLength(10);
    expect((await call("GET", "/auth/session")).json).toMatchObject({
      stage: "active",
      mfa: { enrolled: true },
    });
    expect((await call("POST", "/auth/logout", {})).status).toBe(200);

    cookie = "";
    csrf = "";
    expect(
      (await call("POST", "/auth/login", { email: user.email, password: user.password })).json.stage,
    ).toBe("mfa_pending");
    const verify = await call("POST", "/auth/mfa/verify", { code: await generateTotpCode(secret, step + 1) });
    expect(verify.status).toBe(200);
    expect((await call("GET", "/auth/session")).json).toMatchObject({
      stage: "active",
      user: { id: user.id },
    });
  });
});
