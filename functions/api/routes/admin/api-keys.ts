import { z } from "@hono/zod-openapi";
import { CreateApiKeyInput, createApiKey } from "../../../../shared/api-keys/create-api-key";
import { listApiKeys } from "../../../../shared/api-keys/list-api-keys";
import { revokeApiKey } from "../../../../shared/api-keys/revoke-api-key";
import { requireKeyRing } from "../../../../shared/config/load-config";
import { auditContextOf } from "../../../../shared/http/audit-context";
import type { FunctionApp } from "../../../../shared/http/create-app";
import { protectedRoute } from "../../../../shared/http/define-route";
import { tenantScopeOf } from "../../../../shared/http/tenant-scope";
import { ADMIN_BASE, commonErrors, errorResponse, fail, jsonBody, jsonContent } from "./admin-http";
import { ApiKeySchema, NextCursor, PageQuery } from "./schemas";

export const createApiKeyRoute = protectedRoute({
  method: "post",
  path: `${ADMIN_BASE}/api-keys`,
  audit: { actions: ["api_key.create"] },
  tags: ["admin"],
  summary: "Issue an API key for a partner system",
  description:
    "The `token` (mk_<keyId>_<secret>) is in this response only: store it now. Send it as `Authorization: Bearer <token>` or `X-API-Key`, never in a URL.",
  permission: "apikey.manage",
  request: jsonBody(CreateApiKeyInput.openapi("CreateApiKeyRequest")),
  responses: {
    201: jsonContent(
      z.object({ apiKey: ApiKeySchema, token: z.string() }).openapi("CreatedApiKey"),
      "Issued",
    ),
    ...commonErrors,
  },
});

export const listApiKeysRoute = protectedRoute({
  method: "get",
  path: `${ADMIN_BASE}/api-keys`,
  audit: { none: "lists key metadata (never secrets) to an admin; no patient data" },
  tags: ["admin"],
  summary: "My clinic's API keys (never their secrets), oldest first",
  permission: "apikey.manage",
  request: { query: PageQuery },
  responses: {
    200: jsonContent(z.object({ apiKeys: z.array(ApiKeySchema), nextCursor: NextCursor }), "One page"),
    ...commonErrors,
  },
});

export const revokeApiKeyRoute = protectedRoute({
  method: "delete",
  path: `${ADMIN_BASE}/api-keys/{apiKeyId}`,
  audit: { actions: ["api_key.revoke"] },
  tags: ["admin"],
  summary: "Revoke an API key (idempotent)",
  permission: "apikey.manage",
  request: { params: z.object({ apiKeyId: z.uuid() }) },
  responses: {
    200: jsonContent(z.object({ apiKey: ApiKeySchema }), "Revoked (or already revoked)"),
    ...commonErrors,
    404: errorResponse("No such API key in this clinic"),
  },
});

export function registerAdminApiKeyRoutes(app: FunctionApp) {
  app.openapi(createApiKeyRoute, async (c) => {
    const body = c.req.valid("json");
    const hmacKeys = requireKeyRing(c.var.config, "API_KEY_HMAC_KEYS");
    const result = await c.var.db.withTenant(tenantScopeOf(c), (tx) =>
      createApiKey(tx, body, { hmacKeys, now: new Date() }, auditContextOf(c)),
    );
    if (!result.ok) fail(result.error);
    return c.json(result.value, 201);
  });

  app.openapi(listApiKeysRoute, async (c) => {
    const query = c.req.valid("query");
    const result = await c.var.db.withTenant(tenantScopeOf(c), (tx) =>
      listApiKeys(tx, query, { now: new Date() }),
    );
    if (!result.ok) fail(result.error);
    return c.json({ apiKeys: result.value.items, nextCursor: result.value.nextCursor }, 200);
  });

  app.openapi(revokeApiKeyRoute, async (c) => {
    const { apiKeyId } = c.req.valid("param");
    const result = await c.var.db.withTenant(tenantScopeOf(c), (tx) =>
      revokeApiKey(tx, { apiKeyId, now: new Date() }, auditContextOf(c)),
    );
    if (!result.ok) fail(result.error);
    return c.json({ apiKey: result.value.apiKey }, 200);
  });
}
