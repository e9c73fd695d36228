import { err, ok, type Result } from "../../core/result";
import type { Database } from "../../db/database";
import { isRole, permissionsForRole } from "../permissions";
import type { SessionPrincipal, SessionStage } from "../principal";
import { hashToken, isWellFormedToken } from "../session-token";
import type { SessionTimeouts } from "./session-timeouts";

/** Why a presented session does not authenticate. Callers answer 401 whatever the reason. */
export type SessionRejection =
  | "malformed"
  | "unknown"
  | "revoked"
  | "idle_timeout"
  | "absolute_timeout"
  | "user_disabled"
  | "tenant_suspended";

export interface FoundSession {
  principal: SessionPrincipal;
  lastSeenAt: Date;
  /** Tenant IP allowlist (normalised CIDR strings). */
  ipAllowlist: readonly string[];
}

interface SessionRow {
  session_id: string;
  tenant_id: string;
  user_id: string;
  stage: SessionStage;
  method: "password" | "sso";
  mfa_verified_at: Date | null;
  created_at: Date;
  last_seen_at: Date;
  absolute_expires_at: Date;
  revoked_at: Date | null;
  user_role: string;
  user_status: string;
  tenant_status: string;
  ip_allowlist: string[];
  step_up_window_minutes: number;
  mfa_required: boolean;
}

/**
 * Resolve a cookie token to a session, before the tenant is known (SECURITY DEFINER
 * look-up by SHA-256). Idle and absolute limits are enforced here, server-side (ASVS
 * 7.3.1/7.3.2); an expired session is reported with its reason so the caller can record
 * and end it (expireSession).
 */
export async function findSession(
  db: Database,
  token: string | undefined,
  options: { now: Date; timeouts: SessionTimeouts; requestId: string },
): Promise<
  Result<
    FoundSession,
    {
      code: "unauthorized";
      message: string;
      reason: SessionRejection;
      sessionId?: string;
      tenantId?: string;
      userId?: string;
    }
  >
> {
  const reject = (reason: SessionRejection, row?: SessionRow) =>
    err({
      code: "unauthorized" as const,
      message: "Sign in again.",
      reason,
      ...(row ? { sessionId: row.session_id, tenantId: row.tenant_id, userId: row.user_id } : {}),
    });
  if (!isWellFormedToken(token)) return reject("malformed");
  const tokenHash = await hashToken(token);
  const [row] = await db.withoutTenant(
    { requestId: options.requestId },
    (tx) => tx<SessionRow[]>`select * from medchr.find_ui_session(${tokenHash})`,
  );
  if (!row) return reject("unknown");
  if (row.revoked_at) return reject("revoked");
  const now = options.now.getTime();
  if (now >= new Date(row.absolute_expires_at).getTime()) return reject("absolute_timeout", row);
  if (now - new Date(row.last_seen_at).getTime() >= options.timeouts.idleMs)
    return reject("idle_timeout", row);
  if (row.user_status !== "active") return reject("user_disabled", row);
  if (row.tenant_status !== "active") return reject("tenant_suspended", row);
  if (!isRole(row.user_role)) return reject("user_disabled", row);
  return ok({
    principal: {
      kind: "session",
      tenantId: row.tenant_id,
      userId: row.user_id,
      role: row.user_role,
      permissions: permissionsForRole(row.user_role),
      sessionId: row.session_id,
      stage: row.stage,
      method: row.method,
      mfaVerifiedAt: row.mfa_verified_at ? new Date(row.mfa_verified_at) : null,
      tokenHash,
      createdAt: new Date(row.created_at),
      absoluteExpiresAt: new Date(row.absolute_expires_at),
      stepUpWindowMinutes: row.step_up_window_minutes,
      mfaRequired: row.mfa_required,
    },
    lastSeenAt: new Date(row.last_seen_at),
    ipAllowlist: Array.isArray(row.ip_allowlist) ? row.ip_allowlist : [],
  });
}

/** The row id a cookie token names, whatever its state (login ends it: session fixation). */
export async function sessionIdForToken(
  db: Database,
  token: string | undefined,
  requestId: string,
): Promise<string | null> {
  if (!isWellFormedToken(token)) return null;
  const tokenHash = await hashToken(token);
  const [row] = await db.withoutTenant(
    { requestId },
    (tx) => tx<{ session_id: string }[]>`select session_id from medchr.find_ui_session(${tokenHash})`,
  );
  return row?.session_id ?? null;
}
