/**
 * Deletes one document: the row and its audit event in one transaction that also queues
 * the object's removal; the removal is then tried at once. If storage fails, the queue row
 * stays for the sweeper: the object is never silently kept (issue 4, "data lifecycle").
 *
 * Later issues that store data derived from a document (extracted text, chunks, facts)
 * delete it here, in the same transaction, before the document row.
 */

import { recordAudit } from "../audit/audit-context";
import { err, ok, type Result } from "../core/result";
import { type DocumentError, documentErrors } from "./document-errors";
import { type DocumentServices, isUuid, nowOf } from "./document-services";
import { readDocumentRows } from "./document-view";
import { queueStorageDeletions, removeQueuedObjects } from "./storage-deletions";

export interface DeletedDocument {
  id: string;
  patientId: string;
  /** "removed": storage confirmed; "queued": the sweeper will retry the removal. */
  objectRemoval: "removed" | "queued";
}

export async function deleteDocument(
  services: DocumentServices,
  input: { documentId: string },
): Promise<Result<DeletedDocument, DocumentError>> {
  const documentId = typeof input.documentId === "string" ? input.documentId.toLowerCase() : "";
  if (!isUuid(documentId)) return err(documentErrors.documentNotFound());
  const { db, scope } = services;
  const now = nowOf(services);
  const deleted = await db.withTenant(scope, async (tx) => {
    const [row] = await readDocumentRows(tx, { id: documentId, forUpdate: true });
    if (!row) return null;
    await tx`delete from medchr.documents where id = ${row.id}`;
    await queueStorageDeletions(tx, [row.storage_path], "document_deleted", { now });
    await recordAudit(tx, services.audit, {
      action: "document.delete",
      outcome: "SUCCESS",
      resource: { type: "document", id: row.id },
      details: { patientId: row.patient_id },
    });
    return { id: row.id, patientId: row.patient_id, path: row.storage_path };
  });
  if (!deleted) return err(documentErrors.documentNotFound());
  const storage = services.storage();
  const removal = await removeQueuedObjects(
    db,
    scope,
    storage.ok ? storage.value : null,
    [deleted.path],
    now,
  );
  return ok({
    id: deleted.id,
    patientId: deleted.patientId,
    objectRemoval: removal.removed === 1 ? "removed" : "queued",
  });
}
