import { z } from "@hono/zod-openapi";
import { PERMISSIONS } from "../../../shared/auth/permissions";
import { deriveCsrfToken } from "../../../shared/auth/session-token";
import { sessionTimeoutsFor } from "../../../shared/auth/sessions/session-timeouts";
import { requireKeyRing } from "../../../shared/config/load-config";
import type { FunctionApp } from "../../../shared/http/create-app";
import { sessionRoute } from "../../../shared/http/define-route";
import { tenantScopeOf } from "../../../shared/http/tenant-scope";
import { errorResponse, jsonContent, SessionStageSchema } from "./session-response";

const SessionInfo = z
  .object({
    user: z.object({ id: z.uuid(), email: z.string(), displayName: z.string(), role: z.string() }),
    tenant: z.object({ id: z.uuid(), name: z.string() }),
    permissions: z.array(z.enum(PERMISSIONS)),
    stage: SessionStageSchema,
    mfa: z.object({
      enrolled: z.boolean(),
      verifiedAt: z.string().nullable(),
      /** When a step-up action will ask for a code again (null: ask now). */
      stepUpValidUntil: z.string().nullable(),
      required: z.boolean(),
    }),
    session: z.object({
      id: z.uuid(),
      method: z.string(),
      expiresAt: z.string(),
      idleTimeoutSeconds: z.number(),
    }),
    csrfToken: z.string(),
  })
  .openapi("SessionInfo");

export const getSessionRoute = sessionRoute({
  method: "get",
  path: "/auth/session",
  audit: { none: "the caller's own session state; no patient data" },
  tags: ["auth"],
  summary: "Who I am: user, tenant, role, permissions, MFA state and the CSRF token",
  stages: ["mfa_pending", "mfa_enrollment", "active"],
  responses: { 200: jsonContent(SessionInfo, "The current session"), 401: errorResponse("Not signed in") },
});

export function registerGetSession(app: FunctionApp) {
  app.openapi(getSessionRoute, async (c) => {
    const principal = c.var.principal;
    if (principal.kind !== "session") throw new Error("session route without a session");
    const row = await c.var.db.withTenant(tenantScopeOf(c), async (tx) => {
      const [r] = await tx<
        { email: string; display_name: string; tenant_name: string; enrolled: boolean }[]
      >`select u.email, u.display_name, t.name as tenant_name,
               exists (select 1 from medchr.mfa_factors f where f.user_id = u.id) as enrolled
        from medchr.users u join medchr.tenants t on t.id = u.tenant_id where u.id = ${principal.userId}`;
      return r!;
    });
    const config = c.var.config;
    const windowMs = Math.min(config.stepUpWindowMinutes, principal.stepUpWindowMinutes) * 60_000;
    const stepUpValidUntil =
      principal.mfaVerifiedAt && Date.now() - principal.mfaVerifiedAt.getTime() < windowMs
        ? new Date(principal.mfaVerifiedAt.getTime() + windowMs).toISOString()
        : null;
    // Partial sessions see no permissions: they can do nothing but finish signing in.
    const permissions =
      principal.stage === "active" ? PERMISSIONS.filter((p) => principal.permissions.has(p)) : [];
    return c.json(
      {
        user: { id: principal.userId, email: row.email, displayName: row.display_name, role: principal.role },
        tenant: { id: principal.tenantId, name: row.tenant_name },
        permissions,
        stage: principal.stage,
        mfa: {
          enrolled: row.enrolled,
          verifiedAt: principal.mfaVerifiedAt?.toISOString() ?? null,
          stepUpValidUntil,
          required: config.strict || principal.mfaRequired,
        },
        session: {
          id: principal.sessionId,
          method: principal.method,
          expiresAt: principal.absoluteExpiresAt.toISOString(),
          idleTimeoutSeconds: sessionTimeoutsFor(config).idleMs / 1000,
        },
        csrfToken: await deriveCsrfToken(requireKeyRing(config, "SESSION_KEYS"), principal.tokenHash),
      },
      200,
    );
  });
}
