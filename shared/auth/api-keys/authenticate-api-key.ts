import type { KeyRing } from "../../config/key-ring";
import { err, ok, type Result } from "../../core/result";
import type { Database } from "../../db/database";
import { parseApiKeyToken, verifyApiKeySecret } from "../api-key-token";
import { API_KEY_SCOPES, type ApiKeyScope, permissionsForScopes } from "../permissions";
import type { ApiKeyPrincipal } from "../principal";
import { type EnvApiKeyIndex, findEnvApiKey } from "./env-api-keys";

/** Default per-minute limit for keys from the API_KEYS setting (database keys carry their own). */
export const ENV_API_KEY_RATE_LIMIT_PER_MINUTE = 600;

export type ApiKeyRejection = "malformed" | "unknown" | "revoked" | "expired" | "tenant_suspended";

export interface AuthenticatedApiKey {
  principal: ApiKeyPrincipal;
  ipAllowlist: readonly string[];
  lastUsedAt: Date | null;
}

interface ApiKeyRow {
  api_key_id: string;
  tenant_id: string;
  secret_hash: Uint8Array;
  hash_key_id: string;
  scopes: string[];
  rate_limit_per_minute: number;
  expires_at: Date | null;
  revoked_at: Date | null;
  last_used_at: Date | null;
  tenant_status: string;
  ip_allowlist: string[];
}

function scopesOf(value: unknown): ApiKeyScope[] {
  return Array.isArray(value)
    ? value.filter((s): s is ApiKeyScope => (API_KEY_SCOPES as readonly string[]).includes(s))
    : [];
}

/**
 * Resolve an `mk_<keyid>_<secret>` key (security-baseline "API keys"): the key id finds
 * the row before the tenant is known (SECURITY DEFINER), the secret is checked by HMAC in
 * constant time under the key named by the row (rotation). Keys from the API_KEYS setting
 * are checked the same way. Every failure is the same 401 to the caller; the reason is
 * for the audit log and metrics only.
 */
export async function authenticateApiKey(
  db: Database,
  token: string,
  options: { hmacKeys: KeyRing; envKeys: EnvApiKeyIndex; now: Date; requestId: string },
): Promise<
  Result<
    AuthenticatedApiKey,
    {
      code: "unauthorized";
      message: string;
      reason: ApiKeyRejection;
      tenantId?: string;
      apiKeyRowId?: string;
      keyId?: string;
    }
  >
> {
  const fail = (
    reason: ApiKeyRejection,
    extra: { tenantId?: string; apiKeyRowId?: string; keyId?: string } = {},
  ) => err({ code: "unauthorized" as const, message: "The API key is not valid.", reason, ...extra });
  const parsed = parseApiKeyToken(token);
  if (!parsed.ok) return fail("malformed");
  const { keyId, secret } = parsed.value;

  const envKey = findEnvApiKey(options.envKeys, keyId, secret);
  if (envKey) {
    const [tenant] = await db.withoutTenant(
      { requestId: options.requestId },
      (tx) =>
        tx<{ tenant_status: string; ip_allowlist: string[] }[]>`
        select * from medchr.find_tenant_access(${envKey.tenantId})`,
    );
    if (tenant?.tenant_status !== "active") return fail("tenant_suspended", { keyId });
    return ok({
      principal: {
        kind: "api_key",
        tenantId: envKey.tenantId,
        apiKeyRowId: null,
        keyId,
        scopes: envKey.scopes,
        permissions: permissionsForScopes(envKey.scopes),
        rateLimitPerMinute: ENV_API_KEY_RATE_LIMIT_PER_MINUTE,
      },
      ipAllowlist: Array.isArray(tenant.ip_allowlist) ? tenant.ip_allowlist : [],
      lastUsedAt: null,
    });
  }

  const [row] = await db.withoutTenant(
    { requestId: options.requestId },
    (tx) => tx<ApiKeyRow[]>`select * from medchr.find_api_key(${keyId})`,
  );
  const valid = row
    ? await verifyApiKeySecret(secret, row.secret_hash, row.hash_key_id, options.hmacKeys)
    : false;
  if (!row || !valid) return fail("unknown");
  const ids = { tenantId: row.tenant_id, apiKeyRowId: row.api_key_id, keyId };
  if (row.revoked_at) return fail("revoked", ids);
  if (row.expires_at && new Date(row.expires_at).getTime() <= options.now.getTime())
    return fail("expired", ids);
  if (row.tenant_status !== "active") return fail("tenant_suspended", ids);
  const scopes = scopesOf(row.scopes);
  return ok({
    principal: {
      kind: "api_key",
      tenantId: row.tenant_id,
      apiKeyRowId: row.api_key_id,
      keyId,
      scopes,
      permissions: permissionsForScopes(scopes),
      rateLimitPerMinute: row.rate_limit_per_minute,
    },
    ipAllowlist: Array.isArray(row.ip_allowlist) ? row.ip_allowlist : [],
    lastUsedAt: row.last_used_at ? new Date(row.last_used_at) : null,
  });
}
