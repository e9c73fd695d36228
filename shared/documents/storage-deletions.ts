/**
 * Removing stored objects without ever losing track of one (issue 4, "data lifecycle").
 * The transaction that decides an object must go writes a medchr.storage_deletions row
 * (queueStorageDeletions); after it commits, the caller tries the removal at once
 * (removeQueuedObjects) and the row is deleted only when storage confirmed. A failed call, a
 * storage outage or a Worker that dies in between leaves the row for the sweeper
 * (retryStorageDeletions), which retries with backoff and never gives up.
 */

import type { Database, RequestScope, Tx } from "../db/database";
import { type ObjectStorage, STORAGE_LIMITS } from "../storage/object-storage";
import { STORAGE_DELETION_BACKOFF, STORAGE_DELETION_LEASE_SECONDS } from "./document-limits";

export const STORAGE_DELETION_REASONS = [
  "document_deleted",
  "patient_deleted",
  "upload_refused",
  "upload_abandoned",
] as const;
export type StorageDeletionReason = (typeof STORAGE_DELETION_REASONS)[number];

/**
 * Queue `paths` for removal in the caller's transaction (tenant from its RLS scope). Due
 * after the lease, so the sweeper leaves them to the request that is about to try; `due:
 * "now"` for rows nobody else will try (the sweeper's own finds). `holdUntil` per path:
 * its signed upload URL is live until then (see the hold_until column).
 */
export async function queueStorageDeletions(
  tx: Tx,
  paths: readonly string[],
  reason: StorageDeletionReason,
  options: { now: Date; due?: "now" | "after_lease"; holdUntil?: ReadonlyMap<string, Date> },
): Promise<void> {
  if (paths.length === 0) return;
  const delay = options.due === "now" ? 0 : STORAGE_DELETION_LEASE_SECONDS;
  const dueAt = new Date(options.now.getTime() + delay * 1000);
  // JSON rather than array parameters: connections run with fetch_types off (poolers), so
  // postgres.js does not know the array types.
  const rows = paths.map((path) => ({ path, hold: options.holdUntil?.get(path)?.toISOString() ?? null }));
  await tx`
    insert into medchr.storage_deletions (tenant_id, storage_path, reason, next_attempt_at, hold_until)
    select (select medchr.current_tenant_id()), q.path, ${reason}, ${dueAt}, q.hold
    from jsonb_to_recordset(${tx.json(rows)}) as q(path text, hold timestamptz)
    on conflict (storage_path) do update
      set hold_until = greatest(medchr.storage_deletions.hold_until, excluded.hold_until)`;
}

export interface RemovalReport {
  /** Objects storage confirmed gone (or never there). */
  removed: number;
  /** Objects left queued for the sweeper. */
  queued: number;
}

/** A removal attempt's outcome per batch of paths: removed, or failed with an error code. */
async function attemptRemoval(
  storage: ObjectStorage | null,
  paths: readonly string[],
): Promise<{ removed: string[]; failed: Array<{ paths: string[]; code: string }> }> {
  const removed: string[] = [];
  const failed: Array<{ paths: string[]; code: string }> = [];
  for (let at = 0; at < paths.length; at += STORAGE_LIMITS.maxRemoveBatch) {
    const batch = paths.slice(at, at + STORAGE_LIMITS.maxRemoveBatch);
    if (!storage) {
      failed.push({ paths: batch, code: "unavailable" });
      continue;
    }
    let code: string | null;
    try {
      const result = await storage.removeObjects(batch);
      code = result.ok ? null : result.error.code;
    } catch {
      code = "unavailable";
    }
    if (code === null) removed.push(...batch);
    else failed.push({ paths: batch, code });
  }
  return { removed, failed };
}

/** Records a batch's outcome: confirmed rows go, failed rows wait for their next attempt. */
async function settleAttempt(
  tx: Tx,
  outcome: { removed: string[]; failed: Array<{ paths: string[]; code: string }> },
  now: Date,
  countAttempt: boolean,
): Promise<void> {
  if (outcome.removed.length > 0) {
    await tx`
      delete from medchr.storage_deletions
      where storage_path in ${tx(outcome.removed)} and (hold_until is null or hold_until <= ${now})`;
    // Removed, but an upload could still arrive: once more when the URL is dead.
    await tx`
      update medchr.storage_deletions
      set attempts = attempts + ${countAttempt ? 1 : 0}, next_attempt_at = hold_until, last_error_code = null
      where storage_path in ${tx(outcome.removed)} and hold_until > ${now}`;
  }
  for (const failure of outcome.failed) {
    // attempts counts removal attempts; the backoff doubles per attempt (document-limits.ts).
    await tx`
      update medchr.storage_deletions
      set attempts = attempts + ${countAttempt ? 1 : 0},
          last_error_code = ${failure.code},
          next_attempt_at = ${now}::timestamptz + make_interval(secs => least(
            ${STORAGE_DELETION_BACKOFF.baseSeconds}::float8
              * power(2, least(greatest(attempts + ${countAttempt ? 1 : 0} - 1, 0), 20)),
            ${STORAGE_DELETION_BACKOFF.maxSeconds}::float8))
      where storage_path in ${tx(failure.paths)}`;
  }
}

