import { z } from "@hono/zod-openapi";
import { revokeSession, revokeUserSessions } from "../../../shared/auth/sessions/revoke-sessions";
import { auditContextOf } from "../../../shared/http/audit-context";
import type { FunctionApp } from "../../../shared/http/create-app";
import { sessionRoute } from "../../../shared/http/define-route";
import { HttpError } from "../../../shared/http/errors";
import { clearSessionCookie } from "../../../shared/http/session-cookie";
import { tenantScopeOf } from "../../../shared/http/tenant-scope";
import { errorResponse, jsonContent } from "./session-response";

const SessionSummary = z
  .object({
    id: z.uuid(),
    current: z.boolean(),
    method: z.string(),
    createdAt: z.string(),
    lastSeenAt: z.string(),
    expiresAt: z.string(),
    userAgent: z.string().nullable(),
  })
  .openapi("SessionSummary");

export const listMySessionsRoute = sessionRoute({
  method: "get",
  path: "/auth/sessions",
  audit: { none: "lists the caller's own sessions; no patient data" },
  tags: ["auth"],
  summary: "My live sessions",
  responses: {
    200: jsonContent(z.object({ sessions: z.array(SessionSummary) }), "Live sessions"),
    401: errorResponse("Not signed in"),
  },
});

export const deleteMySessionRoute = sessionRoute({
  method: "delete",
  path: "/auth/sessions/{sessionId}",
  audit: { actions: ["session.revoke"] },
  tags: ["auth"],
  summary: "End one of my sessions",
  request: { params: z.object({ sessionId: z.uuid() }) },
  responses: {
    200: jsonContent(z.object({ revoked: z.literal(true) }), "Ended"),
    401: errorResponse("Not signed in"),
    403: errorResponse("Anti-forgery check failed"),
    404: errorResponse("No such live session of mine"),
  },
});

export const revokeOtherSessionsRoute = sessionRoute({
  method: "post",
  path: "/auth/sessions/revoke-others",
  audit: { actions: ["user.sessions_revoke"] },
  tags: ["auth"],
  summary: "End all my sessions except this one",
  responses: {
    200: jsonContent(z.object({ revoked: z.number() }), "Ended"),
    401: errorResponse("Not signed in"),
    403: errorResponse("Anti-forgery check failed"),
  },
});

export function registerMySessions(app: FunctionApp) {
  app.openapi(listMySessionsRoute, async (c) => {
    const principal = c.var.principal;
    if (principal.kind !== "session") throw new Error("session route without a session");
    const rows = await c.var.db.withTenant(
      tenantScopeOf(c),
      (tx) =>
        tx<
          {
            id: string;
            method: string;
            created_at: Date;
            last_seen_at: Date;
            absolute_expires_at: Date;
            user_agent: string | null;
          }[]
        >`select id, method, created_at, last_seen_at, absolute_expires_at, user_agent from medchr.ui_sessions
        where user_id = ${principal.userId} and revoked_at is null and absolute_expires_at > now()
        order by last_seen_at desc limit 100`,
    );
    return c.json(
      {
        sessions: rows.map((r) => ({
          id: r.id,
          current: r.id === principal.sessionId,
          method: r.method,
          createdAt: new Date(r.created_at).toISOString(),
          lastSeenAt: new Date(r.last_seen_at).toISOString(),
          expiresAt: new Date(r.absolute_expires_at).toISOString(),
          userAgent: r.user_agent,
        })),
      },
      200,
    );
  });

  app.openapi(deleteMySessionRoute, async (c) => {
    const principal = c.var.principal;
    if (principal.kind !== "session") throw new Error("session route without a session");
    const { sessionId } = c.req.valid("param");
    const revoked = await c.var.db.withTenant(tenantScopeOf(c), (tx) =>
      revokeSession(
        tx,
        { sessionId, userId: principal.userId, reason: "user_request", now: new Date() },
        auditContextOf(c),
      ),
    );
    if (!revoked) throw new HttpError("not_found", "No such session.");
    if (sessionId === principal.sessionId) clearSessionCookie(c);
    return c.json({ revoked: true as const }, 200);
  });

  app.openapi(revokeOtherSessionsRoute, async (c) => {
    const principal = c.var.principal;
    if (principal.kind !== "session") throw new Error("session route without a session");
    const revoked = await c.var.db.withTenant(tenantScopeOf(c), (tx) =>
      revokeUserSessions(
        tx,
        {
          userId: principal.userId,
          reason: "user_request",
          exceptSessionId: principal.sessionId,
          now: new Date(),
        },
        auditContextOf(c),
      ),
    );
    return c.json({ revoked }, 200);
  });
}
