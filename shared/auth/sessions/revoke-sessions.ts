import { type AuditContext, recordAudit } from "../../audit/audit-context";
import type { Tx } from "../../db/database";

export type SessionRevokeReason =
  | "logout"
  | "user_request"
  | "admin"
  | "user_disabled"
  | "rotation"
  | "idle_timeout"
  | "absolute_timeout"
  | "password_change"
  | "role_change";

/**
 * End one session. Returns whether a live session was ended (false: unknown, other
 * tenant, or already ended). Rotation is not audited on its own: the event that caused
 * it (MFA verification, step-up) is.
 */
export async function revokeSession(
  tx: Tx,
  input: { sessionId: string; userId?: string; reason: SessionRevokeReason; now: Date },
  audit: AuditContext,
): Promise<boolean> {
  const rows = await tx<{ id: string }[]>`
    update medchr.ui_sessions set revoked_at = ${input.now}, revoke_reason = ${input.reason}
    where id = ${input.sessionId} and revoked_at is null
      ${input.userId ? tx`and user_id = ${input.userId}` : tx``}
    returning id`;
  if (rows.length > 0 && input.reason !== "rotation") {
    await recordAudit(tx, audit, {
      action: "session.revoke",
      outcome: "SUCCESS",
      resource: { type: "session", id: input.sessionId },
      details: { reason: input.reason, count: 1 },
    });
  }
  return rows.length > 0;
}

/**
 * End every live session of a user, optionally keeping one (the caller's own, for "sign
 * out my other sessions" and password change). Returns how many ended.
 */
export async function revokeUserSessions(
  tx: Tx,
  input: { userId: string; reason: SessionRevokeReason; exceptSessionId?: string; now: Date },
  audit: AuditContext,
): Promise<number> {
  const rows = await tx<{ id: string }[]>`
    update medchr.ui_sessions set revoked_at = ${input.now}, revoke_reason = ${input.reason}
    where user_id = ${input.userId} and revoked_at is null
      ${input.exceptSessionId ? tx`and id <> ${input.exceptSessionId}` : tx``}
    returning id`;
  if (rows.length > 0) {
    await recordAudit(tx, audit, {
      action: "user.sessions_revoke",
      outcome: "SUCCESS",
      resource: { type: "user", id: input.userId },
      details: { reason: input.reason, count: rows.length },
    });
  }
  return rows.length;
}