/**
 * After the queuing transaction committed: try to remove `paths` now. Never throws: what
 * could not be confirmed stays queued (its row says why and when to try again).
 */
export async function removeQueuedObjects(
  db: Database,
  scope: RequestScope,
  storage: ObjectStorage | null,
  paths: readonly string[],
  now: Date = new Date(),
): Promise<RemovalReport> {
  if (paths.length === 0) return { removed: 0, queued: 0 };
  const outcome = await attemptRemoval(storage, paths);
  const queued = outcome.failed.reduce((n, f) => n + f.paths.length, 0);
  try {
    await db.withTenant(scope, (tx) => settleAttempt(tx, outcome, now, true));
  } catch {
    // The rows are still there: the sweeper removes again (idempotent) and clears them.
    return { removed: outcome.removed.length, queued };
  }
  return { removed: outcome.removed.length, queued };
}

export interface StorageSweepSummary {
  tenants: number;
  attempted: number;
  removed: number;
  failed: number;
}

export interface RetryStorageDeletionsOptions {
  now: Date;
  /** Most rows attempted in one run (across tenants). */
  limit: number;
  /** For the request id of the sweeper's transactions (ids only). */
  requestId?: string;
  /** The system actor recorded by RLS scope. */
  actorId?: string;
}

/** Tenant ids with work for the sweeper, through the SECURITY DEFINER look-up (no tenant is set yet). */
export async function tenantsWithStorageWork(
  db: Database,
  requestId: string,
  deletionsDue: Date,
  intentsExpiredBefore: Date,
): Promise<string[]> {
  const rows = await db.withoutTenant(
    { requestId },
    (tx) => tx<{ id: string }[]>`
      select id from medchr.tenants_with_storage_work(${deletionsDue}, ${intentsExpiredBefore}) as id`,
  );
  return rows.map((r) => r.id);
}

/**
 * The sweeper (cron): every queued removal that is due, tenant by tenant. Rows are claimed
 * with a lease (SKIP LOCKED, so two sweepers never take the same row) in a short
 * transaction, removed outside any transaction, then cleared or rescheduled with backoff.
 */
export async function retryStorageDeletions(
  db: Database,
  storage: ObjectStorage,
  options: RetryStorageDeletionsOptions,
): Promise<StorageSweepSummary> {
  const requestId = options.requestId ?? `sweep-${crypto.randomUUID()}`;
  const actorId = options.actorId ?? "cron.storage_sweeper";
  const { now } = options;
  const summary: StorageSweepSummary = { tenants: 0, attempted: 0, removed: 0, failed: 0 };
  // Far in the past: this run looks only at deletions, not at expired intents.
  const tenants = await tenantsWithStorageWork(db, requestId, now, new Date(0));
  for (const tenantId of tenants) {
    const budget = options.limit - summary.attempted;
    if (budget <= 0) break;
    const scope = { tenantId, actorId, requestId };
    const leaseUntil = new Date(now.getTime() + STORAGE_DELETION_LEASE_SECONDS * 1000);
    const claimed = await db.withTenant(
      scope,
      (tx) =>
        tx<{ storage_path: string }[]>`
        with due as (
          select id from medchr.storage_deletions
          where next_attempt_at <= ${now}
          order by next_attempt_at
          limit ${budget}
          for update skip locked
        )
        update medchr.storage_deletions d
        set attempts = d.attempts + 1, next_attempt_at = ${leaseUntil}
        from due where d.id = due.id
        returning d.storage_path`,
    );
    if (claimed.length === 0) continue;
    summary.tenants += 1;
    summary.attempted += claimed.length;
    const outcome = await attemptRemoval(
      storage,
      claimed.map((r) => r.storage_path),
    );
    await db.withTenant(scope, (tx) => settleAttempt(tx, outcome, now, false));
    summary.removed += outcome.removed.length;
    summary.failed += outcome.failed.reduce((n, f) => n + f.paths.length, 0);
  }
  return summary;
}
