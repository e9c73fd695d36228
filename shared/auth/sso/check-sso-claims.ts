import { z } from "zod";
import { err, ok, type Result } from "../../core/result";
import type { SsoProviderName, SsoSettings } from "./sso-settings";

/**
 * Why an SSO sign-in was refused. Shown to the browser as `/?sso_error=<reason>` so the
 * UI can say what to do; none of them carries an email, a name or a claim value.
 */
export const SSO_REJECTION_REASONS = [
  "state_invalid",
  "provider_not_allowed",
  "provider_unavailable",
  "provider_error",
  "token_invalid",
  "email_missing",
  "email_unverified",
  "domain_not_allowed",
  "no_tenant",
  "account_exists",
  "account_disabled",
  "tenant_mismatch",
] as const;
export type SsoRejectionReason = (typeof SSO_REJECTION_REASONS)[number];

export interface SsoRejection {
  code: "forbidden";
  message: string;
  reason: SsoRejectionReason;
}

export const ssoRejection = (reason: SsoRejectionReason): SsoRejection => ({
  code: "forbidden",
  message: "Single sign-on was refused.",
  reason,
});

export interface SsoEmail {
  /** Lower-cased; users.email is stored lower-case and unique across tenants. */
  email: string;
  domain: string;
  /** From the name claims, for a newly provisioned user; never logged. */
  displayName: string;
}

const emailSchema = z.email().max(320);
// biome-ignore lint/suspicious/noControlCharactersInRegex: stripping control characters is the point
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/g;

/**
 * The claim that vouches for the email address:
 *  - OpenID Connect (and Google): `email_verified` (OIDC Core 5.1). Some providers send
 *    it as the string "true".
 *  - Entra ID never sends `email_verified`; its optional claim `xms_edov` says the
 *    email's domain is verified by the directory that owns it. The app registration
 *    must emit the `email` and `xms_edov` optional claims.
 */
function emailIsVerified(provider: SsoProviderName, claims: Readonly<Record<string, unknown>>): boolean {
  const isTrue = (v: unknown) => v === true || v === "true";
  if (provider === "azure") return isTrue(claims.email_verified) || isTrue(claims.xms_edov);
  return isTrue(claims.email_verified);
}

function displayNameFrom(claims: Readonly<Record<string, unknown>>, email: string): string {
  const clean = (v: unknown) =>
    typeof v === "string" ? v.replace(CONTROL_CHARACTERS, "").trim().slice(0, 200).trim() : "";
  const full = clean(claims.name);
  if (full) return full;
  const parts = [clean(claims.given_name), clean(claims.family_name)].filter(Boolean).join(" ");
  if (parts) return parts.slice(0, 200);
  return email.slice(0, email.lastIndexOf("@")).slice(0, 200) || "SSO user";
}

/**
 * Deployment-wide claim policy, before any account is looked at (ASVS 6.8.1): an email,
 * verified when required, in an allowed domain; for Google only Workspace accounts
 * (`hd`), of an allowed domain or, with no list, of the email's own domain, since a
 * consumer account's address is not managed by any clinic.
 */
export function checkSsoClaims(
  provider: SsoProviderName,
  claims: Readonly<Record<string, unknown>>,
  settings: Pick<SsoSettings, "allowedDomains" | "requireVerifiedEmail">,
): Result<SsoEmail, SsoRejection> {
  const raw = typeof claims.email === "string" ? claims.email.trim().toLowerCase() : "";
  if (!raw || !emailSchema.safeParse(raw).success) return err(ssoRejection("email_missing"));
  if (settings.requireVerifiedEmail && !emailIsVerified(provider, claims)) {
    return err(ssoRejection("email_unverified"));
  }
  const domain = raw.slice(raw.lastIndexOf("@") + 1);
  if (settings.allowedDomains && !settings.allowedDomains.includes(domain)) {
    return err(ssoRejection("domain_not_allowed"));
  }
  if (provider === "google") {
    const hd = typeof claims.hd === "string" ? claims.hd.toLowerCase() : null;
    const hdAllowed =
      hd !== null && (settings.allowedDomains ? settings.allowedDomains.includes(hd) : hd === domain);
    if (!hdAllowed) return err(ssoRejection("domain_not_allowed"));
  }
  return ok({ email: raw, domain, displayName: displayNameFrom(claims, raw) });
}
