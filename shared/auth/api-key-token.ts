/**
 * API keys for partner systems (security-baseline "API keys"; ASVS 13.1.3).
 *
 * Format: `mk_<key id>_<secret>`, 63 characters.
 *  - key id: 16 characters of lower-case base32 (RFC 4648 alphabet a-z2-7) from 10 random
 *    bytes (80 bits). Public: the database look-up key (api_keys.key_id), the rate-limit key
 *    (`apikey:<key id>`) and the audit actor id. 80 random bits make ids unguessable and
 *    collisions negligible (the column is unique anyway).
 *  - secret: 32 random bytes (256 bits, ASVS 6.2/11.2 floor is 128) as unpadded base64url,
 *    43 characters. Only HMAC-SHA-256(API_KEY_HMAC_KEYS active key, secret) is stored, so a
 *    leaked table cannot be replayed; a keyed hash (not bcrypt) is enough because the
 *    secret is random, not chosen by a person, and it keeps every API call cheap.
 * The "mk_" prefix makes leaked keys findable by secret scanners. Web Crypto only, so
 * this runs unchanged in Workers and Node.
 */

import { activeKey, decodeBase64Url, encodeBase64Url, type KeyRing } from "../config/key-ring";
import { encodeBase32 } from "../core/base32";
import { hmacSha256 } from "../core/hmac-sha256";
import { type DomainError, err, ok, type Result } from "../core/result";
import { timingSafeEqual } from "../core/timing-safe-equal";

export const API_KEY_PREFIX = "mk";
const KEY_ID_BYTES = 10;
const SECRET_BYTES = 32;
export const API_KEY_ID_LENGTH = 16;
const SECRET_LENGTH = 43;
export const API_KEY_TOKEN_LENGTH = API_KEY_PREFIX.length + 1 + API_KEY_ID_LENGTH + 1 + SECRET_LENGTH;
/** The secret alphabet includes "_" and "-": split by position, never on "_". */
const TOKEN_PATTERN = /^mk_([a-z2-7]{16})_([A-Za-z0-9_-]{43})$/;
/** HMAC-SHA-256 output, and the api_keys.secret_hash check constraint. */
export const API_KEY_HASH_BYTES = 32;

export const API_KEY_SCOPES = ["read", "write", "admin"] as const;
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];

export interface ApiKeyParts {
  readonly keyId: string;
  readonly secret: string;
}

export interface GeneratedApiKey extends ApiKeyParts {
  /** Shown to the creator once and never stored. */
  readonly token: string;
}

export function generateApiKeyToken(): GeneratedApiKey {
  // Lower-case base32: the public key id is case-sensitive in look-ups and reads well in logs.
  const keyId = encodeBase32(crypto.getRandomValues(new Uint8Array(KEY_ID_BYTES))).toLowerCase();
  const secret = encodeBase64Url(crypto.getRandomValues(new Uint8Array(SECRET_BYTES)));
  return { token: `${API_KEY_PREFIX}_${keyId}_${secret}`, keyId, secret };
}

/**
 * Strict: exactly the generated shape, nothing trimmed, no alternative spellings. The
 * error is "unauthorized" (401 at the edge) and says nothing about which part was wrong.
 */
export function parseApiKeyToken(token: string): Result<ApiKeyParts, DomainError> {
  const refused = err({ code: "unauthorized" as const, message: "invalid API key" });
  if (typeof token !== "string" || token.length !== API_KEY_TOKEN_LENGTH) return refused;
  const match = TOKEN_PATTERN.exec(token);
  if (!match) return refused;
  const keyId = match[1]!;
  const secret = match[2]!;
  // 43 base64url characters carry 258 bits; the last 2 must be zero. Other spellings decode
  // to the same bytes, so refuse them: one secret, one text.
  const bytes = decodeBase64Url(secret);
  if (!bytes || bytes.length !== SECRET_BYTES || encodeBase64Url(bytes) !== secret) return refused;
  return ok({ keyId, secret });
}

const mac = (secret: string, raw: Uint8Array<ArrayBuffer>) => hmacSha256(secret, raw);

/** Hash under the ring's active key; store `hash` (api_keys.secret_hash) and `keyId` (hash_key_id). */
export async function hashApiKeySecret(
  secret: string,
  keyRing: KeyRing,
): Promise<{ keyId: string; hash: Uint8Array<ArrayBuffer> }> {
  const { keyId, key } = activeKey(keyRing);
  return { keyId, hash: await mac(secret, key) };
}

