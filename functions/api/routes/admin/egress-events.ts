import { z } from "@hono/zod-openapi";
import { auditContextOf } from "../../../../shared/http/audit-context";
import type { FunctionApp } from "../../../../shared/http/create-app";
import { protectedRoute } from "../../../../shared/http/define-route";
import { HttpError } from "../../../../shared/http/errors";
import { tenantScopeOf } from "../../../../shared/http/tenant-scope";
import { EgressEventSchema } from "../../../../shared/llm/egress/egress-event";
import { ListEgressEventsInput, listEgressEvents } from "../../../../shared/llm/egress/list-egress-events";
import { ADMIN_BASE, commonErrors, jsonContent } from "./admin-http";

const EgressEventPageSchema = z.object({
  events: z.array(EgressEventSchema.openapi("EgressEvent")),
  nextCursor: z.string().nullable().describe("Pass as ?cursor= for the next (older) page; null at the end"),
});

export const listEgressEventsRoute = protectedRoute({
  method: "get",
  path: `${ADMIN_BASE}/egress-events`,
  audit: { actions: ["llm.egress_read"] },
  tags: ["admin"],
  summary: "PHI egress log: every AI call, which processor, why, redacted or not",
  description:
    "Newest first. One event per LLM gateway call, allowed or refused: ids, enums and counts, never content. Reading it is recorded (llm.egress_read).",
  permission: "audit.read",
  request: { query: ListEgressEventsInput },
  responses: { 200: jsonContent(EgressEventPageSchema, "One page"), ...commonErrors },
});

export function registerAdminEgressRoutes(app: FunctionApp) {
  app.openapi(listEgressEventsRoute, async (c) => {
    const result = await c.var.db.withTenant(tenantScopeOf(c), (tx) =>
      listEgressEvents(tx, c.req.valid("query"), auditContextOf(c)),
    );
    if (!result.ok)
      throw new HttpError("validation_failed", result.error.message, {
        fields: result.error.issues.map((i) => ({ field: i.path.join("."), message: i.message })),
      });
    return c.json(result.value, 200);
  });
}
