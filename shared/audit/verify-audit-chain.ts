import type { KeyRing } from "../config/key-ring";
import type { Database, Tx } from "../db/database";
import type { AUDIT_CHAIN_FAILURE_REASONS } from "./audit-events";
import { GENESIS_HASH, hashAuditEvent } from "./hash-audit-event";

export type AuditChainFailureReason = (typeof AUDIT_CHAIN_FAILURE_REASONS)[number];

/** Ids and counts only: a report is printed by operators' tools and may be logged. */
export interface AuditChainReport {
  tenantId: string;
  ok: boolean;
  /** Events whose link and hash were checked and found good. */
  eventsChecked: number;
  /** The head's seq when verification finished; null when the tenant has no head. */
  headSeq: number | null;
  /** The first sequence that cannot be trusted, and why. Absent when ok. */
  failure?: { seq: number; reason: AuditChainFailureReason };
}

export interface AuditVerifyProgress {
  tenantId: string;
  checked: number;
  /** The head's seq when verification started: an estimate, appends may continue. */
  total: number;
}

export interface VerifyAuditChainOptions {
  /** Rows per round trip (keyset page). Default 1,000. */
  batchSize?: number;
  onProgress?: (progress: AuditVerifyProgress) => void;
  requestId?: string;
}

interface EventRow {
  seq: string;
  id: string;
  occurred_at: Date;
  action: string;
  outcome: string;
  actor_type: string;
  actor_id: string | null;
  resource_type: string;
  resource_id: string | null;
  ip: string | null;
  user_agent: string | null;
  request_id: string | null;
  /** jsonb as text, parsed here: no dependence on the client's type parsers (fetch_types is off). */
  details: string;
  prev_hash: string;
  hash: string;
  key_id: string;
}

interface Head {
  seq: number;
  hash: string;
}

const DEFAULT_BATCH_SIZE = 1_000;

/**
 * Verifies one tenant's chain end to end and names the first sequence that cannot be
 * trusted (security-baseline "audit"):
 *  - sequence_gap:  seq N is missing (events must run 1, 2, 3, ... with no hole);
 *  - broken_link:   event N's prev_hash is not event N-1's hash (genesis for N = 1);
 *  - unknown_key:   event N names a key id the ring does not hold;
 *  - hash_mismatch: event N's HMAC, recomputed from its stored fields, differs;
 *  - head_mismatch: the head disagrees with the last event. Head behind the events (an
 *                   old head replayed): head seq + 1. Head ahead (tail deleted): the first
 *                   missing seq. Same seq, other hash: that seq;
 *  - missing_head:  events exist but the tenant has no head row: seq 1.
 *
 * Reads through the application role with RLS (Database.withTenant), one short
 * transaction per keyset page so a long verification never holds a transaction open
 * against writers. Appends may run meanwhile: the head is read after the events, and an
 * event and its head advance commit together, so a head ahead of the last page read
 * means "read on" (and only then "truncated" if nothing more is there).
 */
export async function verifyAuditChain(
  db: Database,
  auditKeys: KeyRing,
  tenantId: string,
  options: VerifyAuditChainOptions = {},
): Promise<AuditChainReport> {
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new RangeError("batchSize must be a positive integer");
  const scope = { tenantId, requestId: options.requestId ?? "audit-verify" };

  const initialHead = await db.withTenant(scope, readHead);
  const total = initialHead?.seq ?? 0;
  options.onProgress?.({ tenantId, checked: 0, total });

  let lastSeq = 0;
  let lastHash = GENESIS_HASH;
  let eventFailure: AuditChainReport["failure"];
  const report = (failure: AuditChainReport["failure"], head: Head | null): AuditChainReport => ({
    tenantId,
    ok: failure === undefined,
    eventsChecked: lastSeq,
    headSeq: head?.seq ?? null,
    ...(failure ? { failure } : {}),
  });

  for (;;) {
    // Walk the events after the last good one.
    while (eventFailure === undefined) {
      const rows = await db.withTenant(scope, (tx) => readEvents(tx, tenantId, lastSeq, batchSize));
      for (const row of rows) {
        eventFailure = await checkEvent(auditKeys, tenantId, row, lastSeq + 1, lastHash);
        if (eventFailure) break;
        lastSeq += 1;
        lastHash = row.hash;
      }
      options.onProgress?.({ tenantId, checked: lastSeq, total: Math.max(total, lastSeq) });
      if (rows.length < batchSize) break;
    }

    const head = await db.withTenant(scope, readHead);
    if (!head) {
      const empty = lastSeq === 0 && eventFailure === undefined;
      return report(empty ? undefined : { seq: 1, reason: "missing_head" }, null);
    }
    // The head names a seq below an event we verified: an old head was put back.
    if (head.seq < lastSeq) return report({ seq: head.seq + 1, reason: "head_mismatch" }, head);
    if (head.seq === lastSeq) {
      if (head.hash !== lastHash) return report({ seq: Math.max(lastSeq, 1), reason: "head_mismatch" }, head);
      return report(eventFailure, head);
    }
    // head.seq > lastSeq: the events stop short of the head.
    if (eventFailure) return report(eventFailure, head);
    // Either writers appended while we read (read on), or the tail is gone.
    const [next] = await db.withTenant(scope, (tx) => readEvents(tx, tenantId, lastSeq, 1));
    if (!next) return report({ seq: lastSeq + 1, reason: "head_mismatch" }, head);
  }
}

