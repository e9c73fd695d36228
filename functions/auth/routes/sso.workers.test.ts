import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { DiscoveryCache } from "../../../shared/auth/sso/oidc-client";
import { openSsoState, SSO_STATE_COOKIE, sealSsoState } from "../../../shared/auth/sso/sso-state-cookie";
import { parseKeyRing } from "../../../shared/config/key-ring";
import { ok } from "../../../shared/core/result";
import { createFunctionApp } from "../../../shared/http/create-app";
import { testEnv } from "../../../test/helpers/test-env";
import { registerSsoRoutes } from "./sso";

/**
 * The SSO code in the runtime it ships to (workerd): WebCrypto HKDF + AES-GCM for the
 * state cookie, oauth4webapi's PKCE, Hono's cookie handling. The provider round trip
 * itself is covered against a real OpenID Provider in sso.db.test.ts (Node); here the
 * discovery document is given, since no provider runs inside workerd.
 */
const ISSUER = "https://idp.example.org";
const bindings = testEnv((env as unknown as { TEST_DATABASE_URL: string }).TEST_DATABASE_URL, {
  PUBLIC_ORIGIN: "https://medchr.test",
  OIDC_ISSUER: ISSUER,
  OIDC_CLIENT_ID: "medchr",
  OIDC_CLIENT_SECRET: "client-secret",
});
const sessionKeys = parseKeyRing("SESSION_KEYS", bindings.SESSION_KEYS as string, { strict: false }).ring!;

const discovery: DiscoveryCache = {
  async metadata() {
    return ok({
      issuer: ISSUER,
      authorization_endpoint: `${ISSUER}/authorize`,
      token_endpoint: `${ISSUER}/token`,
      jwks_uri: `${ISSUER}/jwks`,
    });
  },
};

function app() {
  const a = createFunctionApp("auth", { usesDatabase: true });
  registerSsoRoutes(a, { discovery });
  return a;
}

describe("SSO in workerd", () => {
  it("starts a login: 302 to the provider with PKCE S256, state sealed in the __Host- cookie", async () => {
    const res = await app().request(
      "https://medchr.test/auth/sso/login?provider=oidc&returnTo=/x",
      {},
      bindings,
    );
    expect(res.status).toBe(302);
    const to = new URL(res.headers.get("location")!);
    expect(`${to.origin}${to.pathname}`).toBe(`${ISSUER}/authorize`);
    expect(to.searchParams.get("code_challenge_method")).toBe("S256");
    expect(to.searchParams.get("redirect_uri")).toBe("https://medchr.test/auth/sso/callback");
    const cookie = res.headers.getSetCookie().find((c) => c.startsWith(`${SSO_STATE_COOKIE}=`))!;
    const value = cookie.slice(SSO_STATE_COOKIE.length + 1, cookie.indexOf(";"));
    const opened = await openSsoState(value, sessionKeys, new Date());
    expect(opened.ok && opened.value).toMatchObject({
      state: to.searchParams.get("state"),
      nonce: to.searchParams.get("nonce"),
      returnTo: "/x",
    });
  });

  it("refuses a callback without state, clearing the cookie", async () => {
    const res = await app().request("https://medchr.test/auth/sso/callback?code=x&state=y", {}, bindings);
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe("/?sso_error=state_invalid");
    expect(res.headers.getSetCookie().some((c) => c.startsWith(`${SSO_STATE_COOKIE}=;`))).toBe(true);
  });

  it("seals and opens state with WebCrypto HKDF + AES-256-GCM, refusing tampering", async () => {
    const state = {
      provider: "oidc" as const,
      issuer: ISSUER,
      state: "s".repeat(43),
      nonce: "n".repeat(43),
      codeVerifier: "v".repeat(43),
      returnTo: "/",
      issuedAt: Date.now(),
    };
    const sealed = await sealSsoState(state, sessionKeys);
    expect(await openSsoState(sealed, sessionKeys, new Date())).toEqual({ ok: true, value: state });
    const tampered = `${sealed.slice(0, -2)}${sealed.endsWith("AA") ? "BB" : "AA"}`;
    expect((await openSsoState(tampered, sessionKeys, new Date())).ok).toBe(false);
  });
});