/**
 * Recomputes the hash with the key the row names (so keys hashed before a rotation keep
 * working while the old key stays in the ring) and compares in constant time. An unknown
 * key id or a malformed stored hash is simply false. The caller should treat "no such key
 * id" the same way (same response) - key ids are not secret, so timing there leaks nothing
 * worth hiding.
 */
export async function verifyApiKeySecret(
  secret: string,
  storedHash: Uint8Array,
  storedKid: string,
  keyRing: KeyRing,
): Promise<boolean> {
  const key = keyRing.keys.get(storedKid);
  if (!key || storedHash.length !== API_KEY_HASH_BYTES) return false;
  return timingSafeEqual(await mac(secret, key), storedHash);
}

/**
 * Compares secrets in time that depends only on the length: for keys configured in API_KEYS,
 * whose secret is held in memory instead of as a hash.
 */
export function apiKeySecretsEqual(presented: string, expected: string): boolean {
  const encoder = new TextEncoder();
  return timingSafeEqual(encoder.encode(presented), encoder.encode(expected));
}

export interface EnvApiKey {
  readonly tenantId: string;
  readonly keyId: string;
  readonly secret: string;
  /** null = no scopes given (full access): the caller refuses such keys in prod/HIPAA mode. */
  readonly scopes: readonly ApiKeyScope[] | null;
}

export interface EnvApiKeysProblems extends DomainError {
  readonly code: "invalid_input";
  /** By entry position; never a key, a secret or a tenant id. */
  readonly problems: readonly string[];
}

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * API_KEYS: keys defined in the environment (bootstrap, single-tenant deployments),
 * `<tenant uuid>:<mk_ token>[:<scope>+<scope>...]`, entries separated by commas, e.g.
 * `0b7c...-...:mk_abcd..._xyz...:read+write`. Unset or blank is "no keys". Every malformed
 * entry is reported, so the function refuses to start instead of running with fewer keys.
 */
export function parseEnvApiKeys(value: string | undefined): Result<EnvApiKey[], EnvApiKeysProblems> {
  if (value === undefined || value.trim() === "") return ok([]);
  const problems: string[] = [];
  const keys: EnvApiKey[] = [];
  const seenKeyIds = new Set<string>();
  for (const [index, rawEntry] of value.split(",").entries()) {
    const where = `API_KEYS entry ${index + 1}`;
    const entry = rawEntry.trim();
    const parts = entry.split(":");
    if (entry === "" || parts.length < 2 || parts.length > 3) {
      problems.push(`${where} must look like <tenant uuid>:<mk_ key>[:<scope>+<scope>]`);
      continue;
    }
    const [tenantText = "", token = "", scopeText] = parts;
    if (!UUID_PATTERN.test(tenantText)) {
      problems.push(`${where}: the tenant id is not a UUID`);
      continue;
    }
    const parsed = parseApiKeyToken(token);
    if (!parsed.ok) {
      problems.push(`${where}: the key is not a valid mk_<key id>_<secret> API key`);
      continue;
    }
    let scopes: ApiKeyScope[] | null = null;
    if (scopeText !== undefined) {
      const names = scopeText.split("+");
      const unknown = names.some((s) => !(API_KEY_SCOPES as readonly string[]).includes(s));
      if (scopeText === "" || unknown || new Set(names).size !== names.length) {
        problems.push(
          `${where}: scopes must be distinct names from ${API_KEY_SCOPES.join(", ")} joined by "+"`,
        );
        continue;
      }
      scopes = API_KEY_SCOPES.filter((s) => names.includes(s));
    }
    if (seenKeyIds.has(parsed.value.keyId)) {
      problems.push(`${where}: the key id is used by an earlier entry`);
      continue;
    }
    seenKeyIds.add(parsed.value.keyId);
    keys.push({ tenantId: tenantText.toLowerCase(), ...parsed.value, scopes });
  }
  if (problems.length > 0) {
    return err({
      code: "invalid_input",
      message: `API_KEYS is invalid:\n  - ${problems.join("\n  - ")}`,
      problems,
    });
  }
  return ok(keys);
}
