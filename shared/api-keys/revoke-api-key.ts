import { z } from "zod";
import { type AuditContext, recordAudit } from "../audit/audit-context";
import { err, ok, type Result } from "../core/result";
import type { Tx } from "../db/database";
import { type ApiKeyView, actingUserId, readApiKeyRows, toApiKeyView } from "./api-key-view";

export const RevokeApiKeyInput = z.object({ apiKeyId: z.uuid(), now: z.date() });
export type RevokeApiKeyInput = z.input<typeof RevokeApiKeyInput>;

/**
 * Revokes a key of the current tenant: the next request with it is refused (the key is
 * resolved per request, nothing is cached). Idempotent: revoking a revoked key answers the
 * key again without a second audit event, so a retried DELETE does not double the record.
 * Another tenant's key, or an unknown id, is not_found.
 */
export async function revokeApiKey(
  tx: Tx,
  input: RevokeApiKeyInput,
  audit: AuditContext,
): Promise<Result<{ apiKey: ApiKeyView; alreadyRevoked: boolean }, { code: "not_found"; message: string }>> {
  const notFound = err({ code: "not_found" as const, message: "No such API key." });
  const parsed = RevokeApiKeyInput.safeParse(input);
  if (!parsed.success) return notFound;
  const { apiKeyId, now } = parsed.data;
  const [key] = await tx<{ revoked_at: Date | null }[]>`
    select revoked_at from medchr.api_keys where id = ${apiKeyId} for update`;
  if (!key) return notFound;

  const alreadyRevoked = key.revoked_at !== null;
  if (!alreadyRevoked) {
    await tx`update medchr.api_keys set revoked_at = ${now}, revoked_by = ${actingUserId(audit.actor)}
      where id = ${apiKeyId}`;
    await recordAudit(tx, audit, {
      action: "api_key.revoke",
      outcome: "SUCCESS",
      resource: { type: "api_key", id: apiKeyId },
    });
  }
  const [row] = await readApiKeyRows(tx, { id: apiKeyId });
  return ok({ apiKey: toApiKeyView(row!, now), alreadyRevoked });
}
