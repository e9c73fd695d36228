import { z } from "zod";
import { type AuditContext, recordAudit } from "../audit/audit-context";
import { revokeUserSessions } from "../auth/sessions/revoke-sessions";
import { err, ok, type Result } from "../core/result";
import type { Tx } from "../db/database";

export const RevokeUserSessionsByAdminInput = z.object({ userId: z.uuid(), now: z.date() });
export type RevokeUserSessionsByAdminInput = z.input<typeof RevokeUserSessionsByAdminInput>;

/**
 * An administrator signs a user out everywhere (security-baseline "admin can revoke";
 * ASVS 7.4.x), e.g. after a lost laptop. Recorded as user.sessions_revoke with reason
 * "admin" even when nothing was live, so the admin's action is always on the record.
 */
export async function revokeUserSessionsByAdmin(
  tx: Tx,
  input: RevokeUserSessionsByAdminInput,
  audit: AuditContext,
): Promise<Result<{ sessionsRevoked: number }, { code: "not_found"; message: string }>> {
  const notFound = err({ code: "not_found" as const, message: "No such user." });
  const parsed = RevokeUserSessionsByAdminInput.safeParse(input);
  if (!parsed.success) return notFound;
  const { userId, now } = parsed.data;
  const [user] = await tx<{ id: string }[]>`select id from medchr.users where id = ${userId}`;
  if (!user) return notFound;

  const sessionsRevoked = await revokeUserSessions(tx, { userId, reason: "admin", now }, audit);
  if (sessionsRevoked === 0) {
    await recordAudit(tx, audit, {
      action: "user.sessions_revoke",
      outcome: "SUCCESS",
      resource: { type: "user", id: userId },
      details: { reason: "admin", count: 0 },
    });
  }
  return ok({ sessionsRevoked });
}
