import type { AuditEventInput } from "../audit/audit-events";
import type { ApiKeyScope, Permission, Role } from "./permissions";

/** What a browser session may do (ui_sessions.stage). */
export type SessionStage = "mfa_pending" | "mfa_enrollment" | "active";

export interface SessionPrincipal {
  kind: "session";
  tenantId: string;
  userId: string;
  role: Role;
  permissions: ReadonlySet<Permission>;
  sessionId: string;
  stage: SessionStage;
  method: "password" | "sso";
  /** Last successful MFA verification (login, enrolment or step-up); step-up compares it. */
  mfaVerifiedAt: Date | null;
  /** SHA-256 of the cookie token: binds the CSRF token to this session. */
  tokenHash: Uint8Array;
  createdAt: Date;
  absoluteExpiresAt: Date;
  stepUpWindowMinutes: number;
  mfaRequired: boolean;
}

export interface ApiKeyPrincipal {
  kind: "api_key";
  tenantId: string;
  /** medchr.api_keys.id; null for a key from the API_KEYS setting. */
  apiKeyRowId: string | null;
  /** The public key id (mk_<keyId>_...): the actor named in the audit log. */
  keyId: string;
  scopes: readonly ApiKeyScope[];
  permissions: ReadonlySet<Permission>;
  rateLimitPerMinute: number;
}

export type Principal = SessionPrincipal | ApiKeyPrincipal;

/** The actor id recorded by RLS-scoped transactions (app.actor_id) and triggers. */
export function actorIdOf(principal: Principal): string {
  return principal.kind === "session" ? principal.userId : `api_key:${principal.keyId}`;
}

export function auditActorOf(principal: Principal): AuditEventInput["actor"] {
  return principal.kind === "session"
    ? { type: "user", id: principal.userId }
    : { type: "api_key", id: principal.keyId };
}
