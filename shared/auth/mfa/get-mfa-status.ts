import { z } from "zod";
import { err, ok, type Result } from "../../core/result";
import type { Tx } from "../../db/database";

export const GetMfaStatusInput = z.object({ userId: z.uuid() });
export type GetMfaStatusInput = z.input<typeof GetMfaStatusInput>;

export interface MfaStatus {
  enrolled: boolean;
  enabledAt: Date | null;
  /** Unused recovery codes; 0 when not enrolled. */
  recoveryCodesRemaining: number;
}

/** What the account page and the login flow need to know; no secrets, one round trip. */
export async function getMfaStatus(tx: Tx, input: GetMfaStatusInput): Promise<Result<MfaStatus>> {
  const parsed = GetMfaStatusInput.safeParse(input);
  if (!parsed.success) return err({ code: "invalid_input", message: "Invalid MFA status request." });
  const { userId } = parsed.data;
  const [row] = await tx<{ enabled_at: Date | null; remaining: number }[]>`
    select
      (select enabled_at from medchr.mfa_factors where user_id = ${userId}) as enabled_at,
      (select count(*)::int from medchr.mfa_recovery_codes
        where user_id = ${userId} and used_at is null) as remaining`;
  const enabledAt = row?.enabled_at ?? null;
  return ok({
    enrolled: enabledAt !== null,
    enabledAt,
    recoveryCodesRemaining: enabledAt === null ? 0 : (row?.remaining ?? 0),
  });
}
