import { z } from "zod";
import { err, ok, type Result } from "../../core/result";

/**
 * Single sign-on settings (security-baseline "SSO"; ASVS 6.8.1, V10). Pure: parsed from
 * the function's environment, no I/O, so the edge, the local stack and `config:check`
 * can all run it.
 *
 * Providers, each enabled by setting all of its variables:
 *  - oidc:   OIDC_ISSUER, OIDC_CLIENT_ID, OIDC_CLIENT_SECRET (any OpenID Provider)
 *  - azure:  AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET (Microsoft Entra ID,
 *            one directory: issuer https://login.microsoftonline.com/<tenant>/v2.0)
 *  - google: GOOGLE_CLIENT_ID, GOOGLE_CLIENT_SECRET (issuer https://accounts.google.com;
 *            Workspace accounts only, their `hd` claim checked)
 * Policy:
 *  - SSO_ALLOWED_PROVIDERS: comma list; default every configured provider.
 *  - SSO_ALLOWED_DOMAINS: comma list of email domains; default none, meaning any domain
 *    a tenant owns (tenants.email_domains). Either way a domain must belong to exactly
 *    one tenant.
 *  - SSO_REQUIRE_VERIFIED_EMAIL: default true; prod/HIPAA refuse to start with it off.
 */
export const SSO_PROVIDERS = ["oidc", "azure", "google"] as const;
export type SsoProviderName = (typeof SSO_PROVIDERS)[number];

export const SSO_CALLBACK_PATH = "/auth/sso/callback";

export const GOOGLE_ISSUER = "https://accounts.google.com";
export const azureIssuer = (tenant: string) => `https://login.microsoftonline.com/${tenant}/v2.0`;

/**
 * Entra ID's multi-tenant endpoints. Their discovery documents carry an issuer template
 * ("https://login.microsoftonline.com/{tenantid}/v2.0") rather than one issuer, so the
 * exact issuer check every ID token must pass (OIDC Core 3.1.3.7 step 2) could not pin
 * the clinic's directory: any Microsoft account would be accepted.
 */
const AZURE_MULTI_TENANT = new Set(["common", "organizations", "consumers"]);
/** A directory id (GUID) or one of its verified domains (contoso.onmicrosoft.com). */
const AZURE_TENANT_PATTERN =
  /^(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63})$/i;
/** An email domain: LDH labels (RFC 1035 2.3.1), at least two. */
const DOMAIN_PATTERN = /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
/** Loopback hosts, where plain http cannot be intercepted off the machine (RFC 8252 8.3). */
const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);

export interface SsoProviderSettings {
  readonly name: SsoProviderName;
  /** Exact issuer identifier the discovery document and every ID token must carry. */
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** Dev/test only: the issuer is plain http on a loopback address (a local provider). */
  readonly allowInsecureHttp: boolean;
}

export interface SsoSettings {
  /** Configured and allowed providers; empty when SSO is off. */
  readonly providers: ReadonlyMap<SsoProviderName, SsoProviderSettings>;
  /** Lower-case email domains; null = any domain owned by exactly one tenant. */
  readonly allowedDomains: readonly string[] | null;
  readonly requireVerifiedEmail: boolean;
  /** PUBLIC_ORIGIN; required in prod/HIPAA when a provider is enabled. */
  readonly publicOrigin: string | null;
}

export interface SsoSettingsProblems {
  readonly code: "invalid_input";
  readonly message: string;
  /** Each names a setting; none carries a secret or a URL from the environment. */
  readonly problems: readonly string[];
}

/** The variables this module reads; the client secrets are the optional secrets of the auth function. */
export const SSO_SETTING_NAMES = [
  "OIDC_ISSUER",
  "OIDC_CLIENT_ID",
  "OIDC_CLIENT_SECRET",
  "AZURE_TENANT_ID",
  "AZURE_CLIENT_ID",
  "AZURE_CLIENT_SECRET",
  "GOOGLE_CLIENT_ID",
  "GOOGLE_CLIENT_SECRET",
  "SSO_ALLOWED_PROVIDERS",
  "SSO_ALLOWED_DOMAINS",
  "SSO_REQUIRE_VERIFIED_EMAIL",
] as const;
export const SSO_CLIENT_SECRET_NAMES = [
  "OIDC_CLIENT_SECRET",
  "AZURE_CLIENT_SECRET",
  "GOOGLE_CLIENT_SECRET",
] as const;

