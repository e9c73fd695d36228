/**
 * How a client authenticates, as the OpenAPI document states it (components.securitySchemes
 * plus a `security` requirement on every operation), so a generated client knows where to put
 * its credentials. The names below are the scheme keys the document uses; the values say
 * exactly what the authenticate middleware reads (shared/http/middleware/authenticate).
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import { SESSION_COOKIE } from "../auth/session-token";
import { CSRF_HEADER } from "./middleware/authenticate";

export const SECURITY_SCHEMES = {
  /** Partner API key as a bearer token (`Authorization: Bearer mk_<keyid>_<secret>`). */
  apiKeyBearer: {
    type: "http",
    scheme: "bearer",
    bearerFormat: "mk_<keyid>_<secret>",
    description: "A partner API key. Never put it in a URL.",
  },
  /** The same key in its own header, for clients that cannot set Authorization. */
  apiKeyHeader: {
    type: "apiKey",
    in: "header",
    name: "X-API-Key",
    description: "A partner API key (`mk_<keyid>_<secret>`), as an alternative to the bearer form.",
  },
  /** The browser session (HttpOnly, set by POST /auth/login; browsers send it themselves). */
  sessionCookie: {
    type: "apiKey",
    in: "cookie",
    name: SESSION_COOKIE,
    description: "The signed-in browser session. Set by the auth function; not readable by scripts.",
  },
  /**
   * The session-bound anti-forgery token (GET /auth/session returns it), required with the
   * session cookie on every call that changes state (security-baseline "CSRF"; ASVS 3.5.1).
   */
  csrfToken: {
    type: "apiKey",
    in: "header",
    name: "X-CSRF-Token",
    description: "Anti-forgery token for cookie-authenticated calls that change state.",
  },
} as const;

export type SecuritySchemeName = keyof typeof SECURITY_SCHEMES;
export type SecurityRequirement = { [K in SecuritySchemeName]?: string[] };

/** The header the middleware reads must be the one the document names (case-insensitively). */
if (SECURITY_SCHEMES.csrfToken.name.toLowerCase() !== CSRF_HEADER) {
  throw new Error("the OpenAPI csrfToken scheme must name the header the CSRF check reads");
}

const SAFE_METHODS = new Set(["get", "head", "options"]);

/** A browser session; with the CSRF header when the call changes state. */
export function sessionRequirements(method: string): SecurityRequirement[] {
  return SAFE_METHODS.has(method.toLowerCase())
    ? [{ sessionCookie: [] }]
    : [{ sessionCookie: [], csrfToken: [] }];
}

/** A browser session (as above) or an API key in either form. */
export function sessionOrApiKeyRequirements(method: string): SecurityRequirement[] {
  return [...sessionRequirements(method), { apiKeyBearer: [] }, { apiKeyHeader: [] }];
}

/** Declares the schemes once per app, so every operation's requirement refers to a defined scheme. */
export function registerSecuritySchemes(app: Pick<OpenAPIHono, "openAPIRegistry">): void {
  for (const [name, scheme] of Object.entries(SECURITY_SCHEMES)) {
    app.openAPIRegistry.registerComponent("securitySchemes", name, scheme);
  }
}
