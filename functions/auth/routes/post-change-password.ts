import { z } from "@hono/zod-openapi";
import { rotateSession } from "../../../shared/auth/sessions/rotate-session";
import { sessionTimeoutsFor } from "../../../shared/auth/sessions/session-timeouts";
import { changePassword } from "../../../shared/auth/sign-in/change-password";
import { requireKeyRing } from "../../../shared/config/load-config";
import { auditContextOf } from "../../../shared/http/audit-context";
import type { FunctionApp } from "../../../shared/http/create-app";
import { sessionRoute } from "../../../shared/http/define-route";
import { HttpError } from "../../../shared/http/errors";
import { tenantScopeOf } from "../../../shared/http/tenant-scope";
import { errorResponse, issueSession, jsonContent, SignInResultSchema } from "./session-response";

const ChangePasswordBody = z
  .object({ currentPassword: z.string().min(1).max(128), newPassword: z.string().min(1).max(1024) })
  .openapi("ChangePasswordRequest");

export const postChangePasswordRoute = sessionRoute({
  method: "post",
  path: "/auth/password/change",
  audit: { actions: ["user.password_change", "session.create"] },
  tags: ["auth"],
  summary: "Change my password (current password required; my other sessions end)",
  request: { body: { content: { "application/json": { schema: ChangePasswordBody } }, required: true } },
  responses: {
    200: jsonContent(SignInResultSchema.extend({ sessionsRevoked: z.number() }), "Changed; session rotated"),
    400: errorResponse("The new password does not meet the policy"),
    401: errorResponse("Not signed in, or the current password is wrong"),
    403: errorResponse("Anti-forgery check failed"),
  },
});

export function registerPostChangePassword(app: FunctionApp) {
  app.openapi(postChangePasswordRoute, async (c) => {
    const principal = c.var.principal;
    if (principal.kind !== "session") throw new Error("session route without a session");
    const body = c.req.valid("json");
    const now = new Date();
    const audit = auditContextOf(c);
    const outcome = await c.var.db.withTenant(tenantScopeOf(c), async (tx) => {
      const changed = await changePassword(
        tx,
        {
          userId: principal.userId,
          currentSessionId: principal.sessionId,
          currentPassword: body.currentPassword,
          newPassword: body.newPassword,
          pepperKeys: requireKeyRing(c.var.config, "PASSWORD_PEPPER_KEYS"),
          now,
        },
        audit,
      );
      if (!changed.ok) return changed;
      const session = await rotateSession(
        tx,
        {
          session: principal,
          stage: principal.stage,
          mfaVerifiedAt: principal.mfaVerifiedAt,
          now,
          timeouts: sessionTimeoutsFor(c.var.config),
          ip: c.var.clientIp,
          userAgent: c.req.header("User-Agent") ?? null,
        },
        audit,
      );
      return { ok: true as const, value: { session, sessionsRevoked: changed.value.sessionsRevoked } };
    });
    if (!outcome.ok) {
      if (outcome.error.code === "unauthorized") throw new HttpError("unauthorized", outcome.error.message);
      throw new HttpError("validation_failed", outcome.error.message, {
        fields: [{ field: "newPassword", message: outcome.error.message }],
        reasons: outcome.error.reasons ?? [],
      });
    }
    const issued = await issueSession(c, outcome.value.session, principal.stage);
    return c.json({ ...issued, sessionsRevoked: outcome.value.sessionsRevoked }, 200);
  });
}
