import { z } from "zod";
import { type AuditContext, recordAudit } from "../audit/audit-context";
import { API_KEY_SCOPES, generateApiKeyToken, hashApiKeySecret } from "../auth/api-key-token";
import type { KeyRing } from "../config/key-ring";
import { err, ok, type Result } from "../core/result";
import type { Tx } from "../db/database";
import {
  hasNoControlCharacters,
  type InvalidFieldsError,
  invalidFields,
  NO_CONTROL_CHARACTERS_MESSAGE,
} from "../users/invalid-fields";
import { type ApiKeyView, actingUserId, readApiKeyRows, toApiKeyView } from "./api-key-view";

/**
 * Default per-key limit: 10 requests a second sustained covers a partner's batch sync
 * while bounding what one leaked key can pull before it is noticed (security-baseline
 * "API keys": per-key per-minute limit).
 */
export const API_KEY_RATE_LIMIT_DEFAULT = 600;
/**
 * Ceiling an administrator may set. The column allows more for operator-provisioned keys;
 * anything above ~166 requests a second for one partner is a capacity decision, not a
 * settings-page one.
 */
export const API_KEY_RATE_LIMIT_MAX = 10_000;

export const CreateApiKeyInput = z.strictObject({
  name: z.string().trim().min(1).max(100).refine(hasNoControlCharacters, NO_CONTROL_CHARACTERS_MESSAGE),
  scopes: z
    .array(z.enum(API_KEY_SCOPES))
    .min(1)
    .max(API_KEY_SCOPES.length)
    .refine((list) => new Set(list).size === list.length, "scopes must not repeat"),
  rateLimitPerMinute: z.number().int().min(1).max(API_KEY_RATE_LIMIT_MAX).default(API_KEY_RATE_LIMIT_DEFAULT),
  /** ISO 8601 with an offset; absent or null: the key lives until revoked. */
  expiresAt: z.iso.datetime({ offset: true }).nullish(),
});
export type CreateApiKeyInput = z.input<typeof CreateApiKeyInput>;

export interface CreatedApiKey {
  apiKey: ApiKeyView;
  /** `mk_<keyId>_<secret>`: shown to the creator once; only its HMAC is stored. */
  token: string;
}

/**
 * Issues a database API key for the current tenant (RLS scope of `tx`): a fresh token from
 * generateApiKeyToken, stored as HMAC-SHA-256 under the active API_KEY_HMAC_KEYS key with
 * that key's id (so the ring can rotate). Audited: api_key.create with the scopes, in `tx`.
 */
export async function createApiKey(
  tx: Tx,
  input: CreateApiKeyInput,
  options: { hmacKeys: KeyRing; now: Date },
  audit: AuditContext,
): Promise<Result<CreatedApiKey, InvalidFieldsError>> {
  const parsed = CreateApiKeyInput.safeParse(input);
  if (!parsed.success) return err(invalidFields(parsed.error.issues));
  const { name, rateLimitPerMinute } = parsed.data;
  const scopes = API_KEY_SCOPES.filter((s) => parsed.data.scopes.includes(s));
  const expiresAt = parsed.data.expiresAt ? new Date(parsed.data.expiresAt) : null;
  if (expiresAt && expiresAt.getTime() <= options.now.getTime()) {
    return err(invalidFields([{ path: ["expiresAt"], message: "must be in the future" }]));
  }

  const generated = generateApiKeyToken();
  const { keyId: hashKeyId, hash } = await hashApiKeySecret(generated.secret, options.hmacKeys);
  const [inserted] = await tx<{ id: string }[]>`
    insert into medchr.api_keys (tenant_id, key_id, name, secret_hash, hash_key_id, scopes,
      rate_limit_per_minute, created_by, expires_at)
    values ((select medchr.current_tenant_id()), ${generated.keyId}, ${name}, ${hash}, ${hashKeyId},
      ${tx.json(scopes)}, ${rateLimitPerMinute}, ${actingUserId(audit.actor)}, ${expiresAt})
    returning id`;
  await recordAudit(tx, audit, {
    action: "api_key.create",
    outcome: "SUCCESS",
    resource: { type: "api_key", id: inserted!.id },
    details: { scopes },
  });
  const [row] = await readApiKeyRows(tx, { id: inserted!.id });
  return ok({ apiKey: toApiKeyView(row!, options.now), token: generated.token });
}
