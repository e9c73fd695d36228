import { z } from "zod";
import { err, ok, type Result } from "../../core/result";
import type { Tx } from "../../db/database";
import { type MfaAuditContext, recordMfaAudit } from "./mfa-audit";
import type { MfaFlow } from "./mfa-policy";

export const RemoveMfaFactorInput = z.object({
  tenantId: z.uuid(),
  userId: z.uuid(),
  now: z.date(),
});
export type RemoveMfaFactorInput = z.input<typeof RemoveMfaFactorInput>;

/**
 * Removes a user's TOTP factor with everything that hangs off it: recovery codes,
 * pending setups, and the per-flow lockouts (a reset after a lockout is usually why an
 * admin removes a factor; lifting a live lock is audited as mfa.lockout_clear). The user
 * enrols again at next login when the tenant requires MFA.
 *
 * By the user (after re-entering the password or a current factor, ASVS 7.5.1) or by an
 * admin (pass the admin as `audit.actor`). Revoking the user's other sessions is the
 * caller's decision. Audited: mfa.remove.
 */
export async function removeMfaFactor(
  tx: Tx,
  input: RemoveMfaFactorInput,
  audit: MfaAuditContext,
): Promise<Result<{ recoveryCodesDeleted: number }>> {
  const parsed = RemoveMfaFactorInput.safeParse(input);
  if (!parsed.success) return err({ code: "invalid_input", message: "Invalid MFA removal request." });
  const { userId, now } = parsed.data;

  const removed = await tx<{ id: string }[]>`
    delete from medchr.mfa_factors where user_id = ${userId} returning id`;
  if (removed.length === 0) return err({ code: "not_found", message: "No MFA factor is enrolled." });

  const codes = await tx<{ id: string }[]>`
    delete from medchr.mfa_recovery_codes where user_id = ${userId} returning id`;
  await tx`delete from medchr.mfa_setup_tokens where user_id = ${userId}`;
  const lockouts = await tx<{ flow: MfaFlow; locked_until: Date | null }[]>`
    delete from medchr.mfa_lockouts where user_id = ${userId} returning flow, locked_until`;
  const lifted = lockouts.filter((row) => row.locked_until !== null && row.locked_until > now);

  await recordMfaAudit(tx, audit, userId, {
    action: "mfa.remove",
    outcome: "SUCCESS",
    details: { factor: "totp" },
  });
  for (const { flow } of lifted) {
    await recordMfaAudit(tx, audit, userId, {
      action: "mfa.lockout_clear",
      outcome: "SUCCESS",
      details: { flow },
    });
  }
  return ok({ recoveryCodesDeleted: codes.length });
}
