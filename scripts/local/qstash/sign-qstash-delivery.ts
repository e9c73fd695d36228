/**
 * The `Upstash-Signature` QStash puts on every delivery: an HS256 JWT keyed with the UTF-8
 * bytes of the signing key (the SDK's Receiver verifies with `TextEncoder().encode(key)`).
 *
 * Claims, as QStash sends them:
 *   iss  "Upstash"
 *   sub  the destination URL the message was published to (the Receiver compares it as is)
 *   body base64url(SHA-256(raw body)) WITH "=" padding (QStash is written in Go and uses
 *        base64.URLEncoding; the Receiver strips padding on both sides before comparing)
 *   iat, nbf = now; exp = now + 5 min; jti unique per signature.
 */
import { createHash, randomBytes } from "node:crypto";
import { SignJWT } from "jose";

/** QStash signs each delivery for five minutes: long enough for a slow hop, short for a replay. */
export const QSTASH_SIGNATURE_TTL_SECONDS = 5 * 60;

export interface SignQStashDeliveryInput {
  /** The signing key (QSTASH_CURRENT_SIGNING_KEY); its UTF-8 bytes are the HMAC key. */
  key: string;
  /** Destination URL (the `sub` claim). */
  url: string;
  /** The exact bytes that will be delivered. */
  body: Uint8Array | string;
  /** Seconds since the epoch; default now. Tests move it to make expired or future tokens. */
  nowSeconds?: number;
  ttlSeconds?: number;
}

export function hashQStashBody(body: Uint8Array | string): string {
  const digest = createHash("sha256")
    .update(typeof body === "string" ? Buffer.from(body, "utf8") : body)
    .digest("base64");
  return digest.replaceAll("+", "-").replaceAll("/", "_");
}

export async function signQStashDelivery(input: SignQStashDeliveryInput): Promise<string> {
  const now = input.nowSeconds ?? Math.floor(Date.now() / 1000);
  return new SignJWT({ body: hashQStashBody(input.body) })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setIssuer("Upstash")
    .setSubject(input.url)
    .setIssuedAt(now)
    .setNotBefore(now)
    .setExpirationTime(now + (input.ttlSeconds ?? QSTASH_SIGNATURE_TTL_SECONDS))
    .setJti(`jwt_${randomBytes(16).toString("base64url")}`)
    .sign(new TextEncoder().encode(input.key));
}
