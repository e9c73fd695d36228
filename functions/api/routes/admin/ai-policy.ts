import { z } from "@hono/zod-openapi";
import { auditContextOf } from "../../../../shared/http/audit-context";
import type { FunctionApp } from "../../../../shared/http/create-app";
import { protectedRoute } from "../../../../shared/http/define-route";
import { tenantScopeOf } from "../../../../shared/http/tenant-scope";
import { EXTERNAL_PROCESSORS } from "../../../../shared/llm/llm-provider";
import { getTenantAiPolicy } from "../../../../shared/llm/policy/get-tenant-ai-policy";
import { TenantAiPolicySchema } from "../../../../shared/llm/policy/tenant-ai-policy";
import {
  UpdateTenantAiPolicyInput,
  updateTenantAiPolicy,
} from "../../../../shared/llm/policy/update-tenant-ai-policy";
import { ADMIN_BASE, commonErrors, errorResponse, fail, jsonBody, jsonContent } from "./admin-http";

const AiPolicyResponse = z
  .object({
    policy: TenantAiPolicySchema,
    deployment: z.object({
      processors: z
        .array(z.enum(EXTERNAL_PROCESSORS))
        .describe("Processors this deployment has a business associate agreement with (PHI_PROCESSORS)"),
      redactionEnforced: z
        .boolean()
        .describe("PHI_REDACTION_ENABLED: redaction applies whatever the policy says"),
    }),
  })
  .openapi("AiPolicyResponse");

export const getAiPolicyRoute = protectedRoute({
  method: "get",
  path: `${ADMIN_BASE}/ai-policy`,
  audit: { none: "reads the clinic's AI settings to an admin; no patient data" },
  tags: ["admin"],
  summary: "My clinic's AI policy, and what the deployment permits",
  permission: "tenant.policy.manage",
  responses: { 200: jsonContent(AiPolicyResponse, "The policy"), ...commonErrors },
});

export const updateAiPolicyRoute = protectedRoute({
  method: "put",
  path: `${ADMIN_BASE}/ai-policy`,
  audit: { actions: ["tenant.ai_policy_update"] },
  tags: ["admin"],
  summary: "Change my clinic's AI policy",
  description:
    "Replaces the whole policy. `version` must be the one read: a change made since is refused with 409. External processing must name processors the deployment has a BAA with.",
  permission: "tenant.policy.manage",
  request: jsonBody(UpdateTenantAiPolicyInput.openapi("UpdateAiPolicyRequest")),
  responses: {
    200: jsonContent(AiPolicyResponse, "The policy now in force"),
    ...commonErrors,
    409: errorResponse("The policy changed since it was read"),
  },
});

const deploymentOf = (config: { phiProcessors: readonly string[]; phiRedactionEnabled: boolean }) => ({
  processors: EXTERNAL_PROCESSORS.filter((p) => config.phiProcessors.includes(p)),
  redactionEnforced: config.phiRedactionEnabled,
});

export function registerAdminAiPolicyRoutes(app: FunctionApp) {
  app.openapi(getAiPolicyRoute, async (c) => {
    const policy = await c.var.db.withTenant(tenantScopeOf(c), (tx) => getTenantAiPolicy(tx));
    return c.json({ policy, deployment: deploymentOf(c.var.config) }, 200);
  });

  app.openapi(updateAiPolicyRoute, async (c) => {
    const body = c.req.valid("json");
    const result = await c.var.db.withTenant(tenantScopeOf(c), (tx) =>
      updateTenantAiPolicy(tx, body, { deploymentProcessors: c.var.config.phiProcessors }, auditContextOf(c)),
    );
    if (!result.ok) fail(result.error);
    return c.json({ policy: result.value.policy, deployment: deploymentOf(c.var.config) }, 200);
  });
}
