import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { recordAudit } from "../../../audit/audit-context";
import { type Permission, STEP_UP_PERMISSIONS } from "../../../auth/permissions";
import type { Principal } from "../../../auth/principal";
import type { AppConfig } from "../../../config/load-config";
import { auditContextOf } from "../../audit-context";
import type { AppEnv } from "../../context";
import { HttpError } from "../../errors";
import { recordKeyDenial } from "../authenticate";

export interface AuthorizeOptions {
  /** Clock, for tests. */
  now?: () => Date;
}

/**
 * Whether a session's last MFA verification is recent enough for a step-up action
 * (security-baseline "step-up", ASVS 7.5.3). Enforced in prod/HIPAA mode; the window is
 * the shorter of the deployment's STEP_UP_WINDOW_MINUTES and the clinic's policy.
 * API keys never step up: their issuance already required it, and their scope is checked.
 */
export function needsStepUp(
  config: AppConfig,
  principal: Principal,
  permission: Permission,
  now: Date,
): boolean {
  if (!config.strict || principal.kind !== "session" || !STEP_UP_PERMISSIONS.has(permission)) return false;
  if (!principal.mfaVerifiedAt) return true;
  const windowMinutes = Math.min(config.stepUpWindowMinutes, principal.stepUpWindowMinutes);
  return now.getTime() - principal.mfaVerifiedAt.getTime() > windowMinutes * 60_000;
}

/**
 * One permission per route (ASVS 8.2.1): role or scope must grant it, and step-up
 * permissions need a fresh MFA. Denials are audited; 403 for a missing permission or
 * scope, 401 step_up_required so the UI can ask for a code and retry the same request.
 */
export const requirePermission = (permission: Permission, options: AuthorizeOptions = {}) => {
  const now = options.now ?? (() => new Date());
  return createMiddleware<AppEnv>(async (c, next) => {
    const principal = c.var.principal;
    if (!principal) throw new Error("requirePermission needs authenticate() first");
    if (!principal.permissions.has(permission)) {
      await recordDenial(c, principal, principal.kind === "api_key" ? "missing_scope" : "missing_permission");
      throw new HttpError(
        "forbidden",
        principal.kind === "api_key"
          ? "This API key's scopes do not allow this action."
          : "Your role does not allow this action.",
      );
    }
    if (needsStepUp(c.var.config, principal, permission, now())) {
      await recordDenial(c, principal, "step_up_required");
      throw new HttpError("step_up_required", "Confirm with your two-factor code to continue.");
    }
    await next();
  });
};

async function recordDenial(
  c: Context<AppEnv>,
  principal: Principal,
  reason: "missing_permission" | "missing_scope" | "step_up_required",
) {
  if (principal.kind === "api_key") {
    await recordKeyDenial(c, principal, "missing_scope");
    return;
  }
  await c.var.db.withTenant(
    { tenantId: principal.tenantId, actorId: principal.userId, requestId: c.var.requestId },
    (tx) =>
      recordAudit(tx, auditContextOf(c), {
        action: "access.denied",
        outcome: "DENIED",
        resource: { type: "user", id: principal.userId },
        details: { reason },
      }),
  );
}
