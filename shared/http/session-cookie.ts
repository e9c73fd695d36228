import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { SESSION_COOKIE } from "../auth/session-token";

/**
 * The session cookie (security-baseline "session token"; ASVS 3.3.1): `__Host-` prefix,
 * Secure, HttpOnly, SameSite=Strict, Path=/, no Domain. It expires with the session's
 * absolute limit; the idle limit is enforced server-side. Browsers treat http://localhost
 * and 127.0.0.1 as secure contexts, so the local stack can keep the same cookie.
 */
export function setSessionCookie(c: Context, token: string, expires: Date): void {
  setCookie(c, SESSION_COOKIE, token, {
    path: "/",
    secure: true,
    httpOnly: true,
    sameSite: "Strict",
    expires,
  });
}

export function clearSessionCookie(c: Context): void {
  deleteCookie(c, SESSION_COOKIE, { path: "/", secure: true });
}

export function readSessionCookie(c: Context): string | undefined {
  return getCookie(c, SESSION_COOKIE);
}
