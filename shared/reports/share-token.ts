/**
 * Share-link tokens: "shr_" + 32 random bytes (256 bits, base64url), far beyond guessing
 * (OWASP ASVS 3.2.2 asks for at least 128 bits of entropy in such tokens). Only
 * HMAC-SHA-256 under SHARE_LINK_KEYS is stored; a lookup hashes the presented token with every
 * key of the ring so a rotation does not break live links.
 */
import type { KeyRing } from "../config/key-ring";
import { encodeBase64Url } from "../config/key-ring";
import { toHex } from "../core/hex";
import { hmacSha256 } from "../core/hmac-sha256";

export const SHARE_TOKEN_PREFIX = "shr_";
export const SHARE_TOKEN_PATTERN = /^shr_[A-Za-z0-9_-]{43}$/;

export function newShareToken(): string {
  return `${SHARE_TOKEN_PREFIX}${encodeBase64Url(crypto.getRandomValues(new Uint8Array(32)))}`;
}

export async function hashShareToken(token: string, ring: KeyRing): Promise<{ keyId: string; hash: string }> {
  const key = ring.keys.get(ring.activeKeyId)!;
  return { keyId: ring.activeKeyId, hash: toHex(await hmacSha256(token, key)) };
}

/** The token's hash under every key of the ring (lookup across a rotation). */
export async function shareTokenHashes(token: string, ring: KeyRing): Promise<string[]> {
  return Promise.all([...ring.keys.values()].map(async (key) => toHex(await hmacSha256(token, key))));
}
