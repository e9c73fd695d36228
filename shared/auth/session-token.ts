import { activeKey, decodeBase64Url, encodeBase64Url, type KeyRing } from "../config/key-ring";
import { timingSafeEqual } from "../core/timing-safe-equal";

/**
 * Session and one-time tokens: 256 bits from the CSPRNG (ASVS 7.2.3 asks for at least
 * 128 bits of entropy; 256 leaves margin), base64url so they fit a cookie unquoted.
 */
export const TOKEN_BYTES = 32;

/** Cookie name. `__Host-` pins it to this host, Path=/ and Secure (RFC 6265bis 4.1.3.2). */
export const SESSION_COOKIE = "__Host-medchr_session";

export function generateToken(): string {
  const bytes = new Uint8Array(TOKEN_BYTES);
  crypto.getRandomValues(bytes);
  return encodeBase64Url(bytes);
}

/** Exactly 43 base64url characters (32 bytes); anything else is not a token of ours. */
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export function isWellFormedToken(value: string | undefined | null): value is string {
  return typeof value === "string" && TOKEN_PATTERN.test(value);
}

/**
 * Tokens are stored only as SHA-256. A plain hash suffices for 256-bit random tokens
 * (no dictionary to attack, OWASP Session Management); it also allows an indexed look-up.
 */
export async function hashToken(token: string): Promise<Uint8Array<ArrayBuffer>> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(token));
  return new Uint8Array(digest);
}

async function hmac(key: Uint8Array<ArrayBuffer>, message: Uint8Array<ArrayBuffer>): Promise<Uint8Array> {
  const k = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return new Uint8Array(await crypto.subtle.sign("HMAC", k, message));
}

const CSRF_CONTEXT = new TextEncoder().encode("medchr.csrf.v1:");

/**
 * The anti-forgery token is derived from the session (HMAC under SESSION_KEYS of the
 * session token's hash), so it is bound to the session, changes when the session rotates,
 * and needs no storage (OWASP CSRF cheat sheet, "synchronizer token", HMAC variant).
 * Format: "<kid>.<mac>", so a rotated key still verifies tokens already handed out.
 */
export async function deriveCsrfToken(sessionKeys: KeyRing, tokenHash: Uint8Array): Promise<string> {
  const { keyId, key } = activeKey(sessionKeys);
  return `${keyId}.${encodeBase64Url(await hmac(key, concat(CSRF_CONTEXT, tokenHash)))}`;
}

export async function verifyCsrfToken(
  sessionKeys: KeyRing,
  tokenHash: Uint8Array,
  presented: string | undefined | null,
): Promise<boolean> {
  if (!presented || presented.length > 200) return false;
  const dot = presented.indexOf(".");
  if (dot < 1) return false;
  const key = sessionKeys.keys.get(presented.slice(0, dot));
  const mac = decodeBase64Url(presented.slice(dot + 1));
  if (!key || !mac) return false;
  const expected = await hmac(key, concat(CSRF_CONTEXT, tokenHash));
  return timingSafeEqual(expected, mac);
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

export { timingSafeEqual };
