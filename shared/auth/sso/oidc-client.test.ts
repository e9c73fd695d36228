import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type OidcTestProvider, startOidcProvider } from "../../../test/helpers/oidc-provider";
import { createAuthorizationRequest, createDiscoveryCache, DISCOVERY_TTL_MS } from "./oidc-client";
import type { SsoProviderSettings } from "./sso-settings";

let idp: OidcTestProvider;
let provider: SsoProviderSettings;

beforeAll(async () => {
  idp = await startOidcProvider({
    clients: [
      { client_id: "c", client_secret: "s", redirect_uris: ["https://medchr.test/auth/sso/callback"] },
    ],
    accounts: [],
  });
  provider = { name: "oidc", issuer: idp.issuer, clientId: "c", clientSecret: "s", allowInsecureHttp: true };
});
afterAll(() => idp.stop());

describe("createDiscoveryCache", () => {
  it("fetches once per TTL and again after it", async () => {
    let now = 1_000_000;
    const cache = createDiscoveryCache({ now: () => now });
    const before = idp.discoveryRequests;
    const first = await cache.metadata(provider);
    expect(first.ok && first.value.issuer).toBe(idp.issuer);
    await cache.metadata(provider);
    expect(idp.discoveryRequests - before).toBe(1);
    now += DISCOVERY_TTL_MS;
    await cache.metadata(provider);
    expect(idp.discoveryRequests - before).toBe(2);
  });

  it("does not cache a failure, and refuses plain http unless the settings allowed it", async () => {
    const cache = createDiscoveryCache();
    idp.rewriteDiscovery((m) => ({ ...m, issuer: "https://someone-else.example" }));
    expect(await cache.metadata(provider)).toMatchObject({
      ok: false,
      error: { reason: "provider_unavailable", detail: "OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED" },
    });
    idp.rewriteDiscovery(null);
    expect((await cache.metadata(provider)).ok).toBe(true);

    const strictCache = createDiscoveryCache();
    expect(await strictCache.metadata({ ...provider, allowInsecureHttp: false })).toMatchObject({
      ok: false,
      error: { reason: "provider_unavailable" },
    });
  });

  it("reports an unreachable provider as unavailable", async () => {
    const cache = createDiscoveryCache();
    const gone = { ...provider, issuer: "http://127.0.0.1:9" };
    expect(await cache.metadata(gone)).toMatchObject({
      ok: false,
      error: { reason: "provider_unavailable" },
    });
  });
});

describe("createAuthorizationRequest", () => {
  it("builds a code + PKCE S256 request with fresh random values, extra hints never overriding the protocol", async () => {
    const metadata = await createDiscoveryCache().metadata(provider);
    if (!metadata.ok) throw new Error("discovery failed");
    const a = await createAuthorizationRequest(metadata.value, provider, {
      redirectUri: "https://medchr.test/auth/sso/callback",
      extraParameters: { hd: "*", response_type: "token", code_challenge_method: "plain" },
    });
    const b = await createAuthorizationRequest(metadata.value, provider, {
      redirectUri: "https://medchr.test/auth/sso/callback",
    });
    expect(a.url.searchParams.get("hd")).toBe("*");
    expect(a.url.searchParams.get("response_type")).toBe("code");
    expect(a.url.searchParams.get("code_challenge_method")).toBe("S256");
    expect(a.url.searchParams.get("code_challenge")).not.toBe(a.codeVerifier);
    expect(a.state).not.toBe(b.state);
    expect(a.nonce).not.toBe(b.nonce);
    expect(a.codeVerifier).not.toBe(b.codeVerifier);
  });
});
