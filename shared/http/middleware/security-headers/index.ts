import { createMiddleware } from "hono/factory";

export interface SecurityHeadersOptions {
  /** Send HSTS. Only over https in prod: a dev browser pinned to https on localhost is a nuisance. */
  hsts: boolean;
  /** Override the CSP; the default suits JSON APIs (nothing may load, nothing may frame). */
  contentSecurityPolicy?: string;
  /** Cache-Control for every response; APIs carry PHI so the default is no-store (ASVS 14.3.2). */
  cacheControl?: string | null;
}

/** 1 year with subdomains: ASVS 3.4.1 asks for at least a year (31536000 s). */
export const HSTS_VALUE = "max-age=31536000; includeSubDomains";

/** For JSON APIs: no script, no frames, no base, nothing (ASVS 3.4.3, 3.4.6). */
export const API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

export const securityHeaders = (options: SecurityHeadersOptions) => {
  // Options are normalised once, at construction, not per request.
  const fixed: Array<[string, string]> = [
    ["Content-Security-Policy", options.contentSecurityPolicy ?? API_CSP],
    ["X-Content-Type-Options", "nosniff"],
    // no-referrer: URLs may carry ids; nothing leaks to other origins (ASVS 3.4.5).
    ["Referrer-Policy", "no-referrer"],
    // Legacy browsers ignore CSP frame-ancestors; X-Frame-Options covers them.
    ["X-Frame-Options", "DENY"],
    ["Cross-Origin-Opener-Policy", "same-origin"],
    ["Cross-Origin-Resource-Policy", "same-origin"],
    ["Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()"],
  ];
  if (options.hsts) fixed.push(["Strict-Transport-Security", HSTS_VALUE]);
  const cacheControl = options.cacheControl === undefined ? "no-store" : options.cacheControl;
  if (cacheControl) fixed.push(["Cache-Control", cacheControl]);

  return createMiddleware(async (c, next) => {
    await next();
    for (const [name, value] of fixed) {
      // A route that renders HTML (the shared-report page) sets its own, equally strict CSP
      // that allows exactly its stylesheet by hash; every other response gets the fixed one.
      if (name === "Content-Security-Policy" && c.res.headers.has(name)) continue;
      c.res.headers.set(name, value);
    }
  });
};
