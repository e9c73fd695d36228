import { z } from "zod";
import { type AuditContext, recordAudit } from "../../audit/audit-context";
import type { KeyRing } from "../../config/key-ring";
import { err, ok, type Result } from "../../core/result";
import type { Tx } from "../../db/database";
import { decryptTotpSecret, encryptTotpSecret, type TotpSecretDecryptError } from "./totp-secret-cipher";

export const RekeyMfaSecretsInput = z.object({
  tenantId: z.uuid(),
  now: z.date(),
});
export type RekeyMfaSecretsInput = z.input<typeof RekeyMfaSecretsInput>;

export interface RekeyMfaSecretsReport {
  /** Factors re-encrypted under the active key. */
  factors: number;
  /** Pending setups re-encrypted under the active key. */
  setupTokens: number;
  /** Consumed or expired setups deleted: they are never decrypted again. */
  setupTokensDeleted: number;
  /** Rows that could not be decrypted (key missing from the ring, or tampered); left as they were. */
  failed: number;
  failureReasons: TotpSecretDecryptError["reason"][];
}

/**
 * Key rotation for MFA_ENCRYPTION_KEYS, one tenant per transaction (the operator CLI
 * loops over tenants): every TOTP secret not under the active key, in factors and in
 * pending setups, is decrypted with its old key and encrypted under the active one, so
 * the old key can then be removed from the ring. Dead setups are deleted rather than
 * re-encrypted. Rows that cannot be decrypted are counted and left alone: removing the
 * old key before they are dealt with would lock those users out.
 *
 * Idempotent; safe to run while users log in (each row is updated only if its ciphertext
 * is still the one read). Audited: mfa.rekey (FAILURE when some rows failed).
 */
export async function rekeyMfaSecrets(
  tx: Tx,
  input: RekeyMfaSecretsInput,
  mfaKeys: KeyRing,
  audit: AuditContext,
): Promise<Result<RekeyMfaSecretsReport>> {
  const parsed = RekeyMfaSecretsInput.safeParse(input);
  if (!parsed.success) return err({ code: "invalid_input", message: "Invalid rekey request." });
  const { tenantId, now } = parsed.data;
  const active = mfaKeys.activeKeyId;
  const report: RekeyMfaSecretsReport = {
    factors: 0,
    setupTokens: 0,
    setupTokensDeleted: 0,
    failed: 0,
    failureReasons: [],
  };

  async function reencrypt(row: { user_id: string; secret_ciphertext: string }) {
    const secret = await decryptTotpSecret(row.secret_ciphertext, { tenantId, userId: row.user_id }, mfaKeys);
    if (!secret.ok) {
      report.failed += 1;
      if (!report.failureReasons.includes(secret.error.reason))
        report.failureReasons.push(secret.error.reason);
      return null;
    }
    return encryptTotpSecret(secret.value, { tenantId, userId: row.user_id }, mfaKeys);
  }

  // The key id inside the ciphertext decides, not only the column, so a row whose
  // column and ciphertext disagree is not skipped.
  const factors = await tx<{ id: string; user_id: string; secret_ciphertext: string }[]>`
    select id, user_id, secret_ciphertext from medchr.mfa_factors
     where tenant_id = ${tenantId}
       and (key_id <> ${active} or split_part(secret_ciphertext, '.', 2) <> ${active})
     order by id`;
  for (const row of factors) {
    const sealed = await reencrypt(row);
    if (!sealed) continue;
    const updated = await tx`
      update medchr.mfa_factors set secret_ciphertext = ${sealed.ciphertext}, key_id = ${sealed.keyId}
       where id = ${row.id} and secret_ciphertext = ${row.secret_ciphertext}`;
    report.factors += updated.count;
  }

  const deleted = await tx`
    delete from medchr.mfa_setup_tokens
     where tenant_id = ${tenantId} and (consumed_at is not null or expires_at <= ${now})`;
  report.setupTokensDeleted = deleted.count;

  const setups = await tx<{ id: string; user_id: string; secret_ciphertext: string }[]>`
    select id, user_id, secret_ciphertext from medchr.mfa_setup_tokens
     where tenant_id = ${tenantId}
       and (key_id <> ${active} or split_part(secret_ciphertext, '.', 2) <> ${active})
     order by id`;
  for (const row of setups) {
    const sealed = await reencrypt(row);
    if (!sealed) continue;
    const updated = await tx`
      update medchr.mfa_setup_tokens set secret_ciphertext = ${sealed.ciphertext}, key_id = ${sealed.keyId}
       where id = ${row.id} and secret_ciphertext = ${row.secret_ciphertext} and consumed_at is null`;
    report.setupTokens += updated.count;
  }

  if (report.factors + report.setupTokens + report.failed > 0) {
    await recordAudit(tx, audit, {
      action: "mfa.rekey",
      outcome: report.failed === 0 ? "SUCCESS" : "FAILURE",
      resource: { type: "user", id: null },
      details: { factors: report.factors },
    });
  }
  return ok(report);
}
