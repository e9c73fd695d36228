import { z } from "@hono/zod-openapi";
import { ListAuditEventsInput, listAuditEvents } from "../../../../shared/audit/list-audit-events";
import { verifyTenantAuditChain } from "../../../../shared/audit/verify-tenant-audit-chain";
import { requireKeyRing } from "../../../../shared/config/load-config";
import { auditContextOf } from "../../../../shared/http/audit-context";
import type { FunctionApp } from "../../../../shared/http/create-app";
import { protectedRoute } from "../../../../shared/http/define-route";
import { HttpError } from "../../../../shared/http/errors";
import { commonErrors, jsonContent } from "../../../../shared/http/openapi-responses";
import { tenantScopeOf } from "../../../../shared/http/tenant-scope";

const AUDIT_BASE = "/api/v1/audit";

const AuditEventSchema = z
  .object({
    seq: z.number().int(),
    id: z.uuid(),
    occurredAt: z.string(),
    action: z.string(),
    outcome: z.enum(["SUCCESS", "DENIED", "FAILURE"]),
    actor: z.object({ type: z.string(), id: z.string().nullable() }),
    resource: z.object({ type: z.string(), id: z.string().nullable() }),
    ip: z.string().nullable(),
    requestId: z.string().nullable(),
    details: z.record(z.string(), z.unknown()).describe("Ids, counts, enums and flags only (never PHI)"),
  })
  .openapi("AuditEvent");

const AuditEventPageSchema = z.object({
  events: z.array(AuditEventSchema),
  nextCursor: z.string().nullable().describe("Pass as ?cursor= for the next (older) page; null at the end"),
});

const AuditVerificationSchema = z
  .object({
    ok: z.boolean(),
    eventsChecked: z.number().int(),
    headSeq: z.number().int().nullable(),
    failure: z
      .object({ seq: z.number().int(), reason: z.string() })
      .optional()
      .describe("The first sequence that cannot be trusted, and why"),
  })
  .openapi("AuditVerification");

export const listAuditEventsRoute = protectedRoute({
  method: "get",
  path: `${AUDIT_BASE}/events`,
  audit: { actions: ["audit.read"] },
  tags: ["audit"],
  summary: "My clinic's audit log, newest first, with filters",
  description:
    "Filters combine (all must match). action takes an action or a dotted prefix ending in a dot (patient.). Reading the log is itself recorded (audit.read).",
  permission: "audit.read",
  request: { query: ListAuditEventsInput },
  responses: { 200: jsonContent(AuditEventPageSchema, "One page"), ...commonErrors },
});

export const verifyAuditChainRoute = protectedRoute({
  method: "get",
  path: `${AUDIT_BASE}/verify`,
  audit: { actions: ["audit.verify"] },
  tags: ["audit"],
  summary: "Verify my clinic's audit chain now",
  description:
    "Recomputes every event's hash and link and checks the chain head; names the first sequence that cannot be trusted. The verdict is recorded (audit.verify).",
  permission: "audit.read",
  responses: { 200: jsonContent(AuditVerificationSchema, "The verdict"), ...commonErrors },
});

export function registerAuditRoutes(app: FunctionApp) {
  app.openapi(listAuditEventsRoute, async (c) => {
    const result = await c.var.db.withTenant(tenantScopeOf(c), (tx) =>
      listAuditEvents(tx, c.req.valid("query"), auditContextOf(c)),
    );
    if (!result.ok)
      throw new HttpError("validation_failed", result.error.message, {
        fields: result.error.issues.map((i) => ({ field: i.path.join("."), message: i.message })),
      });
    return c.json(result.value, 200);
  });

  app.openapi(verifyAuditChainRoute, async (c) => {
    const scope = tenantScopeOf(c);
    const report = await verifyTenantAuditChain(
      c.var.db,
      requireKeyRing(c.var.config, "AUDIT_KEYS"),
      { tenantId: scope.tenantId, actorId: scope.actorId ?? "", requestId: scope.requestId },
      auditContextOf(c),
    );
    return c.json(
      {
        ok: report.ok,
        eventsChecked: report.eventsChecked,
        headSeq: report.headSeq,
        ...(report.failure ? { failure: report.failure } : {}),
      },
      200,
    );
  });
}
