import { activeKey, type KeyRing } from "../../config/key-ring";
import type { Tx } from "../../db/database";
import { RECOVERY_CODE_COUNT, RECOVERY_CODE_GROUP, RECOVERY_CODE_LENGTH } from "./mfa-policy";

/**
 * Recovery codes (ASVS 6.5.2 look-up secrets): random, single use, stored only as
 * HMAC-SHA-256 under a server-side key (the recovery-code key ring, kept outside the
 * database), so a leaked table cannot be turned back into codes. A keyed hash rather than
 * a slow password hash is enough because each code carries 100 random bits (ASVS 6.5.3).
 */

/**
 * Crockford's base32 alphabet in lower case: no i, l, o or u, and the look-alikes a user
 * might type (o for 0, i and l for 1) are mapped back when normalising.
 */
const ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz";
const NORMALISED = new RegExp(`^[${ALPHABET}]{${RECOVERY_CODE_LENGTH}}$`);
const HASH_CONTEXT = "medchr.mfa_recovery_code.v1";

/** One code, shown as "xxxxx-xxxxx-xxxxx-xxxxx". */
export function generateRecoveryCode(): string {
  const bytes = new Uint8Array(RECOVERY_CODE_LENGTH);
  crypto.getRandomValues(bytes);
  // 256 is a multiple of 32: masking to 5 bits keeps every symbol equally likely.
  const symbols = Array.from(bytes, (b) => ALPHABET[b & 31]).join("");
  const groups: string[] = [];
  for (let i = 0; i < symbols.length; i += RECOVERY_CODE_GROUP)
    groups.push(symbols.slice(i, i + RECOVERY_CODE_GROUP));
  return groups.join("-");
}

/**
 * Lower case, without dashes and spaces, look-alikes mapped; null when the result is not
 * a recovery code at all (so it is never hashed or looked up).
 */
export function normalizeRecoveryCode(input: string): string | null {
  if (input.length > 4 * RECOVERY_CODE_LENGTH) return null;
  const normalised = input.toLowerCase().replace(/[\s-]/g, "").replace(/o/g, "0").replace(/[il]/g, "1");
  return NORMALISED.test(normalised) ? normalised : null;
}

/**
 * HMAC-SHA-256 over the normalised code, bound to the user: the same code (were it ever
 * drawn twice) hashes differently for two users, and a hash copied to another user's
 * rows is useless.
 */
export async function hashRecoveryCode(
  normalisedCode: string,
  userId: string,
  key: Uint8Array<ArrayBuffer>,
): Promise<Uint8Array<ArrayBuffer>> {
  const hmacKey = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  const message = new TextEncoder().encode(`${HASH_CONTEXT}|${userId.toLowerCase()}|${normalisedCode}`);
  return new Uint8Array(await crypto.subtle.sign("HMAC", hmacKey, message));
}

/**
 * Replaces all of a user's recovery codes with RECOVERY_CODE_COUNT new ones and returns
 * them in display form (shown once; only hashes are stored). The caller audits.
 */
export async function replaceRecoveryCodes(
  tx: Tx,
  input: { tenantId: string; userId: string; now: Date },
  recoveryCodeKeys: KeyRing,
): Promise<string[]> {
  const { keyId, key } = activeKey(recoveryCodeKeys);
  const codes = new Set<string>();
  while (codes.size < RECOVERY_CODE_COUNT) codes.add(generateRecoveryCode());
  const display = [...codes];
  const hashes = await Promise.all(
    display.map((code) => hashRecoveryCode(normalizeRecoveryCode(code)!, input.userId, key)),
  );
  await tx`delete from medchr.mfa_recovery_codes where user_id = ${input.userId}`;
  await tx`
    insert into medchr.mfa_recovery_codes ${tx(
      hashes.map((codeHash) => ({
        tenant_id: input.tenantId,
        user_id: input.userId,
        code_hash: codeHash,
        key_id: keyId,
        created_at: input.now,
      })),
    )}`;
  return display;
}

export type RecoveryCodeCheck = "accepted" | "already_used" | "no_match";

/**
 * Spends one recovery code, atomically: the UPDATE only succeeds while used_at is null,
 * so two concurrent requests with the same code cannot both get in. Codes hashed under an
 * older key of the ring still work until regenerated.
 */
export async function consumeRecoveryCode(
  tx: Tx,
  input: { userId: string; normalisedCode: string; now: Date },
  recoveryCodeKeys: KeyRing,
): Promise<RecoveryCodeCheck> {
  const ordered = [
    recoveryCodeKeys.activeKeyId,
    ...[...recoveryCodeKeys.keys.keys()].filter((id) => id !== recoveryCodeKeys.activeKeyId),
  ];
  const candidates: { keyId: string; codeHash: Uint8Array<ArrayBuffer> }[] = [];
  for (const keyId of ordered) {
    const codeHash = await hashRecoveryCode(
      input.normalisedCode,
      input.userId,
      recoveryCodeKeys.keys.get(keyId)!,
    );
    candidates.push({ keyId, codeHash });
    const spent = await tx<{ id: string }[]>`
      update medchr.mfa_recovery_codes set used_at = ${input.now}
       where user_id = ${input.userId} and key_id = ${keyId} and code_hash = ${codeHash} and used_at is null
      returning id`;
    if (spent.length === 1) return "accepted";
  }
  for (const { keyId, codeHash } of candidates) {
    const [used] = await tx<{ id: string }[]>`
      select id from medchr.mfa_recovery_codes
       where user_id = ${input.userId} and key_id = ${keyId} and code_hash = ${codeHash}`;
    if (used) return "already_used";
  }
  return "no_match";
}

export async function countRemainingRecoveryCodes(tx: Tx, userId: string): Promise<number> {
  const [row] = await tx<{ n: number }[]>`
    select count(*)::int as n from medchr.mfa_recovery_codes where user_id = ${userId} and used_at is null`;
  return row?.n ?? 0;
}
