/**
 * Step two of an upload: the client says it has PUT the bytes; we check that the path was
 * issued for this tenant and patient, is inside its window and not yet used, then inspect
 * the stored object (inspect-upload.ts) and, in one transaction, create the document or
 * record the refusal. A refused object is removed (queued first, so never lost track of).
 *
 * Scanner outage: fail closed and keep the object. The intent stays unused, so the client
 * can register again once the scanner is back (within the 15-minute window); if it never
 * does, the sweeper removes the object after the signed URL's lifetime. Nothing unscanned
 * ever becomes a document while scanning is configured.
 */
import { err, ok, type Result } from "../core/result";
import { isDocumentStoragePathOf } from "../storage/storage-path";
import { type DocumentFlowError, documentErrors, uploadRefused } from "./document-errors";
import { type DocumentServices, isUuid, notifyRegistered, nowOf } from "./document-services";
import { type DocumentView, toDocumentView } from "./document-view";
import { inspectUpload } from "./inspect-upload";
import {
  commitAcceptedUpload,
  commitRefusedUpload,
  recordScanFailure,
  type UploadToSettle,
} from "./settle-upload";
import { removeQueuedObjects } from "./storage-deletions";
import { findUploadIntent, patientExists, type UploadIntentRow } from "./upload-intents";
import type { VirusScanner } from "./virus-scanner";

export type RegisterUploadInput = { patientId: string } & ({ uploadId: string } | { path: string });

export interface RegisterUploadOptions {
  maxUploadBytes: number;
  scanner: VirusScanner | null;
}

export async function registerUpload(
  services: DocumentServices,
  input: RegisterUploadInput,
  options: RegisterUploadOptions,
): Promise<Result<DocumentView, DocumentFlowError>> {
  const { db, scope } = services;
  const patientId = typeof input.patientId === "string" ? input.patientId.toLowerCase() : "";
  if (!isUuid(patientId)) return err(documentErrors.patientNotFound());
  const key = lookupKey(input, scope.tenantId, patientId);

  const found = await db.withTenant(scope, async (tx) => {
    if (!(await patientExists(tx, patientId))) return err(documentErrors.patientNotFound());
    const intent = key ? await findUploadIntent(tx, patientId, key) : null;
    return intent ? ok(intent) : err(documentErrors.uploadNotFound());
  });
  if (!found.ok) return found;
  const intent = found.value;
  if (intent.outcome === "registered") return err(documentErrors.alreadyRegistered());
  if (intent.outcome === "refused") return err(documentErrors.alreadyRefused());
  if (intent.expires_at.getTime() <= nowOf(services).getTime()) return err(documentErrors.uploadExpired());

  const storage = services.storage();
  if (!storage.ok) return storage;
  const opened = await storage.value.openObjectStream(intent.storage_path);
  if (!opened.ok) {
    return err(
      opened.error.code === "not_found"
        ? documentErrors.uploadMissing()
        : documentErrors.storageUnavailable(),
    );
  }

  const upload = settleable(intent);
  const inspection = await inspectUpload(
    { stream: opened.value.body, size: opened.value.size, storedType: opened.value.contentType },
    {
      declaredType: intent.declared_media_type,
      declaredSize: intent.declared_size,
      maxBytes: options.maxUploadBytes,
      scanner: options.scanner,
    },
  );
  const now = nowOf(services);

  switch (inspection.outcome) {
    case "source_failed":
      return err(documentErrors.storageUnavailable());
    case "scan_failed":
      await db.withTenant(scope, (tx) => recordScanFailure(tx, upload, inspection.failure, services.audit));
      return err(documentErrors.scannerUnavailable(inspection.failure));
    case "refused": {
      const record = await db.withTenant(scope, (tx) =>
        commitRefusedUpload(tx, upload, inspection, services.audit, { now, stored: true }),
      );
      if (!record) return err(await settledElsewhere(services, intent));
      await removeQueuedObjects(db, scope, storage.value, record.queuedPaths, now);
      return err(uploadRefused(inspection.reason, record.quarantinedDocumentId ?? undefined));
    }
    case "accepted": {
      const row = await db.withTenant(scope, (tx) =>
        commitAcceptedUpload(tx, upload, inspection, services.audit, now),
      );
      if (!row) return err(await settledElsewhere(services, intent));
      const document = toDocumentView(row);
      await notifyRegistered(services, document);
      return ok(document);
    }
  }
}

/**
 * The intent to look up, or null when the given path cannot be one issued for this tenant
 * and patient (malformed, traversal, another tenant's or patient's): answered exactly like
 * an unknown one, so the answer confirms nothing about anyone else's objects.
 */
function lookupKey(
  input: RegisterUploadInput,
  tenantId: string,
  patientId: string,
): { uploadId: string } | { path: string } | null {
  if ("uploadId" in input) {
    const id = typeof input.uploadId === "string" ? input.uploadId.toLowerCase() : "";
    return isUuid(id) ? { uploadId: id } : null;
  }
  return isDocumentStoragePathOf(input.path, tenantId, patientId) ? { path: input.path } : null;
}

function settleable(intent: UploadIntentRow): UploadToSettle {
  return {
    id: intent.id,
    patientId: intent.patient_id,
    storagePath: intent.storage_path,
    filename: intent.original_filename,
    declaredMediaType: intent.declared_media_type,
    hasIntent: true,
  };
}

/** Another request consumed the intent while we checked: say what it decided. */
async function settledElsewhere(services: DocumentServices, intent: UploadIntentRow) {
  const now = await services.db.withTenant(services.scope, (tx) =>
    findUploadIntent(tx, intent.patient_id, { uploadId: intent.id }),
  );
  if (!now) return documentErrors.uploadNotFound();
  return now.outcome === "refused" ? documentErrors.alreadyRefused() : documentErrors.alreadyRegistered();
}