/** Blank counts as unset, as in load-config; values are trimmed. */
const optionalText = z
  .string()
  .optional()
  .transform((v) => (v?.trim() ? v.trim() : undefined));

const envSchema = z.object({
  OIDC_ISSUER: optionalText,
  OIDC_CLIENT_ID: optionalText,
  OIDC_CLIENT_SECRET: optionalText,
  AZURE_TENANT_ID: optionalText,
  AZURE_CLIENT_ID: optionalText,
  AZURE_CLIENT_SECRET: optionalText,
  GOOGLE_CLIENT_ID: optionalText,
  GOOGLE_CLIENT_SECRET: optionalText,
  SSO_ALLOWED_PROVIDERS: optionalText,
  SSO_ALLOWED_DOMAINS: optionalText,
  SSO_REQUIRE_VERIFIED_EMAIL: optionalText,
  PUBLIC_ORIGIN: optionalText,
});

const TRUE_WORDS = new Set(["true", "1", "yes", "on"]);
const FALSE_WORDS = new Set(["false", "0", "no", "off"]);

function parseList(value: string | undefined): string[] {
  return (value ?? "")
    .split(",")
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
}

export function parseSsoSettings(
  env: Readonly<Record<string, unknown>>,
  options: { strict: boolean },
): Result<SsoSettings, SsoSettingsProblems> {
  // Only string values are settings (Worker vars and secrets are strings; bindings are not).
  const strings = Object.fromEntries(
    Object.keys(envSchema.shape).map((name) => [name, typeof env[name] === "string" ? env[name] : undefined]),
  );
  const raw = envSchema.parse(strings);
  const problems: string[] = [];
  const configured = new Map<SsoProviderName, SsoProviderSettings>();

  const group = (names: readonly (keyof typeof raw)[]) => {
    const set = names.filter((n) => raw[n] !== undefined);
    if (set.length > 0 && set.length < names.length) {
      const missing = names.filter((n) => raw[n] === undefined);
      problems.push(`${missing.join(", ")} missing: set all of ${names.join(", ")} or none`);
      return false;
    }
    return set.length === names.length;
  };

  if (group(["OIDC_ISSUER", "OIDC_CLIENT_ID", "OIDC_CLIENT_SECRET"])) {
    const issuer = checkIssuer(raw.OIDC_ISSUER!, options.strict);
    if (!issuer.ok) problems.push(`OIDC_ISSUER ${issuer.error.message}`);
    else {
      configured.set("oidc", {
        name: "oidc",
        issuer: issuer.value.issuer,
        clientId: raw.OIDC_CLIENT_ID!,
        clientSecret: raw.OIDC_CLIENT_SECRET!,
        allowInsecureHttp: issuer.value.insecure,
      });
    }
  }
  if (group(["AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET"])) {
    const tenant = raw.AZURE_TENANT_ID!.toLowerCase();
    if (AZURE_MULTI_TENANT.has(tenant)) {
      problems.push(
        "AZURE_TENANT_ID must name one directory (its id or domain), not a multi-tenant endpoint (common, organizations, consumers): their issuer cannot be validated",
      );
    } else if (!AZURE_TENANT_PATTERN.test(tenant)) {
      problems.push("AZURE_TENANT_ID must be a directory id (GUID) or a verified domain");
    } else {
      configured.set("azure", {
        name: "azure",
        issuer: azureIssuer(tenant),
        clientId: raw.AZURE_CLIENT_ID!,
        clientSecret: raw.AZURE_CLIENT_SECRET!,
        allowInsecureHttp: false,
      });
    }
  }
  if (group(["GOOGLE_CLIENT_ID", "GOOGLE_CLIENT_SECRET"])) {
    configured.set("google", {
      name: "google",
      issuer: GOOGLE_ISSUER,
      clientId: raw.GOOGLE_CLIENT_ID!,
      clientSecret: raw.GOOGLE_CLIENT_SECRET!,
      allowInsecureHttp: false,
    });
  }

  let providers = configured;
  if (raw.SSO_ALLOWED_PROVIDERS !== undefined) {
    providers = new Map();
    for (const name of parseList(raw.SSO_ALLOWED_PROVIDERS)) {
      if (!(SSO_PROVIDERS as readonly string[]).includes(name)) {
        problems.push(`SSO_ALLOWED_PROVIDERS names an unknown provider (known: ${SSO_PROVIDERS.join(", ")})`);
        continue;
      }
      const settings = configured.get(name as SsoProviderName);
      if (!settings) {
        problems.push(`SSO_ALLOWED_PROVIDERS allows "${name}", which is not configured`);
        continue;
      }
      providers.set(settings.name, settings);
    }
  }

  let allowedDomains: string[] | null = null;
  if (raw.SSO_ALLOWED_DOMAINS !== undefined) {
    allowedDomains = parseList(raw.SSO_ALLOWED_DOMAINS);
    if (allowedDomains.some((d) => !DOMAIN_PATTERN.test(d) || d.length > 253)) {
      problems.push("SSO_ALLOWED_DOMAINS must be a comma list of domain names");
    }
    if (allowedDomains.length === 0) problems.push("SSO_ALLOWED_DOMAINS is set but empty");
  }

  let requireVerifiedEmail = true;
  const verified = raw.SSO_REQUIRE_VERIFIED_EMAIL?.toLowerCase();
  if (verified !== undefined) {
    if (FALSE_WORDS.has(verified)) requireVerifiedEmail = false;
    else if (!TRUE_WORDS.has(verified)) problems.push("SSO_REQUIRE_VERIFIED_EMAIL must be true or false");
  }
  // An unverified email claim is whatever the user typed at the provider: trusting it
  // for provisioning would let anyone claim a clinic's domain (ASVS 6.8.1).
  if (options.strict && !requireVerifiedEmail) {
    problems.push("SSO_REQUIRE_VERIFIED_EMAIL must be true in prod/HIPAA mode");
  }

  if (options.strict && providers.size > 0 && raw.PUBLIC_ORIGIN === undefined) {
    // The redirect URI must not be derived from a request's Host header in production.
    problems.push("PUBLIC_ORIGIN is missing: SSO needs it for the redirect URI in prod/HIPAA mode");
  }

  if (problems.length > 0) {
    return err({
      code: "invalid_input",
      message: `SSO is misconfigured:\n${problems.map((p) => `  - ${p}`).join("\n")}`,
      problems,
    });
  }
  return ok({
    providers,
    allowedDomains,
    requireVerifiedEmail,
    publicOrigin: raw.PUBLIC_ORIGIN ?? null,
  });
}

