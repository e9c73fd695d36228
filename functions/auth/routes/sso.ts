import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { sessionIdForToken } from "../../../shared/auth/sessions/find-session";
import { sessionTimeoutsFor } from "../../../shared/auth/sessions/session-timeouts";
import type { SsoRejectionReason } from "../../../shared/auth/sso/check-sso-claims";
import {
  completeAuthorization,
  createAuthorizationRequest,
  createDiscoveryCache,
  type DiscoveryCache,
} from "../../../shared/auth/sso/oidc-client";
import { safeReturnTo } from "../../../shared/auth/sso/safe-return-to";
import { signInWithSso } from "../../../shared/auth/sso/sign-in-with-sso";
import {
  parseSsoSettings,
  SSO_CALLBACK_PATH,
  SSO_PROVIDERS,
  type SsoProviderSettings,
  type SsoSettings,
  ssoRedirectUri,
} from "../../../shared/auth/sso/sso-settings";
import {
  openSsoState,
  SSO_STATE_COOKIE,
  SSO_STATE_TTL_MS,
  sealSsoState,
} from "../../../shared/auth/sso/sso-state-cookie";
import { type AppConfig, requireKeyRing } from "../../../shared/config/load-config";
import type { AppEnv } from "../../../shared/http/context";
import type { FunctionApp } from "../../../shared/http/create-app";
import { publicRoute } from "../../../shared/http/define-route";
import { HttpError } from "../../../shared/http/errors";
import { readSessionCookie, setSessionCookie } from "../../../shared/http/session-cookie";
import { errorResponse } from "./session-response";

/**
 * Single sign-on with OpenID Connect (security-baseline "SSO"; ASVS 6.8.1, V10):
 *
 *   GET /auth/sso/login?provider=oidc&returnTo=/path   (alias /ui/sso/login)
 *     -> 302 to the provider, with a sealed state cookie
 *   GET /auth/sso/callback?code=...&state=...
 *     -> 302 to returnTo with the session cookie, or to /?sso_error=<reason>
 *
 * The login URL is built by our own UI, so a bad request there is a client bug or a
 * configuration problem and answers with the JSON error contract. The callback is where
 * a person lands from the provider, so every refusal there is a redirect to the UI with
 * a reason code it can explain; the reason never names an email or a claim.
 */

const LoginQuery = z.object({
  provider: z.enum(SSO_PROVIDERS).openapi({ description: "Which configured provider to sign in with." }),
  returnTo: z
    .string()
    .max(2048)
    .optional()
    .openapi({ description: "A path on this site to open afterwards; anything else is ignored." }),
});

// Declared for the OpenAPI document; the handler reads the whole callback URL.
const CallbackQuery = z.object({
  code: z.string().max(4096).optional(),
  state: z.string().max(512).optional(),
  iss: z.string().max(512).optional(),
  error: z.string().max(256).optional(),
  error_description: z.string().max(2048).optional(),
});

const loginRoute = (path: string) =>
  publicRoute({
    method: "get",
    path,
    audit: { none: "redirects to the provider; the sign-in is audited at the callback" },
    tags: ["auth"],
    summary: "Start single sign-on with a configured OpenID provider",
    description:
      "Redirects to the provider (authorization code + PKCE S256 + state + nonce). The state travels in the encrypted __Host-medchr_sso cookie for 10 minutes.",
    request: { query: LoginQuery },
    responses: {
      302: { description: "Redirect to the provider" },
      400: errorResponse("Unknown provider name"),
      403: errorResponse("Provider not enabled"),
      503: errorResponse("SSO misconfigured or the provider is unreachable"),
    },
  });

export const getSsoLoginRoute = loginRoute("/auth/sso/login");
export const getUiSsoLoginRoute = loginRoute("/ui/sso/login");

