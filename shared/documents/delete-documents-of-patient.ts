/**
 * For the patient-delete path (shared/patients): removes every document row and upload
 * intent of the patient inside the caller's transaction, audits each document's deletion,
 * and queues every object the patient may have in storage. After the caller's transaction
 * commits, it passes `storagePaths` to removeQueuedObjects (or finishPatientDocumentRemoval)
 * for the immediate attempt; whatever fails stays queued for the sweeper.
 *
 *   const removed = await db.withTenant(scope, async (tx) => {
 *     const docs = await deleteDocumentsOfPatient(tx, { patientId }, audit);
 *     await tx`delete from medchr.patients where id = ${patientId}`;
 *     return docs;
 *   });
 *   await finishPatientDocumentRemoval(db, scope, storage, removed.storagePaths);
 *
 * An intent whose signed upload URL is still live may yet receive an upload after this:
 * its queue row is held until the URL is dead, and removed once more then.
 */
import type { AuditContext } from "../audit/audit-context";
import { recordAudit } from "../audit/audit-context";
import type { Database, RequestScope, Tx } from "../db/database";
import type { ObjectStorage } from "../storage/object-storage";
import { ABANDONED_UPLOAD_GRACE_SECONDS } from "./document-limits";
import { queueStorageDeletions, type RemovalReport, removeQueuedObjects } from "./storage-deletions";

export interface PatientDocumentsDeleted {
  documentsDeleted: number;
  /** Every path queued: pass to finishPatientDocumentRemoval after commit. */
  storagePaths: string[];
}

/** `audit` null: no document.delete per document (the caller's patient.delete covers them). */
export async function deleteDocumentsOfPatient(
  tx: Tx,
  input: { patientId: string; now?: Date },
  audit: AuditContext | null,
): Promise<PatientDocumentsDeleted> {
  const now = input.now ?? new Date();
  const documents = await tx<{ id: string; storage_path: string }[]>`
    delete from medchr.documents where patient_id = ${input.patientId}
    returning id, storage_path`;
  const intents = await tx<{ storage_path: string; upload_url_expires_at: Date }[]>`
    delete from medchr.upload_intents where patient_id = ${input.patientId}
    returning storage_path, upload_url_expires_at`;
  const holdUntil = new Map<string, Date>();
  for (const intent of intents) {
    const dead = new Date(intent.upload_url_expires_at.getTime() + ABANDONED_UPLOAD_GRACE_SECONDS * 1000);
    if (dead > now) holdUntil.set(intent.storage_path, dead);
  }
  const storagePaths = [
    ...new Set([...documents.map((d) => d.storage_path), ...intents.map((i) => i.storage_path)]),
  ];
  await queueStorageDeletions(tx, storagePaths, "patient_deleted", { now, holdUntil });
  for (const document of audit ? documents : []) {
    await recordAudit(tx, audit!, {
      action: "document.delete",
      outcome: "SUCCESS",
      resource: { type: "document", id: document.id },
      details: { patientId: input.patientId },
    });
  }
  return { documentsDeleted: documents.length, storagePaths };
}

/** After the patient's deletion committed: try the queued removals now (never throws). */
export function finishPatientDocumentRemoval(
  db: Database,
  scope: RequestScope,
  storage: ObjectStorage | null,
  storagePaths: readonly string[],
  now: Date = new Date(),
): Promise<RemovalReport> {
  return removeQueuedObjects(db, scope, storage, storagePaths, now);
}
