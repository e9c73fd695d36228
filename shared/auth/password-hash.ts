import bcrypt from "bcryptjs";
import { activeKey, encodeBase64Url, type KeyRing } from "../config/key-ring";

/**
 * bcrypt cost 12: OWASP Password Storage Cheat Sheet minimum for bcrypt is 10; 12 costs
 * ~350 ms in workerd (runtime-facts.md), inside the CPU budget of a login.
 */
export const BCRYPT_COST = 12;

/**
 * Stored form: "pbh1$<pepper key id>$<bcrypt hash>". The pepper (a server-side HMAC key
 * kept outside the database) means a stolen users table alone cannot be cracked. The
 * HMAC-SHA-256 output is base64 (43 chars), so bcrypt's 72-byte input cap never
 * truncates a long password (OWASP: pre-hashing with HMAC before bcrypt).
 */
const PREFIX = "pbh1";

async function pepper(password: string, key: Uint8Array<ArrayBuffer>): Promise<string> {
  const hmacKey = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  const mac = await crypto.subtle.sign("HMAC", hmacKey, new TextEncoder().encode(password.normalize("NFC")));
  return encodeBase64Url(new Uint8Array(mac));
}

export async function hashPassword(
  password: string,
  pepperKeys: KeyRing,
  cost: number = BCRYPT_COST,
): Promise<string> {
  const { keyId, key } = activeKey(pepperKeys);
  const hashed = await bcrypt.hash(await pepper(password, key), cost);
  return `${PREFIX}$${keyId}$${hashed}`;
}

/** Constant work whatever the input: a malformed or unknown-key hash still costs a bcrypt compare. */
export async function verifyPassword(
  password: string,
  stored: string | null,
  pepperKeys: KeyRing,
): Promise<boolean> {
  const [prefix, keyId, ...rest] = (stored ?? "").split("$");
  // "pbh1$kid$$2b$12$..." splits into ["pbh1", "kid", "", "2b", ...]: rejoin the bcrypt part.
  const bcryptHash = rest.join("$");
  const key = keyId ? pepperKeys.keys.get(keyId) : undefined;
  if (prefix !== PREFIX || !key || !bcryptHash.startsWith("$2")) {
    await bcrypt.compare("dummy-password-for-timing", DUMMY_HASH);
    return false;
  }
  return bcrypt.compare(await pepper(password, key), bcryptHash);
}

/** Whether the hash was made with an old pepper key or a lower cost: rehash at next login. */
export function passwordNeedsRehash(stored: string, pepperKeys: KeyRing): boolean {
  const [, keyId, ...rest] = stored.split("$");
  const rounds = bcrypt.getRounds(rest.join("$"));
  return keyId !== pepperKeys.activeKeyId || rounds < BCRYPT_COST;
}

/** A real cost-12 bcrypt hash of a random string, for equal-time failures. */
const DUMMY_HASH = "$2b$12$95GXzhAliQ10964XKQPLP.ohoSsybr1hCv9ZUSyOy65ZxYmbOOVCS";
