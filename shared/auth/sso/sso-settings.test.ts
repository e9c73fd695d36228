import { describe, expect, it } from "vitest";
import { parseSsoSettings, ssoRedirectUri } from "./sso-settings";

const OIDC = {
  OIDC_ISSUER: "https://idp.example.org/realms/clinic",
  OIDC_CLIENT_ID: "medchr",
  OIDC_CLIENT_SECRET: "oidc-secret",
};
const AZURE = {
  AZURE_TENANT_ID: "0b3c2a1e-5f4d-4c3b-9a8e-7d6c5b4a3f2e",
  AZURE_CLIENT_ID: "azure-client",
  AZURE_CLIENT_SECRET: "azure-secret",
};
const GOOGLE = { GOOGLE_CLIENT_ID: "google-client", GOOGLE_CLIENT_SECRET: "google-secret" };
const PUBLIC_ORIGIN = "https://medchr.example.org";

const parse = (env: Record<string, unknown>, strict = false) => parseSsoSettings(env, { strict });
const problems = (env: Record<string, unknown>, strict = false) => {
  const result = parse(env, strict);
  return result.ok ? [] : result.error.problems;
};

describe("parseSsoSettings", () => {
  it("has SSO off when nothing is configured, with verified email required by default", () => {
    const result = parse({});
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.value.providers.size).toBe(0);
    expect(result.value.allowedDomains).toBeNull();
    expect(result.value.requireVerifiedEmail).toBe(true);
  });

  it("enables each fully configured provider with its fixed issuer", () => {
    const result = parse({ ...OIDC, ...AZURE, ...GOOGLE, PUBLIC_ORIGIN }, true);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect([...result.value.providers.keys()]).toEqual(["oidc", "azure", "google"]);
    expect(result.value.providers.get("oidc")).toEqual({
      name: "oidc",
      issuer: OIDC.OIDC_ISSUER,
      clientId: "medchr",
      clientSecret: "oidc-secret",
      allowInsecureHttp: false,
    });
    expect(result.value.providers.get("azure")?.issuer).toBe(
      `https://login.microsoftonline.com/${AZURE.AZURE_TENANT_ID}/v2.0`,
    );
    expect(result.value.providers.get("google")?.issuer).toBe("https://accounts.google.com");
  });

  it("refuses a half-configured provider and names the missing settings", () => {
    expect(problems({ OIDC_ISSUER: OIDC.OIDC_ISSUER, OIDC_CLIENT_ID: "x" })).toEqual([
      "OIDC_CLIENT_SECRET missing: set all of OIDC_ISSUER, OIDC_CLIENT_ID, OIDC_CLIENT_SECRET or none",
    ]);
    expect(problems({ GOOGLE_CLIENT_SECRET: "s" })[0]).toMatch(/^GOOGLE_CLIENT_ID missing/);
    // Blank counts as unset.
    expect(problems({ ...OIDC, OIDC_CLIENT_SECRET: "  " })[0]).toMatch(/^OIDC_CLIENT_SECRET missing/);
  });

  it("never echoes a secret in a problem", () => {
    const secret = "very-secret-value-123";
    const found = problems(
      { OIDC_ISSUER: "ftp://nope", OIDC_CLIENT_ID: "x", OIDC_CLIENT_SECRET: secret },
      true,
    );
    expect(found.length).toBeGreaterThan(0);
    expect(found.join("\n")).not.toContain(secret);
  });

  it("refuses Entra ID multi-tenant endpoints in every mode, and malformed tenant ids", () => {
    for (const tenant of ["common", "organizations", "consumers", "Common"]) {
      expect(problems({ ...AZURE, AZURE_TENANT_ID: tenant })[0]).toMatch(/must name one directory/);
      expect(problems({ ...AZURE, AZURE_TENANT_ID: tenant, PUBLIC_ORIGIN }, true)[0]).toMatch(
        /must name one directory/,
      );
    }
    expect(problems({ ...AZURE, AZURE_TENANT_ID: "not a tenant/../x" })[0]).toMatch(/directory id/);
    expect(parse({ ...AZURE, AZURE_TENANT_ID: "contoso.onmicrosoft.com" }).ok).toBe(true);
  });

  it("allows a plain-http issuer only on a loopback host outside prod/HIPAA", () => {
    const local = parse({ ...OIDC, OIDC_ISSUER: "http://127.0.0.1:4000" });
    expect(local.ok && local.value.providers.get("oidc")?.allowInsecureHttp).toBe(true);
    expect(parse({ ...OIDC, OIDC_ISSUER: "http://localhost:4000/realm" }).ok).toBe(true);
    expect(problems({ ...OIDC, OIDC_ISSUER: "http://idp.example.org" })[0]).toMatch(/https/);
    expect(problems({ ...OIDC, OIDC_ISSUER: "http://127.0.0.1:4000", PUBLIC_ORIGIN }, true)[0]).toMatch(
      /https in prod/,
    );
  });

  it("refuses an issuer that is not a URL or carries a query or fragment", () => {
    expect(problems({ ...OIDC, OIDC_ISSUER: "idp.example.org" })[0]).toMatch(/absolute URL/);
    expect(problems({ ...OIDC, OIDC_ISSUER: "https://idp.example.org/?tenant=a" })[0]).toMatch(/query/);
    expect(problems({ ...OIDC, OIDC_ISSUER: "https://idp.example.org/#x" })[0]).toMatch(/fragment/);
  });

  it("limits providers to SSO_ALLOWED_PROVIDERS, which may only name configured ones", () => {
    const only = parse({ ...OIDC, ...GOOGLE, SSO_ALLOWED_PROVIDERS: " Google " });
    expect(only.ok && [...only.value.providers.keys()]).toEqual(["google"]);
    expect(problems({ ...OIDC, SSO_ALLOWED_PROVIDERS: "oidc,azure" })).toEqual([
      'SSO_ALLOWED_PROVIDERS allows "azure", which is not configured',
    ]);
    expect(problems({ ...OIDC, SSO_ALLOWED_PROVIDERS: "github" })[0]).toMatch(/unknown provider/);
  });

  it("parses SSO_ALLOWED_DOMAINS as lower-case domain names", () => {
    const result = parse({ ...OIDC, SSO_ALLOWED_DOMAINS: "Harbor.Example, lake.example" });
    expect(result.ok && result.value.allowedDomains).toEqual(["harbor.example", "lake.example"]);
    expect(problems({ ...OIDC, SSO_ALLOWED_DOMAINS: "harbor.example,*.lake.example" })[0]).toMatch(
      /domain names/,
    );
    expect(problems({ ...OIDC, SSO_ALLOWED_DOMAINS: "@harbor.example" })[0]).toMatch(/domain names/);
    expect(problems({ ...OIDC, SSO_ALLOWED_DOMAINS: " , " })[0]).toMatch(/empty/);
  });

  it("lets dev turn the verified-email check off, refuses that in prod/HIPAA, and refuses nonsense", () => {
    const off = parse({ ...OIDC, SSO_REQUIRE_VERIFIED_EMAIL: "false" });
    expect(off.ok && off.value.requireVerifiedEmail).toBe(false);
    expect(problems({ ...OIDC, SSO_REQUIRE_VERIFIED_EMAIL: "0", PUBLIC_ORIGIN }, true)).toEqual([
      "SSO_REQUIRE_VERIFIED_EMAIL must be true in prod/HIPAA mode",
    ]);
    const on = parse({ ...OIDC, SSO_REQUIRE_VERIFIED_EMAIL: "yes", PUBLIC_ORIGIN }, true);
    expect(on.ok && on.value.requireVerifiedEmail).toBe(true);
    expect(problems({ SSO_REQUIRE_VERIFIED_EMAIL: "maybe" })[0]).toMatch(/true or false/);
  });

  it("needs PUBLIC_ORIGIN in prod/HIPAA once a provider is enabled", () => {
    expect(problems({ ...OIDC }, true)).toEqual([
      "PUBLIC_ORIGIN is missing: SSO needs it for the redirect URI in prod/HIPAA mode",
    ]);
    expect(problems({}, true)).toEqual([]);
    expect(problems({ ...OIDC })).toEqual([]);
  });

  it("ignores non-string bindings", () => {
    expect(parse({ OIDC_ISSUER: { connectionString: "x" }, HYPERDRIVE: {} }).ok).toBe(true);
  });
});

describe("ssoRedirectUri", () => {
  it("uses PUBLIC_ORIGIN when set, else the request's origin", () => {
    expect(ssoRedirectUri({ publicOrigin: "https://medchr.example.org/" }, "http://10.0.0.5:8787/x?y")).toBe(
      "https://medchr.example.org/auth/sso/callback",
    );
    expect(ssoRedirectUri({ publicOrigin: null }, "http://localhost:8787/auth/sso/login?provider=oidc")).toBe(
      "http://localhost:8787/auth/sso/callback",
    );
  });
});
