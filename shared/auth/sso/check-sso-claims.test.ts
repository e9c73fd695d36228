import { describe, expect, it } from "vitest";
import { checkSsoClaims } from "./check-sso-claims";

const ANY = { allowedDomains: null, requireVerifiedEmail: true } as const;
const reason = (result: ReturnType<typeof checkSsoClaims>) => (result.ok ? "ok" : result.error.reason);

describe("checkSsoClaims", () => {
  it("accepts a verified email and normalises it", () => {
    expect(
      checkSsoClaims(
        "oidc",
        { email: " Alice@Harbor.Example ", email_verified: true, name: "Dr Alice" },
        ANY,
      ),
    ).toEqual({
      ok: true,
      value: { email: "alice@harbor.example", domain: "harbor.example", displayName: "Dr Alice" },
    });
  });

  it("refuses a missing or malformed email", () => {
    expect(reason(checkSsoClaims("oidc", { email_verified: true }, ANY))).toBe("email_missing");
    expect(reason(checkSsoClaims("oidc", { email: 42, email_verified: true }, ANY))).toBe("email_missing");
    expect(reason(checkSsoClaims("oidc", { email: "not-an-email", email_verified: true }, ANY))).toBe(
      "email_missing",
    );
  });

  it("requires email_verified (boolean or the string some providers send) unless turned off", () => {
    expect(reason(checkSsoClaims("oidc", { email: "a@b.example" }, ANY))).toBe("email_unverified");
    expect(reason(checkSsoClaims("oidc", { email: "a@b.example", email_verified: false }, ANY))).toBe(
      "email_unverified",
    );
    expect(reason(checkSsoClaims("oidc", { email: "a@b.example", email_verified: "yes" }, ANY))).toBe(
      "email_unverified",
    );
    expect(reason(checkSsoClaims("oidc", { email: "a@b.example", email_verified: "true" }, ANY))).toBe("ok");
    expect(
      reason(checkSsoClaims("oidc", { email: "a@b.example" }, { ...ANY, requireVerifiedEmail: false })),
    ).toBe("ok");
  });

  it("takes Entra ID's xms_edov as verification, and only for Entra ID", () => {
    expect(reason(checkSsoClaims("azure", { email: "a@b.example", xms_edov: true }, ANY))).toBe("ok");
    expect(reason(checkSsoClaims("azure", { email: "a@b.example", xms_edov: false }, ANY))).toBe(
      "email_unverified",
    );
    expect(reason(checkSsoClaims("oidc", { email: "a@b.example", xms_edov: true }, ANY))).toBe(
      "email_unverified",
    );
  });

  it("enforces SSO_ALLOWED_DOMAINS on the email's domain (exact, no subdomains)", () => {
    const only = { allowedDomains: ["harbor.example"], requireVerifiedEmail: true };
    expect(reason(checkSsoClaims("oidc", { email: "a@harbor.example", email_verified: true }, only))).toBe(
      "ok",
    );
    expect(reason(checkSsoClaims("oidc", { email: "a@lake.example", email_verified: true }, only))).toBe(
      "domain_not_allowed",
    );
    expect(
      reason(checkSsoClaims("oidc", { email: "a@evil.harbor.example", email_verified: true }, only)),
    ).toBe("domain_not_allowed");
  });

  it("admits Google Workspace accounts only, of an allowed domain or the email's own", () => {
    const base = { email: "a@harbor.example", email_verified: true };
    expect(reason(checkSsoClaims("google", base, ANY))).toBe("domain_not_allowed");
    expect(reason(checkSsoClaims("google", { ...base, hd: "harbor.example" }, ANY))).toBe("ok");
    expect(reason(checkSsoClaims("google", { ...base, hd: "other.example" }, ANY))).toBe(
      "domain_not_allowed",
    );
    const listed = { allowedDomains: ["harbor.example", "lake.example"], requireVerifiedEmail: true };
    expect(reason(checkSsoClaims("google", { ...base, hd: "lake.example" }, listed))).toBe("ok");
    expect(reason(checkSsoClaims("google", { ...base, hd: "other.example" }, listed))).toBe(
      "domain_not_allowed",
    );
    // hd is not required of other providers.
    expect(reason(checkSsoClaims("oidc", base, ANY))).toBe("ok");
  });

  it("builds a display name from name, then given/family names, then the local part, without control characters", () => {
    const name = (claims: Record<string, unknown>) => {
      const result = checkSsoClaims(
        "oidc",
        { email: "dr.who@b.example", email_verified: true, ...claims },
        ANY,
      );
      return result.ok ? result.value.displayName : null;
    };
    expect(name({ name: " Dr\u0000 Ada \n" })).toBe("Dr Ada");
    expect(name({ given_name: "Ada", family_name: "Lovelace" })).toBe("Ada Lovelace");
    expect(name({ name: "   " })).toBe("dr.who");
    expect(name({ name: "x".repeat(500) })).toHaveLength(200);
  });
});
