/**
 * Rate-limit keys never hold raw personal data. Emails and IP addresses are identifiers
 * (HIPAA 164.514(b)(2)(i)) and Redis / the ops table are not places we audit or purge as
 * PHI stores, so they are keyed by HMAC-SHA-256 under a server secret:
 *   await createRateLimitKey("login-ip", clientIp, secret)       -> "login-ip:<43 chars>"
 *   await createRateLimitKey("login-email", email, secret)       -> "login-email:<43 chars>"
 * A plain SHA-256 would not do: the IPv4 space (2^32) and lists of known emails are
 * cheap to hash exhaustively, so an unkeyed digest is reversible. Public ids (an API key's
 * key id) need no hashing: `apikey:${keyId}` when the id is base64url.
 *
 * Rotating the secret only resets counters (keys change), which is harmless.
 * Runs on Workers and Node (Web Crypto only).
 */
import { encodeBase64Url } from "../config/key-ring";
import { RATE_LIMIT_KEY_PATTERN } from "./rate-limiter";

const NAMESPACE_PATTERN = /^[a-z][a-z0-9-]{0,31}$/;
/** HMAC keys at least as long as the SHA-256 output (RFC 2104); same rule as the key rings. */
export const MIN_RATE_LIMIT_SECRET_BYTES = 32;

/**
 * `subject` is used exactly as given: normalise it first (emails lower-cased and trimmed,
 * IPv6 in canonical form) or "A@x.org" and "a@x.org" count separately.
 */
export async function createRateLimitKey(
  namespace: string,
  subject: string,
  secret: Uint8Array<ArrayBuffer>,
): Promise<string> {
  if (!NAMESPACE_PATTERN.test(namespace))
    throw new TypeError("rate-limit namespace must match [a-z][a-z0-9-]*");
  if (secret.byteLength < MIN_RATE_LIMIT_SECRET_BYTES) {
    throw new TypeError(`rate-limit secret must be at least ${MIN_RATE_LIMIT_SECRET_BYTES} bytes`);
  }
  const key = await crypto.subtle.importKey("raw", secret, { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  // The namespace is part of the MAC input: the same IP under two namespaces gives unrelated ids.
  const mac = await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(`${namespace}\u0000${subject}`));
  const id = encodeBase64Url(new Uint8Array(mac));
  const result = `${namespace}:${id}`;
  if (!RATE_LIMIT_KEY_PATTERN.test(result)) throw new Error("unexpected rate-limit key shape");
  return result;
}
