import { z } from "@hono/zod-openapi";
import { auditContextOf } from "../../../../shared/http/audit-context";
import type { FunctionApp } from "../../../../shared/http/create-app";
import { protectedRoute } from "../../../../shared/http/define-route";
import { tenantScopeOf } from "../../../../shared/http/tenant-scope";
import { getTenantPolicy } from "../../../../shared/tenancy/get-tenant-policy";
import { UpdateTenantPolicyInput, updateTenantPolicy } from "../../../../shared/tenancy/update-tenant-policy";
import { ADMIN_BASE, commonErrors, errorResponse, fail, jsonBody, jsonContent } from "./admin-http";
import { TenantPolicySchema } from "./schemas";

const PolicyResponse = z.object({ policy: TenantPolicySchema });

export const getPolicyRoute = protectedRoute({
  method: "get",
  path: `${ADMIN_BASE}/policy`,
  audit: { none: "reads the clinic security policy to an admin; no patient data" },
  tags: ["admin"],
  summary: "My clinic's security policy (defaults when never changed)",
  permission: "tenant.policy.manage",
  responses: { 200: jsonContent(PolicyResponse, "The policy"), ...commonErrors },
});

export const updatePolicyRoute = protectedRoute({
  method: "put",
  path: `${ADMIN_BASE}/policy`,
  audit: { actions: ["tenant.policy_update"] },
  tags: ["admin"],
  summary: "Change my clinic's security policy (fields left out keep their value)",
  description:
    "An IP allowlist that does not contain the caller's own address is refused with 409 unless `confirmLockout` is true.",
  permission: "tenant.policy.manage",
  request: jsonBody(UpdateTenantPolicyInput.openapi("UpdateTenantPolicyRequest")),
  responses: {
    200: jsonContent(PolicyResponse, "The policy now in force"),
    ...commonErrors,
    409: errorResponse("The allowlist would lock the caller out"),
  },
});

export function registerAdminPolicyRoutes(app: FunctionApp) {
  app.openapi(getPolicyRoute, async (c) => {
    const policy = await c.var.db.withTenant(tenantScopeOf(c), (tx) => getTenantPolicy(tx));
    return c.json({ policy }, 200);
  });

  app.openapi(updatePolicyRoute, async (c) => {
    const body = c.req.valid("json");
    const result = await c.var.db.withTenant(tenantScopeOf(c), (tx) =>
      updateTenantPolicy(tx, body, { clientIp: c.var.clientIp }, auditContextOf(c)),
    );
    if (!result.ok) fail(result.error);
    return c.json({ policy: result.value.policy }, 200);
  });
}
