import { type AuditContext, recordAudit } from "../../audit/audit-context";
import type { Tx } from "../../db/database";
import type { SessionStage } from "../principal";
import { generateToken, hashToken } from "../session-token";
import { PARTIAL_SESSION_MS, type SessionTimeouts } from "./session-timeouts";

export interface CreateSessionInput {
  tenantId: string;
  userId: string;
  stage: SessionStage;
  method: "password" | "sso";
  mfaVerifiedAt: Date | null;
  now: Date;
  timeouts: SessionTimeouts;
  /** Rotation keeps the original login's absolute limit: rotating never extends a session. */
  absoluteExpiresAt?: Date;
  ip: string | null;
  userAgent: string | null;
}

export interface CreatedSession {
  sessionId: string;
  /** The cookie value. Returned once, never stored. */
  token: string;
  tokenHash: Uint8Array<ArrayBuffer>;
  absoluteExpiresAt: Date;
}

/**
 * A new session row with a fresh random token. Partial sessions (waiting for MFA) end
 * after PARTIAL_SESSION_MS whatever the absolute limit. Audited as session.create.
 */
export async function createSession(
  tx: Tx,
  input: CreateSessionInput,
  audit: AuditContext,
): Promise<CreatedSession> {
  const token = generateToken();
  const tokenHash = await hashToken(token);
  const full = input.absoluteExpiresAt ?? new Date(input.now.getTime() + input.timeouts.absoluteMs);
  const absoluteExpiresAt =
    input.stage === "active"
      ? full
      : new Date(Math.min(full.getTime(), input.now.getTime() + PARTIAL_SESSION_MS));
  const [row] = await tx<{ id: string }[]>`
    insert into medchr.ui_sessions
      (tenant_id, user_id, token_hash, stage, method, mfa_verified_at, created_at, last_seen_at,
       absolute_expires_at, ip, user_agent)
    values (${input.tenantId}, ${input.userId}, ${tokenHash}, ${input.stage}, ${input.method},
      ${input.mfaVerifiedAt}, ${input.now}, ${input.now}, ${absoluteExpiresAt}, ${input.ip},
      ${input.userAgent?.slice(0, 512) ?? null})
    returning id`;
  const sessionId = row!.id;
  await recordAudit(tx, audit, {
    action: "session.create",
    outcome: "SUCCESS",
    resource: { type: "session", id: sessionId },
    details: { method: input.method, mfa: input.mfaVerifiedAt !== null },
  });
  return { sessionId, token, tokenHash, absoluteExpiresAt: full };
}