export const getSsoCallbackRoute = publicRoute({
  method: "get",
  path: SSO_CALLBACK_PATH,
  audit: { actions: ["user.login", "session.create", "user.create"] },
  tags: ["auth"],
  summary: "Single sign-on callback (redirect URI)",
  description:
    "Validates state, exchanges the code with the PKCE verifier, validates the ID token, applies the domain / provider / verified-email policy, then signs in the linked or newly provisioned user. Redirects to the return path, or to /?sso_error=<reason>.",
  request: { query: CallbackQuery },
  responses: {
    302: { description: "Signed in (session cookie set), or refused (Location: /?sso_error=<reason>)" },
    503: errorResponse("SSO misconfigured"),
  },
});

export const getSsoProvidersRoute = publicRoute({
  method: "get",
  path: "/auth/sso/providers",
  audit: { none: "lists the clinic's SSO providers; no patient data" },
  tags: ["auth"],
  summary: "Which single sign-on providers are enabled (names only), for the sign-in page",
  responses: {
    200: {
      description: "Enabled providers",
      content: {
        "application/json": {
          schema: z
            .object({ providers: z.array(z.enum(["oidc", "azure", "google"])) })
            .openapi("SsoProviders"),
        },
      },
    },
    503: errorResponse("SSO misconfigured"),
  },
});

/** Where a refused callback sends the browser; the UI reads the reason. */
export const ssoErrorLocation = (reason: SsoRejectionReason) => `/?sso_error=${reason}`;

function logRejection(c: Context<AppEnv>, reason: SsoRejectionReason, detail?: string) {
  // Reason codes and library error codes only: never an email, a claim or a token.
  console.warn(
    JSON.stringify({
      level: "warn",
      event: "sso_rejected",
      reason,
      ...(detail ? { detail } : {}),
      requestId: c.var.requestId,
    }),
  );
}

/** Google: ask for a Workspace account of the allowed domain (a hint; hd is checked on return). */
function providerHints(provider: SsoProviderSettings, settings: SsoSettings): Record<string, string> {
  if (provider.name !== "google") return {};
  return { hd: settings.allowedDomains?.length === 1 ? settings.allowedDomains[0]! : "*" };
}

const SSO_COOKIE_OPTIONS = { path: "/", secure: true, httpOnly: true } as const;

export interface SsoRouteOptions {
  /** Default: a per-isolate discovery cache. workerd tests pass fixed metadata (no provider runs there). */
  discovery?: DiscoveryCache;
}

