/**
 * Abandoned uploads (cron): an upload intent whose signed URL has expired can receive no
 * more bytes, so it is dropped, and whatever object its path may hold is queued for removal
 * unless a live document owns it. That covers a client that uploaded and never registered,
 * one that re-used a still-valid URL after a refusal or a delete removed the object (the
 * managed service only refuses a second upload while the first object exists), and an api
 * request that died between upload and registration.
 */
import type { Database } from "../db/database";
import { ABANDONED_UPLOAD_GRACE_SECONDS } from "./document-limits";
import { queueStorageDeletions, tenantsWithStorageWork } from "./storage-deletions";

export interface SweepExpiredUploadIntentsOptions {
  now: Date;
  /** Most intents dropped in one run (across tenants). */
  limit: number;
  requestId?: string;
  actorId?: string;
}

export interface UploadIntentSweepSummary {
  tenants: number;
  intentsRemoved: number;
  objectsQueued: number;
}

export async function sweepExpiredUploadIntents(
  db: Database,
  options: SweepExpiredUploadIntentsOptions,
): Promise<UploadIntentSweepSummary> {
  const requestId = options.requestId ?? `sweep-${crypto.randomUUID()}`;
  const actorId = options.actorId ?? "cron.storage_sweeper";
  const cutoff = new Date(options.now.getTime() - ABANDONED_UPLOAD_GRACE_SECONDS * 1000);
  const summary: UploadIntentSweepSummary = { tenants: 0, intentsRemoved: 0, objectsQueued: 0 };
  // Far in the past: this run looks only at intents, not at due deletions.
  const tenants = await tenantsWithStorageWork(db, requestId, new Date(0), cutoff);
  for (const tenantId of tenants) {
    const budget = options.limit - summary.intentsRemoved;
    if (budget <= 0) break;
    const done = await db.withTenant({ tenantId, actorId, requestId }, async (tx) => {
      const gone = await tx<{ storage_path: string; owned: boolean }[]>`
        with expired as (
          select id from medchr.upload_intents
          where upload_url_expires_at <= ${cutoff}
          order by upload_url_expires_at
          limit ${budget}
          for update skip locked
        )
        delete from medchr.upload_intents i using expired
        where i.id = expired.id
        returning i.storage_path, exists (
          select 1 from medchr.documents d
          where d.storage_path = i.storage_path and d.status <> 'quarantined'
        ) as owned`;
      const orphans = gone.filter((g) => !g.owned).map((g) => g.storage_path);
      await queueStorageDeletions(tx, orphans, "upload_abandoned", { now: options.now, due: "now" });
      return { removed: gone.length, queued: orphans.length };
    });
    if (done.removed === 0) continue;
    summary.tenants += 1;
    summary.intentsRemoved += done.removed;
    summary.objectsQueued += done.queued;
  }
  return summary;
}
