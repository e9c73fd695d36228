import { API_KEY_SCOPES, type ApiKeyScope } from "../auth/api-key-token";
import type { Tx } from "../db/database";
import { CURSOR_TIMESTAMP_FORMAT, type PageCursor } from "../users/page-cursor";

export type ApiKeyStatus = "active" | "revoked" | "expired";

/**
 * What administrators see of a key. A fixed column list: the secret's hash and the id of
 * the HMAC key that made it never leave the database, and the secret itself was never
 * stored (security-baseline "API keys").
 */
export interface ApiKeyView {
  id: string;
  /** The public part of the token (mk_<keyId>_...): how logs and audit name the key. */
  keyId: string;
  name: string;
  scopes: ApiKeyScope[];
  rateLimitPerMinute: number;
  status: ApiKeyStatus;
  createdAt: string;
  createdBy: string | null;
  expiresAt: string | null;
  lastUsedAt: string | null;
  revokedAt: string | null;
  revokedBy: string | null;
}

export interface ApiKeyRow {
  id: string;
  key_id: string;
  name: string;
  scopes: unknown;
  rate_limit_per_minute: number;
  created_at: Date;
  created_by: string | null;
  expires_at: Date | null;
  last_used_at: Date | null;
  revoked_at: Date | null;
  revoked_by: string | null;
  cursor_created_at: string;
}

const iso = (value: Date | null) => (value ? new Date(value).toISOString() : null);

export function toApiKeyView(row: ApiKeyRow, now: Date = new Date()): ApiKeyView {
  const stored = Array.isArray(row.scopes) ? (row.scopes as string[]) : [];
  const expired = row.expires_at !== null && new Date(row.expires_at).getTime() <= now.getTime();
  return {
    id: row.id,
    keyId: row.key_id,
    name: row.name,
    scopes: API_KEY_SCOPES.filter((s) => stored.includes(s)),
    rateLimitPerMinute: row.rate_limit_per_minute,
    status: row.revoked_at ? "revoked" : expired ? "expired" : "active",
    createdAt: new Date(row.created_at).toISOString(),
    createdBy: row.created_by,
    expiresAt: iso(row.expires_at),
    lastUsedAt: iso(row.last_used_at),
    revokedAt: iso(row.revoked_at),
    revokedBy: row.revoked_by,
  };
}

/** Keys of the transaction's tenant (RLS): one by row id, or a page after a cursor. */
export function readApiKeyRows(
  tx: Tx,
  filter: { id: string } | { after: PageCursor | null; limit: number },
): Promise<ApiKeyRow[]> {
  const where =
    "id" in filter
      ? tx`where k.id = ${filter.id}`
      : filter.after
        ? tx`where (k.created_at, k.id) > (${filter.after.createdAt}::timestamptz, ${filter.after.id}::uuid)`
        : tx``;
  const limit = "id" in filter ? tx`` : tx`order by k.created_at, k.id limit ${filter.limit + 1}`;
  return tx<ApiKeyRow[]>`
    select k.id, k.key_id, k.name, k.scopes, k.rate_limit_per_minute, k.created_at, k.created_by,
      k.expires_at, k.last_used_at, k.revoked_at, k.revoked_by,
      to_char(k.created_at at time zone 'UTC', ${CURSOR_TIMESTAMP_FORMAT}) as cursor_created_at
    from medchr.api_keys k ${where} ${limit}`;
}

/** The user behind an actor, for created_by / revoked_by (uuid columns); keys and CLIs have none. */
export function actingUserId(actor: { type: string; id?: string | null }): string | null {
  return actor.type === "user" && actor.id ? actor.id : null;
}
