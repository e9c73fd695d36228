import { createRoute, type RouteConfig } from "@hono/zod-openapi";
import type { AuditAction } from "../audit/audit-events";
import type { Permission } from "../auth/permissions";
import type { SessionStage } from "../auth/principal";
import { authenticate } from "./middleware/authenticate";
import { requirePermission } from "./middleware/authorize";
import { sessionOrApiKeyRequirements, sessionRequirements } from "./openapi-security";

/**
 * How a route is reached, recorded in the OpenAPI document (x-medchr-auth) so the shared
 * security suite (test/security) can find every route and check it without a list kept
 * by hand:
 *  - "public": no credentials (health, login, SSO); the suite keeps an explicit allowlist;
 *  - "session": a browser session in one of the given stages (the auth function);
 *  - "session_or_api_key": browser sessions and partner API keys (the api function).
 */
export type RouteAuth = "public" | "session" | "session_or_api_key";

export const AUTH_EXTENSION = "x-medchr-auth";
export const PERMISSION_EXTENSION = "x-medchr-permission";
export const STAGES_EXTENSION = "x-medchr-session-stages";
export const AUDIT_EXTENSION = "x-medchr-audit";

/**
 * What a route leaves in the audit log, declared where the route is (issue 13 audit coverage
 * guard; HIPAA 164.312(b) audit controls). Required on every route, so a new route without a
 * declaration does not compile, and recorded in the OpenAPI document (x-medchr-audit) so the
 * audit coverage suite (test/security/audit-coverage.db.test.ts) can call every route and prove
 * that a successful call wrote at least one of `actions`, none that is not declared, in the same
 * transaction as the work, with PHI-free details.
 *  - `actions`: the events a successful call writes (one of them at least).
 *  - `none`: why the route needs no event (it reads or changes nothing about patients, users,
 *    keys or policy). A route with a clinical permission may not say `none`.
 */
export type RouteAudit =
  | { readonly actions: readonly [AuditAction, ...AuditAction[]] }
  | { readonly none: string };

function auditExtension(audit: RouteAudit) {
  return { [AUDIT_EXTENSION]: "actions" in audit ? { actions: [...audit.actions] } : { none: audit.none } };
}

/** A route anyone may call (an empty security requirement: no credentials). */
export function publicRoute<const R extends RouteConfig>(config: R & { audit: RouteAudit }) {
  const { audit, ...route } = config;
  return createRoute({
    ...(route as unknown as R),
    security: [],
    [AUTH_EXTENSION]: "public",
    ...auditExtension(audit),
  });
}

/**
 * A route for the signed-in browser only (auth function): session in `stages` (default
 * active), CSRF on state changes, tenant IP allowlist; optionally one permission.
 */
export function sessionRoute<const R extends RouteConfig>(
  config: R & { stages?: readonly SessionStage[]; permission?: Permission; audit: RouteAudit },
) {
  const { stages = ["active"], permission, audit, ...route } = config;
  const middleware = [
    authenticate({ sessionStages: stages }),
    ...(permission ? [requirePermission(permission)] : []),
  ];
  return createRoute({
    ...(route as unknown as R),
    middleware,
    security: sessionRequirements(route.method),
    [AUTH_EXTENSION]: "session",
    [STAGES_EXTENSION]: [...stages],
    ...(permission ? { [PERMISSION_EXTENSION]: permission } : {}),
    ...auditExtension(audit),
  });
}

/**
 * A route of the partner/clinician API (api function): an active session or an API key,
 * then exactly one permission (role or scope), with step-up where the permission needs it.
 */
export function protectedRoute<const R extends RouteConfig>(
  config: R & { permission: Permission; audit: RouteAudit },
) {
  const { permission, audit, ...route } = config;
  return createRoute({
    ...(route as unknown as R),
    middleware: [authenticate({ apiKeys: true }), requirePermission(permission)],
    security: sessionOrApiKeyRequirements(route.method),
    [AUTH_EXTENSION]: "session_or_api_key",
    [PERMISSION_EXTENSION]: permission,
    ...auditExtension(audit),
  });
}
