import { type AuditContext, recordAudit } from "../../audit/audit-context";
import type { Tx } from "../../db/database";
import type { SessionStage } from "../principal";
import { type CreatedSession, createSession } from "../sessions/create-session";
import { revokeSession } from "../sessions/revoke-sessions";
import type { SessionTimeouts } from "../sessions/session-timeouts";

export interface BeginSignInInput {
  tenantId: string;
  userId: string;
  method: "password" | "sso";
  /** prod/HIPAA: every user must enrol MFA before doing anything else. */
  strict: boolean;
  now: Date;
  timeouts: SessionTimeouts;
  ip: string | null;
  userAgent: string | null;
  /** A session cookie the browser already had: ended, so a planted token never becomes signed in (session fixation, ASVS 7.2.4). */
  previousSessionId?: string | null;
}

export interface SignInStarted {
  session: CreatedSession;
  stage: SessionStage;
}

/**
 * The first factor (password or SSO) has succeeded: open a session in the stage the
 * account allows. Enrolled users get a partial session that can only submit a code;
 * users who must enrol (prod/HIPAA, or the clinic's policy) get one that can only enrol;
 * otherwise the session is active at once. Runs in the user's tenant scope.
 */
export async function beginSignIn(
  tx: Tx,
  input: BeginSignInInput,
  audit: AuditContext,
): Promise<SignInStarted> {
  const [state] = await tx<{ enrolled: boolean; mfa_required: boolean | null }[]>`
    select exists (select 1 from medchr.mfa_factors where user_id = ${input.userId}) as enrolled,
           (select mfa_required from medchr.tenant_policies where tenant_id = ${input.tenantId}) as mfa_required`;
  const mustEnrol = input.strict || (state?.mfa_required ?? true);
  const stage: SessionStage = state?.enrolled ? "mfa_pending" : mustEnrol ? "mfa_enrollment" : "active";
  if (input.previousSessionId) {
    await revokeSession(
      tx,
      { sessionId: input.previousSessionId, reason: "rotation", now: input.now },
      audit,
    );
  }
  const session = await createSession(
    tx,
    {
      tenantId: input.tenantId,
      userId: input.userId,
      stage,
      method: input.method,
      mfaVerifiedAt: null,
      now: input.now,
      timeouts: input.timeouts,
      ip: input.ip,
      userAgent: input.userAgent,
    },
    audit,
  );
  if (stage === "active") {
    await recordAudit(tx, audit, {
      action: "user.login",
      outcome: "SUCCESS",
      resource: { type: "user", id: input.userId },
      details: { method: input.method, mfa: false },
    });
  }
  return { session, stage };
}
