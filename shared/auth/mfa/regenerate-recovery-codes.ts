import { z } from "zod";
import type { KeyRing } from "../../config/key-ring";
import { err, ok, type Result } from "../../core/result";
import type { Tx } from "../../db/database";
import { type MfaAuditContext, recordMfaAudit } from "./mfa-audit";
import { replaceRecoveryCodes } from "./recovery-codes";

export const RegenerateRecoveryCodesInput = z.object({
  tenantId: z.uuid(),
  userId: z.uuid(),
  now: z.date(),
});
export type RegenerateRecoveryCodesInput = z.input<typeof RegenerateRecoveryCodesInput>;

/**
 * Replaces all of a user's recovery codes (used or not) with ten new ones, returned once
 * in display form. Only for an enrolled user: recovery codes stand in for the TOTP
 * factor and mean nothing without it. The caller has re-checked the password or a
 * current factor (ASVS 7.5.1). Audited: mfa.recovery_codes_generate.
 */
export async function regenerateRecoveryCodes(
  tx: Tx,
  input: RegenerateRecoveryCodesInput,
  recoveryCodeKeys: KeyRing,
  audit: MfaAuditContext,
): Promise<Result<{ recoveryCodes: string[] }>> {
  const parsed = RegenerateRecoveryCodesInput.safeParse(input);
  if (!parsed.success) return err({ code: "invalid_input", message: "Invalid recovery code request." });
  const { tenantId, userId, now } = parsed.data;

  // Locking the factor row orders this against a concurrent removal of the factor.
  const [factor] = await tx<{ id: string }[]>`
    select id from medchr.mfa_factors where user_id = ${userId} for update`;
  if (!factor) return err({ code: "not_found", message: "No MFA factor is enrolled." });

  const recoveryCodes = await replaceRecoveryCodes(tx, { tenantId, userId, now }, recoveryCodeKeys);
  await recordMfaAudit(tx, audit, userId, {
    action: "mfa.recovery_codes_generate",
    outcome: "SUCCESS",
    details: { count: recoveryCodes.length },
  });
  return ok({ recoveryCodes });
}
