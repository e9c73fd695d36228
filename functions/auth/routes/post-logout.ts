import { z } from "@hono/zod-openapi";
import { recordAudit } from "../../../shared/audit/audit-context";
import { revokeSession } from "../../../shared/auth/sessions/revoke-sessions";
import { auditContextOf } from "../../../shared/http/audit-context";
import type { FunctionApp } from "../../../shared/http/create-app";
import { sessionRoute } from "../../../shared/http/define-route";
import { clearSessionCookie } from "../../../shared/http/session-cookie";
import { tenantScopeOf } from "../../../shared/http/tenant-scope";
import { errorResponse, jsonContent } from "./session-response";

export const postLogoutRoute = sessionRoute({
  method: "post",
  path: "/auth/logout",
  audit: { actions: ["user.logout", "session.revoke"] },
  tags: ["auth"],
  summary: "Sign out: the session is revoked server-side and the cookie cleared",
  stages: ["mfa_pending", "mfa_enrollment", "active"],
  responses: {
    200: jsonContent(z.object({ signedOut: z.literal(true) }), "Signed out"),
    401: errorResponse("Not signed in"),
    403: errorResponse("Anti-forgery check failed"),
  },
});

export function registerPostLogout(app: FunctionApp) {
  app.openapi(postLogoutRoute, async (c) => {
    const principal = c.var.principal;
    if (principal.kind !== "session") throw new Error("session route without a session");
    await c.var.db.withTenant(tenantScopeOf(c), async (tx) => {
      await revokeSession(
        tx,
        { sessionId: principal.sessionId, reason: "logout", now: new Date() },
        auditContextOf(c),
      );
      await recordAudit(tx, auditContextOf(c), {
        action: "user.logout",
        outcome: "SUCCESS",
        resource: { type: "session", id: principal.sessionId },
      });
    });
    clearSessionCookie(c);
    return c.json({ signedOut: true as const }, 200);
  });
}
