import { z } from "@hono/zod-openapi";
import { auditContextOf } from "../../../../shared/http/audit-context";
import type { FunctionApp } from "../../../../shared/http/create-app";
import { protectedRoute } from "../../../../shared/http/define-route";
import { tenantScopeOf } from "../../../../shared/http/tenant-scope";
import { revokeUserSessionsByAdmin } from "../../../../shared/users/revoke-user-sessions-by-admin";
import { ADMIN_BASE, commonErrors, errorResponse, fail, jsonContent } from "./admin-http";

export const revokeUserSessionsRoute = protectedRoute({
  method: "post",
  path: `${ADMIN_BASE}/users/{userId}/sessions/revoke`,
  audit: { actions: ["user.sessions_revoke"] },
  tags: ["admin"],
  summary: "Sign a user out everywhere",
  description: "Send an empty JSON object as the body (state-changing calls are JSON only).",
  permission: "user.manage",
  request: { params: z.object({ userId: z.uuid() }) },
  responses: {
    200: jsonContent(
      z.object({ sessionsRevoked: z.number().int() }).openapi("RevokedSessions"),
      "The user's sessions have ended",
    ),
    ...commonErrors,
    404: errorResponse("No such user in this clinic"),
  },
});

export function registerAdminUserSessionRoutes(app: FunctionApp) {
  app.openapi(revokeUserSessionsRoute, async (c) => {
    const { userId } = c.req.valid("param");
    const result = await c.var.db.withTenant(tenantScopeOf(c), (tx) =>
      revokeUserSessionsByAdmin(tx, { userId, now: new Date() }, auditContextOf(c)),
    );
    if (!result.ok) fail(result.error);
    return c.json(result.value, 200);
  });
}
