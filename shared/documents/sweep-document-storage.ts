/**
 * The cron's one call for document storage: first turn abandoned upload intents into
 * queued removals, then work through every removal that is due.
 *
 *   const summary = await sweepDocumentStorage(db, storage, { now: new Date(), limit: 500 });
 *   // log ids and counts only: { intentsRemoved, objectsQueued, attempted, removed, failed }
 */
import type { Database } from "../db/database";
import type { ObjectStorage } from "../storage/object-storage";
import { retryStorageDeletions, type StorageSweepSummary } from "./storage-deletions";
import { sweepExpiredUploadIntents, type UploadIntentSweepSummary } from "./sweep-expired-upload-intents";

export interface DocumentStorageSweepSummary extends StorageSweepSummary {
  intentsRemoved: number;
  objectsQueued: number;
}

export async function sweepDocumentStorage(
  db: Database,
  storage: ObjectStorage,
  options: { now: Date; limit: number; requestId?: string },
): Promise<DocumentStorageSweepSummary> {
  const requestId = options.requestId ?? `sweep-${crypto.randomUUID()}`;
  const intents: UploadIntentSweepSummary = await sweepExpiredUploadIntents(db, { ...options, requestId });
  const removals = await retryStorageDeletions(db, storage, { ...options, requestId });
  return {
    ...removals,
    intentsRemoved: intents.intentsRemoved,
    objectsQueued: intents.objectsQueued,
  };
}
