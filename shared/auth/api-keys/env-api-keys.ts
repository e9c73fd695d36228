import { apiKeySecretsEqual, parseEnvApiKeys } from "../api-key-token";
import { API_KEY_SCOPES, type ApiKeyScope } from "../permissions";

/** Keys from the API_KEYS setting, indexed by key id, parsed once per isolate. */
export interface EnvApiKeyIndex {
  readonly byKeyId: ReadonlyMap<string, { tenantId: string; secret: string; scopes: readonly ApiKeyScope[] }>;
}

export const EMPTY_ENV_API_KEYS: EnvApiKeyIndex = { byKeyId: new Map() };

/**
 * Parses API_KEYS. Unscoped keys are refused in prod/HIPAA mode (a key must say what it
 * may do, least privilege); in dev they get every scope. Returns problems by position,
 * never echoing key material.
 */
export function indexEnvApiKeys(
  value: string | undefined,
  options: { strict: boolean },
): { index: EnvApiKeyIndex; problems: string[] } {
  if (!value) return { index: EMPTY_ENV_API_KEYS, problems: [] };
  const parsed = parseEnvApiKeys(value);
  if (!parsed.ok) return { index: EMPTY_ENV_API_KEYS, problems: [...parsed.error.problems] };
  const byKeyId = new Map<string, { tenantId: string; secret: string; scopes: readonly ApiKeyScope[] }>();
  const problems: string[] = [];
  for (const [i, key] of parsed.value.entries()) {
    if (key.scopes === null && options.strict) {
      problems.push(`API_KEYS entry ${i + 1} has no scopes (unscoped keys are refused in prod/HIPAA mode)`);
      continue;
    }
    byKeyId.set(key.keyId, {
      tenantId: key.tenantId,
      secret: key.secret,
      scopes: key.scopes ?? [...API_KEY_SCOPES],
    });
  }
  return { index: { byKeyId }, problems };
}

/** Constant-time secret comparison; the secret's length is fixed by the format. */
export function findEnvApiKey(
  index: EnvApiKeyIndex,
  keyId: string,
  secret: string,
): { tenantId: string; scopes: readonly ApiKeyScope[] } | null {
  const entry = index.byKeyId.get(keyId);
  if (!entry) return null;
  return apiKeySecretsEqual(secret, entry.secret) ? { tenantId: entry.tenantId, scopes: entry.scopes } : null;
}
