import type { AuditContext } from "../../audit/audit-context";
import type { Tx } from "../../db/database";
import type { SessionPrincipal, SessionStage } from "../principal";
import { type CreatedSession, createSession } from "./create-session";
import { revokeSession } from "./revoke-sessions";
import type { SessionTimeouts } from "./session-timeouts";

/**
 * New token for the same sign-in (ASVS 7.2.4: at MFA completion, step-up and privilege
 * change), so a token observed before the change is worthless after it. The old row is
 * ended with reason "rotation"; the absolute limit of the original login is kept.
 */
export async function rotateSession(
  tx: Tx,
  input: {
    session: SessionPrincipal;
    stage: SessionStage;
    mfaVerifiedAt: Date | null;
    now: Date;
    timeouts: SessionTimeouts;
    ip: string | null;
    userAgent: string | null;
  },
  audit: AuditContext,
): Promise<CreatedSession> {
  const { session } = input;
  await revokeSession(tx, { sessionId: session.sessionId, reason: "rotation", now: input.now }, audit);
  // A partial session's short limit does not carry over to the full session it becomes.
  const absoluteExpiresAt =
    session.stage === "active"
      ? session.absoluteExpiresAt
      : new Date(session.createdAt.getTime() + input.timeouts.absoluteMs);
  return createSession(
    tx,
    {
      tenantId: session.tenantId,
      userId: session.userId,
      stage: input.stage,
      method: session.method,
      mfaVerifiedAt: input.mfaVerifiedAt,
      now: input.now,
      timeouts: input.timeouts,
      absoluteExpiresAt,
      ip: input.ip,
      userAgent: input.userAgent,
    },
    audit,
  );
}
