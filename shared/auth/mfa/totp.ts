import { generateURI } from "otplib";
import { decodeBase32, encodeBase32 } from "../../core/base32";
import { timingSafeEqual } from "../session-token";
import {
  TOTP_DIGITS,
  TOTP_DRIFT_STEPS,
  TOTP_ISSUER,
  TOTP_PERIOD_SECONDS,
  TOTP_SECRET_BYTES,
} from "./mfa-policy";

/**
 * RFC 6238 TOTP on WebCrypto. Written here rather than through otplib's verify because
 * replay protection needs to know WHICH time step a code matched (to store it and refuse
 * it next time, ASVS 6.5.1), to tell a replay from a wrong code in the audit log, and to
 * compare every candidate step in constant time without stopping at the first match.
 * otplib still builds the otpauth URI, and the tests cross-check codes against it.
 */

const SIX_DIGITS = /^\d{6}$/;

/** A fresh 160-bit secret from the CSPRNG. */
export function generateTotpSecret(): Uint8Array<ArrayBuffer> {
  const secret = new Uint8Array(TOTP_SECRET_BYTES);
  crypto.getRandomValues(secret);
  return secret;
}

/**
 * The provisioning URI for the QR code. `accountName` is the user's email: the URI is
 * returned to that user only, and never logged or stored (it also carries the secret).
 */
export function buildOtpauthUri(input: { secret: string; accountName: string; issuer?: string }): string {
  return generateURI({
    issuer: input.issuer ?? TOTP_ISSUER,
    label: input.accountName,
    secret: input.secret,
    algorithm: "sha1",
    digits: TOTP_DIGITS,
    period: TOTP_PERIOD_SECONDS,
  });
}

/** RFC 6238 time step T = floor((unix time - T0) / X), T0 = 0, X = 30 s. */
export function totpStepAt(now: Date): number {
  return Math.floor(now.getTime() / 1000 / TOTP_PERIOD_SECONDS);
}

async function importHmacSha1(secret: Uint8Array): Promise<CryptoKey> {
  // A copy: WebCrypto wants an ArrayBuffer-backed view.
  return crypto.subtle.importKey("raw", new Uint8Array(secret), { name: "HMAC", hash: "SHA-1" }, false, [
    "sign",
  ]);
}

async function hotp(key: CryptoKey, counter: number, digits: number): Promise<string> {
  // RFC 4226 section 5.3: 8-byte big-endian counter, dynamic truncation, mod 10^digits.
  const message = new Uint8Array(8);
  new DataView(message.buffer).setBigUint64(0, BigInt(counter));
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, message));
  const offset = mac[mac.length - 1]! & 0x0f;
  const binary =
    ((mac[offset]! & 0x7f) << 24) | (mac[offset + 1]! << 16) | (mac[offset + 2]! << 8) | mac[offset + 3]!;
  return String(binary % 10 ** digits).padStart(digits, "0");
}

/** The code for one time step. `digits` is a parameter only for the RFC 6238 test vectors. */
export async function generateTotpCode(
  secret: Uint8Array,
  step: number,
  digits = TOTP_DIGITS,
): Promise<string> {
  if (!Number.isSafeInteger(step) || step < 0) throw new RangeError("step must be a non-negative integer");
  return hotp(await importHmacSha1(secret), step, digits);
}

/**
 * The time step `code` belongs to, within one step of `now` either way, or null. Every
 * candidate is computed and compared in constant time, so the response time does not
 * tell which step (if any) matched. If two steps share the code (a 1-in-a-million
 * collision), the later one wins: it is the one still unused if the earlier was spent.
 * The caller must still refuse a step at or below the last one used (replay).
 */
export async function matchTotpStep(secret: Uint8Array, code: string, now: Date): Promise<number | null> {
  if (!SIX_DIGITS.test(code)) return null;
  const key = await importHmacSha1(secret);
  const presented = new TextEncoder().encode(code);
  const current = totpStepAt(now);
  let matched: number | null = null;
  for (let step = current - TOTP_DRIFT_STEPS; step <= current + TOTP_DRIFT_STEPS; step++) {
    if (step < 0) continue;
    const expected = new TextEncoder().encode(await hotp(key, step, TOTP_DIGITS));
    if (timingSafeEqual(expected, presented)) matched = step;
  }
  return matched;
}

export { decodeBase32, encodeBase32 };