export function registerSsoRoutes(app: FunctionApp, options: SsoRouteOptions = {}) {
  const discovery = options.discovery ?? createDiscoveryCache();
  const settingsByConfig = new WeakMap<AppConfig, ReturnType<typeof parseSsoSettings>>();

  /** Parsed once per config (that is, per isolate); misconfiguration is logged by setting name. */
  function ssoSettings(config: AppConfig): SsoSettings {
    let result = settingsByConfig.get(config);
    if (!result) {
      result = parseSsoSettings(config.env, { strict: config.strict });
      settingsByConfig.set(config, result);
      if (!result.ok) console.error(result.error.message);
    }
    if (!result.ok) throw new HttpError("misconfigured", "Single sign-on is not configured correctly.");
    return result.value;
  }

  const login = async (c: Context<AppEnv>, query: z.infer<typeof LoginQuery>) => {
    const config = c.var.config;
    const settings = ssoSettings(config);
    const provider = settings.providers.get(query.provider);
    if (!provider) {
      logRejection(c, "provider_not_allowed");
      throw new HttpError("forbidden", "This sign-in provider is not enabled.");
    }
    const metadata = await discovery.metadata(provider);
    if (!metadata.ok) {
      logRejection(c, "provider_unavailable", metadata.error.detail);
      throw new HttpError("unavailable", "The sign-in provider is not available. Try again later.");
    }
    const request = await createAuthorizationRequest(metadata.value, provider, {
      redirectUri: ssoRedirectUri(settings, c.req.url),
      extraParameters: providerHints(provider, settings),
    });
    const sealed = await sealSsoState(
      {
        provider: provider.name,
        issuer: provider.issuer,
        state: request.state,
        nonce: request.nonce,
        codeVerifier: request.codeVerifier,
        returnTo: safeReturnTo(query.returnTo),
        issuedAt: Date.now(),
      },
      requireKeyRing(config, "SESSION_KEYS"),
    );
    // Lax, not Strict: the callback is a top-level navigation from the provider's site,
    // and a Strict cookie would not come back with it (RFC 6265bis 5.4.7).
    setCookie(c, SSO_STATE_COOKIE, sealed, {
      ...SSO_COOKIE_OPTIONS,
      sameSite: "Lax",
      maxAge: SSO_STATE_TTL_MS / 1000,
    });
    return c.redirect(request.url.href, 302);
  };

  app.openapi(getSsoProvidersRoute, (c) =>
    c.json({ providers: [...ssoSettings(c.var.config).providers.keys()] }, 200),
  );
  app.openapi(getSsoLoginRoute, (c) => login(c, c.req.valid("query")));
  app.openapi(getUiSsoLoginRoute, (c) => login(c, c.req.valid("query")));

  app.openapi(getSsoCallbackRoute, async (c) => {
    const config = c.var.config;
    const refuse = (reason: SsoRejectionReason, detail?: string) => {
      logRejection(c, reason, detail);
      return c.redirect(ssoErrorLocation(reason), 302);
    };
    const sealed = getCookie(c, SSO_STATE_COOKIE);
    // One attempt per cookie: cleared whatever happens next, so a second callback in this
    // browser has no state (and the code is single-use at the provider, RFC 6749 4.1.2).
    deleteCookie(c, SSO_STATE_COOKIE, SSO_COOKIE_OPTIONS);
    const settings = ssoSettings(config);
    const opened = await openSsoState(sealed, requireKeyRing(config, "SESSION_KEYS"), new Date());
    if (!opened.ok) return refuse("state_invalid", sealed === undefined ? "missing" : opened.error.reason);
    const expected = opened.value;
    const provider = settings.providers.get(expected.provider);
    if (!provider) return refuse("provider_not_allowed");
    // The provider's issuer changed since login: the state belongs to another provider.
    if (provider.issuer !== expected.issuer) return refuse("state_invalid", "issuer_changed");
    const metadata = await discovery.metadata(provider);
    if (!metadata.ok) return refuse("provider_unavailable", metadata.error.detail);

    const completed = await completeAuthorization(metadata.value, provider, {
      callbackUrl: new URL(c.req.url),
      expected,
      redirectUri: ssoRedirectUri(settings, c.req.url),
    });
    if (!completed.ok) return refuse(completed.error.reason, completed.error.detail);

    const userAgent = c.req.header("User-Agent") ?? null;
    const previousSessionId = await sessionIdForToken(c.var.db, readSessionCookie(c), c.var.requestId);
    const result = await signInWithSso(
      c.var.db,
      {
        provider: provider.name,
        issuer: completed.value.issuer,
        subject: completed.value.subject,
        claims: completed.value.claims,
        settings,
        strict: config.strict,
        now: new Date(),
        timeouts: sessionTimeoutsFor(config),
        requestId: c.var.requestId,
        ip: c.var.clientIp,
        userAgent,
        previousSessionId,
      },
      {
        auditKeys: requireKeyRing(config, "AUDIT_KEYS"),
        ip: c.var.clientIp,
        userAgent,
        requestId: c.var.requestId,
      },
    );
    if (!result.ok) return refuse(result.error.reason);
    setSessionCookie(c, result.value.session.token, result.value.session.absoluteExpiresAt);
    // Checked when sealed; checked again so a future change to sealing cannot open a redirect.
    return c.redirect(safeReturnTo(expected.returnTo), 302);
  });
}