function checkIssuer(
  value: string,
  strict: boolean,
): Result<{ issuer: string; insecure: boolean }, { code: "invalid_input"; message: string }> {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return err({ code: "invalid_input", message: "must be an absolute URL" });
  }
  if (url.search || url.hash || url.username || url.password) {
    // OIDC Discovery 1.0 section 2: an issuer has no query or fragment.
    return err({ code: "invalid_input", message: "must not carry a query, fragment or credentials" });
  }
  if (url.protocol === "https:") return ok({ issuer: value, insecure: false });
  if (url.protocol === "http:" && !strict && LOOPBACK_HOSTS.has(url.hostname)) {
    return ok({ issuer: value, insecure: true });
  }
  return err({
    code: "invalid_input",
    message: strict ? "must use https in prod/HIPAA mode" : "must use https (http only on a loopback host)",
  });
}

/**
 * The registered redirect URI. PUBLIC_ORIGIN when set (always in prod/HIPAA); in dev and
 * tests the origin the request arrived on, so the local stack works on any port.
 */
export function ssoRedirectUri(settings: Pick<SsoSettings, "publicOrigin">, requestUrl: string): string {
  const origin = settings.publicOrigin ? new URL(settings.publicOrigin).origin : new URL(requestUrl).origin;
  return `${origin}${SSO_CALLBACK_PATH}`;
}
