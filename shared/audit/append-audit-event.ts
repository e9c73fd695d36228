import type postgres from "postgres";
import { activeKey, type KeyRing } from "../config/key-ring";
import type { Tx } from "../db/database";
import { type AuditEvent, type AuditEventInput, parseAuditEvent } from "./audit-events";
import { GENESIS_HASH, hashAuditEvent } from "./hash-audit-event";

/** An event as stored: the validated input plus its place in the tenant's chain. */
export type StoredAuditEvent = AuditEvent & {
  tenantId: string;
  seq: number;
  id: string;
  /** ISO-8601 UTC, millisecond precision (the column is timestamptz(3)). */
  occurredAt: string;
  prevHash: string;
  hash: string;
  keyId: string;
};

export interface AppendAuditEventOptions {
  /**
   * The tenant the caller believes it is writing for. Checked against the transaction's
   * tenant (medchr.current_tenant_id()); a mismatch throws. Leave out to use the
   * transaction's tenant.
   */
  tenantId?: string;
  /** Clock, for tests. Audit timestamps are always UTC. */
  now?: () => Date;
}

interface HeadRow {
  tenant_id: string;
  seq: string;
  hash: string;
}

/**
 * Appends one event to the current tenant's hash chain, inside the caller's transaction,
 * so the event commits or rolls back together with the change it records.
 *
 * Concurrency: the tenant's head row is locked (SELECT ... FOR UPDATE) before the next
 * sequence is computed, so concurrent appends for one tenant queue on that row and the
 * chain never forks; appends for different tenants do not wait for each other. Cost:
 * two round trips (lock + read the head; insert the event and advance the head in one
 * statement), three for a tenant's very first event.
 *
 * Why not one upsert (`insert ... on conflict do update set seq = seq returning`) to
 * create-or-lock the head: ON CONFLICT DO UPDATE fires the head's BEFORE UPDATE trigger,
 * which refuses any update that does not advance seq by exactly one.
 *
 * Throws InvalidAuditEventError for an event outside the catalogue, and Error when the
 * transaction has no tenant or another tenant than `options.tenantId`.
 */
export async function appendAuditEvent(
  tx: Tx,
  auditKeys: KeyRing,
  input: AuditEventInput,
  options: AppendAuditEventOptions = {},
): Promise<StoredAuditEvent> {
  const event = parseAuditEvent(input);
  const { keyId, key } = activeKey(auditKeys);
  const head = await lockChainHead(tx);
  if (options.tenantId !== undefined && options.tenantId.toLowerCase() !== head.tenant_id) {
    throw new Error("appendAuditEvent: tenantId does not match the transaction's tenant");
  }

  const headSeq = Number(head.seq);
  const stored: StoredAuditEvent = {
    ...event,
    tenantId: head.tenant_id,
    seq: headSeq + 1,
    id: crypto.randomUUID(),
    occurredAt: (options.now?.() ?? new Date()).toISOString(),
    prevHash: head.hash,
    keyId,
    hash: "",
  };
  stored.hash = await hashAuditEvent(key, stored);

  // Insert the event and advance the head in one statement. (tx.json, not a string cast to
  // jsonb: postgres.js serialises a jsonb parameter itself, so a string would be stored as
  // a JSON string.) The head update joins on the
  // inserted row and on the seq we locked, so it cannot move the head anywhere else.
  const advanced = await tx<{ seq: string }[]>`
    with event as (
      insert into medchr.audit_events (
        tenant_id, seq, id, occurred_at, action, outcome, actor_type, actor_id,
        resource_type, resource_id, ip, user_agent, request_id, details, prev_hash, hash, key_id
      ) values (
        ${stored.tenantId}::uuid, ${stored.seq}, ${stored.id}::uuid, ${stored.occurredAt}::timestamptz,
        ${stored.action}, ${stored.outcome}, ${stored.actor.type}, ${stored.actor.id},
        ${stored.resource.type}, ${stored.resource.id}, ${stored.ip}, ${stored.userAgent},
        ${stored.requestId}, ${tx.json(stored.details as postgres.JSONValue)}, ${stored.prevHash}, ${stored.hash},
        ${stored.keyId}
      )
      returning tenant_id, seq, hash
    )
    update medchr.audit_chain_heads as head
       set seq = event.seq, hash = event.hash, updated_at = now()
      from event
     where head.tenant_id = event.tenant_id and head.seq = event.seq - 1
    returning head.seq`;
  if (advanced.length !== 1) throw new Error("appendAuditEvent: the chain head moved while locked");
  return stored;
}

/**
 * Locks the current tenant's head row and returns it, creating the genesis head on the
 * tenant's first event. Reads the tenant from the transaction (RLS scopes the row too).
 */
async function lockChainHead(tx: Tx): Promise<HeadRow> {
  const lock = () => tx<HeadRow[]>`
    select tenant_id, seq, hash from medchr.audit_chain_heads
     where tenant_id = medchr.current_tenant_id()
       for update`;
  const [head] = await lock();
  if (head) return head;
  // First event for this tenant. Two transactions may race here: the loser's insert waits
  // for the winner and then does nothing, and its next statement (a fresh snapshot under
  // READ COMMITTED) sees and locks the winner's head.
  await tx`
    insert into medchr.audit_chain_heads (tenant_id, seq, hash)
    select medchr.current_tenant_id(), 0, ${GENESIS_HASH}
     where medchr.current_tenant_id() is not null
    on conflict (tenant_id) do nothing`;
  const [created] = await lock();
  if (!created) throw new Error("appendAuditEvent needs a tenant transaction (Database.withTenant)");
  return created;
}
