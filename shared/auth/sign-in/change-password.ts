import { type AuditContext, recordAudit } from "../../audit/audit-context";
import type { KeyRing } from "../../config/key-ring";
import { err, ok, type Result } from "../../core/result";
import type { Tx } from "../../db/database";
import { hashPassword, verifyPassword } from "../password-hash";
import { checkPassword } from "../password-policy";
import { revokeUserSessions } from "../sessions/revoke-sessions";

export interface ChangePasswordInput {
  userId: string;
  currentSessionId: string;
  currentPassword: string;
  newPassword: string;
  pepperKeys: KeyRing;
  now: Date;
}

/**
 * Change my password (ASVS 6.2.2/6.2.3): the current password is required, the new one
 * meets the policy, and every other session of the user ends (a thief's session dies
 * with the old password). The caller's own session is rotated by the route.
 */
export async function changePassword(
  tx: Tx,
  input: ChangePasswordInput,
  audit: AuditContext,
): Promise<
  Result<
    { sessionsRevoked: number },
    { code: "unauthorized" | "invalid_input"; message: string; reasons?: readonly string[] }
  >
> {
  const [user] = await tx<{ email: string; display_name: string; password_hash: string | null }[]>`
    select email, display_name, password_hash from medchr.users where id = ${input.userId} for update`;
  const currentOk = await verifyPassword(
    input.currentPassword,
    user?.password_hash ?? null,
    input.pepperKeys,
  );
  if (!user || !currentOk) {
    await recordAudit(tx, audit, {
      action: "user.login_failed",
      outcome: "DENIED",
      resource: { type: "user", id: input.userId },
      details: { method: "password", reason: "bad_password" },
    });
    return err({ code: "unauthorized", message: "The current password is not correct." });
  }
  const policy = checkPassword(input.newPassword, { email: user.email, displayName: user.display_name });
  if (!policy.ok)
    return err({ code: "invalid_input", message: policy.error.message, reasons: policy.error.reasons });
  if (await verifyPassword(input.newPassword, user.password_hash, input.pepperKeys)) {
    return err({ code: "invalid_input", message: "The new password must differ from the current one." });
  }
  const hash = await hashPassword(input.newPassword, input.pepperKeys);
  await tx`update medchr.users set password_hash = ${hash}, password_changed_at = ${input.now},
    failed_login_count = 0, failed_login_window_started_at = null, locked_until = null
    where id = ${input.userId}`;
  const sessionsRevoked = await revokeUserSessions(
    tx,
    {
      userId: input.userId,
      reason: "password_change",
      exceptSessionId: input.currentSessionId,
      now: input.now,
    },
    audit,
  );
  await recordAudit(tx, audit, {
    action: "user.password_change",
    outcome: "SUCCESS",
    resource: { type: "user", id: input.userId },
    details: { sessionsRevoked },
  });
  return ok({ sessionsRevoked });
}
