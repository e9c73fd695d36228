import { z } from "zod";
import type { KeyRing } from "../../config/key-ring";
import { err, ok, type Result } from "../../core/result";
import type { Tx } from "../../db/database";
import { hashToken, isWellFormedToken } from "../session-token";
import { type MfaAuditContext, recordMfaAudit } from "./mfa-audit";
import { replaceRecoveryCodes } from "./recovery-codes";
import { matchTotpStep } from "./totp";
import { decryptTotpSecret, encryptTotpSecret } from "./totp-secret-cipher";

export const ConfirmMfaSetupInput = z.object({
  tenantId: z.uuid(),
  userId: z.uuid(),
  setupToken: z.string().max(200),
  code: z.string().max(200),
  now: z.date(),
});
export type ConfirmMfaSetupInput = z.input<typeof ConfirmMfaSetupInput>;

export interface ConfirmMfaSetupKeys {
  mfaKeys: KeyRing;
  recoveryCodeKeys: KeyRing;
}

export interface ConfirmedMfaSetup {
  /** Display form, shown once; only their HMACs are stored. */
  recoveryCodes: string[];
  /** Whether an earlier factor was replaced (the route may revoke other sessions). */
  replaced: boolean;
}

/** One answer for an unknown, foreign, expired or used token: nothing to learn from it. */
const INVALID_TOKEN = { code: "unauthorized", message: "The MFA setup has expired. Start again." } as const;

/**
 * Completes enrolment: the token must be this user's, unexpired and unused, and `code`
 * must come from the new secret (proof the authenticator holds it). The factor is
 * created or replaced, the confirming code's time step is recorded as used (it cannot be
 * replayed to log in), and ten new recovery codes replace any old ones. A wrong code
 * leaves the setup open for another try until it expires.
 *
 * Audited: mfa.enroll, mfa.recovery_codes_generate.
 */
export async function confirmMfaSetup(
  tx: Tx,
  input: ConfirmMfaSetupInput,
  keys: ConfirmMfaSetupKeys,
  audit: MfaAuditContext,
): Promise<Result<ConfirmedMfaSetup>> {
  const parsed = ConfirmMfaSetupInput.safeParse(input);
  if (!parsed.success) return err({ code: "invalid_input", message: "Invalid MFA setup confirmation." });
  const { tenantId, userId, setupToken, now } = parsed.data;
  if (!isWellFormedToken(setupToken)) return err(INVALID_TOKEN);

  const [setup] = await tx<
    { id: string; user_id: string; secret_ciphertext: string; expires_at: Date; consumed_at: Date | null }[]
  >`
    select id, user_id, secret_ciphertext, expires_at, consumed_at from medchr.mfa_setup_tokens
     where token_hash = ${await hashToken(setupToken)}
       for update`;
  if (
    !setup ||
    setup.user_id !== userId ||
    setup.consumed_at !== null ||
    setup.expires_at.getTime() <= now.getTime()
  ) {
    return err(INVALID_TOKEN);
  }

  const secret = await decryptTotpSecret(setup.secret_ciphertext, { tenantId, userId }, keys.mfaKeys);
  if (!secret.ok) return err({ code: "unavailable", message: secret.error.message });
  const step = await matchTotpStep(secret.value, parsed.data.code.replace(/[\s-]/g, ""), now);
  if (step === null) return err({ code: "unauthorized", message: "The code is not valid." });

  await tx`update medchr.mfa_setup_tokens set consumed_at = ${now} where id = ${setup.id}`;
  // Re-encrypted with a fresh IV (and the current active key) rather than copied.
  const factor = await encryptTotpSecret(secret.value, { tenantId, userId }, keys.mfaKeys);
  const [existing] = await tx<{ id: string }[]>`
    select id from medchr.mfa_factors where user_id = ${userId} for update`;
  await tx`
    insert into medchr.mfa_factors (tenant_id, user_id, kind, secret_ciphertext, key_id, last_used_step, enabled_at)
    values (${tenantId}, ${userId}, 'totp', ${factor.ciphertext}, ${factor.keyId}, ${step}, ${now})
    on conflict (user_id) do update
       set secret_ciphertext = excluded.secret_ciphertext, key_id = excluded.key_id,
           last_used_step = excluded.last_used_step, enabled_at = excluded.enabled_at`;
  const recoveryCodes = await replaceRecoveryCodes(tx, { tenantId, userId, now }, keys.recoveryCodeKeys);

  await recordMfaAudit(tx, audit, userId, {
    action: "mfa.enroll",
    outcome: "SUCCESS",
    details: { factor: "totp" },
  });
  await recordMfaAudit(tx, audit, userId, {
    action: "mfa.recovery_codes_generate",
    outcome: "SUCCESS",
    details: { count: recoveryCodes.length },
  });
  return ok({ recoveryCodes, replaced: existing !== undefined });
}
