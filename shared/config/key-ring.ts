/**
 * A key ring holds every key of one purpose (sessions, audit chain, API-key hashing...).
 * Format of the setting: "kid1:base64url,kid2:base64url". The first key is the active
 * one (new hashes, signatures and ciphertexts); the others still verify / decrypt so a
 * key can rotate without a flag day. Stored data records the key id it was made with.
 */
export interface KeyRing {
  readonly purpose: string;
  readonly activeKeyId: string;
  readonly keys: ReadonlyMap<string, Uint8Array<ArrayBuffer>>;
}

/**
 * 256 bits: NIST SP 800-107 / RFC 2104 recommend HMAC keys at least as long as the hash
 * output (SHA-256 -> 32 bytes); AES-256-GCM needs exactly 32 bytes.
 */
export const MIN_KEY_BYTES = 32;
const KEY_ID_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;

export function decodeBase64Url(value: string): Uint8Array<ArrayBuffer> | null {
  if (!/^[A-Za-z0-9_\-+/]*={0,2}$/.test(value)) return null;
  const normalized = value.replace(/-/g, "+").replace(/_/g, "/");
  try {
    const binary = atob(normalized + "=".repeat((4 - (normalized.length % 4)) % 4));
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes;
  } catch {
    return null;
  }
}

export function encodeBase64Url(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** Returns the problems found; an empty list means the ring parsed. Never echoes key material. */
export function parseKeyRing(
  purpose: string,
  raw: string | undefined,
  options: { strict: boolean },
): { ring?: KeyRing; problems: string[] } {
  if (raw === undefined || raw.trim() === "") return { problems: [`${purpose} is missing`] };
  const problems: string[] = [];
  const keys = new Map<string, Uint8Array<ArrayBuffer>>();
  let activeKeyId = "";
  for (const [index, entry] of raw.split(",").entries()) {
    const separator = entry.indexOf(":");
    const kid = entry.slice(0, separator).trim();
    const material = entry.slice(separator + 1).trim();
    if (separator < 1 || !KEY_ID_PATTERN.test(kid)) {
      problems.push(`${purpose} entry ${index + 1} must look like <key-id>:<base64url key>`);
      continue;
    }
    if (keys.has(kid)) {
      problems.push(`${purpose} has key id "${kid}" twice`);
      continue;
    }
    const bytes = decodeBase64Url(material);
    if (!bytes) {
      problems.push(`${purpose} key "${kid}" is not valid base64url`);
      continue;
    }
    if (options.strict && isWeakKey(bytes)) {
      problems.push(`${purpose} key "${kid}" is weak: it needs at least ${MIN_KEY_BYTES} random bytes`);
      continue;
    }
    if (bytes.length === 0) {
      problems.push(`${purpose} key "${kid}" is empty`);
      continue;
    }
    if (index === 0) activeKeyId = kid;
    keys.set(kid, bytes);
  }
  if (problems.length > 0 || !activeKeyId)
    return { problems: problems.length ? problems : [`${purpose} is empty`] };
  return { ring: { purpose, activeKeyId, keys }, problems };
}

/** Too short, or so repetitive it cannot be random (e.g. "aaaa...", "0000..."). */
export function isWeakKey(bytes: Uint8Array): boolean {
  if (bytes.length < MIN_KEY_BYTES) return true;
  return new Set(bytes).size < 8;
}

export function activeKey(ring: KeyRing): { keyId: string; key: Uint8Array<ArrayBuffer> } {
  const key = ring.keys.get(ring.activeKeyId);
  if (!key) throw new Error(`key ring ${ring.purpose} has no active key`);
  return { keyId: ring.activeKeyId, key };
}