/** The first problem with `row` as event number `expectedSeq`, or undefined if it is good. */
async function checkEvent(
  auditKeys: KeyRing,
  tenantId: string,
  row: EventRow,
  expectedSeq: number,
  prevHash: string,
): Promise<AuditChainReport["failure"]> {
  const seq = Number(row.seq);
  if (seq !== expectedSeq) return { seq: expectedSeq, reason: "sequence_gap" };
  if (row.prev_hash !== prevHash) return { seq, reason: "broken_link" };
  const key = auditKeys.keys.get(row.key_id);
  if (!key) return { seq, reason: "unknown_key" };
  const expected = await hashAuditEvent(key, {
    tenantId,
    seq,
    prevHash: row.prev_hash,
    keyId: row.key_id,
    id: row.id,
    occurredAt: row.occurred_at.toISOString(),
    action: row.action,
    outcome: row.outcome,
    actor: { type: row.actor_type, id: row.actor_id },
    resource: { type: row.resource_type, id: row.resource_id },
    ip: row.ip,
    userAgent: row.user_agent,
    requestId: row.request_id,
    details: JSON.parse(row.details) as Record<string, unknown>,
  });
  // A plain comparison is fine: the verifier is not an oracle an attacker can time.
  if (expected !== row.hash) return { seq, reason: "hash_mismatch" };
  return undefined;
}

function readEvents(tx: Tx, tenantId: string, afterSeq: number, limit: number): Promise<EventRow[]> {
  return tx<EventRow[]>`
    select seq, id, occurred_at, action, outcome, actor_type, actor_id, resource_type, resource_id,
           ip, user_agent, request_id, details::text as details, prev_hash, hash, key_id
      from medchr.audit_events
     where tenant_id = ${tenantId}::uuid and seq > ${afterSeq}
     order by seq
     limit ${limit}`;
}

async function readHead(tx: Tx): Promise<Head | null> {
  const [row] = await tx<{ seq: string; hash: string }[]>`
    select seq, hash from medchr.audit_chain_heads where tenant_id = medchr.current_tenant_id()`;
  return row ? { seq: Number(row.seq), hash: row.hash } : null;
}

/**
 * Verifies every tenant's chain, one after another. Tenant ids come from
 * medchr.list_tenant_ids(), the SECURITY DEFINER function that lets the application role
 * enumerate tenants without reading any tenant's rows.
 */
export async function verifyAllTenants(
  db: Database,
  auditKeys: KeyRing,
  options: VerifyAuditChainOptions = {},
): Promise<AuditChainReport[]> {
  const tenantIds = await listTenantIds(db, options.requestId);
  const reports: AuditChainReport[] = [];
  for (const tenantId of tenantIds) reports.push(await verifyAuditChain(db, auditKeys, tenantId, options));
  return reports;
}

export async function listTenantIds(db: Database, requestId = "audit-verify"): Promise<string[]> {
  const rows = await db.withoutTenant(
    { requestId },
    (tx) => tx<{ id: string }[]>`select id from medchr.list_tenant_ids() as id`,
  );
  return rows.map((r) => r.id);
}
