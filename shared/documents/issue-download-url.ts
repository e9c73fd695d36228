/**
 * A short-lived signed download link for one document (security-baseline "uploads":
 * downloads are attachments with the verified type).
 *
 * How the type is guaranteed: a Supabase signed URL can force Content-Disposition (the
 * `download` name, always set here) but not Content-Type; storage serves the Content-Type
 * the object was uploaded with. Registration therefore refuses any object whose stored
 * type is not exactly its verified type (inspect-upload.ts, "stored_type_mismatch"), and
 * direct uploads are stored with the verified type by us. The attachment disposition keeps
 * browsers from rendering the file in any case. The download name is server-chosen
 * ("document-<id>.<ext>"): the client's file name may be PHI and must not appear in a URL.
 */

import { recordAudit } from "../audit/audit-context";
import { err, ok, type Result } from "../core/result";
import { STORAGE_LIMITS } from "../storage/object-storage";
import type { DocumentMediaType } from "./detect-media-type";
import { type DocumentError, documentErrors } from "./document-errors";
import { DOWNLOAD_URL_SECONDS } from "./document-limits";
import { type DocumentServices, isUuid } from "./document-services";
import { readDocumentRows } from "./document-view";

export interface IssuedDownloadUrl {
  url: string;
  expiresAt: string;
  /** What was granted: the storage layer's own cap may be below what was asked. */
  expiresInSeconds: number;
  /** The name the browser saves the file under. */
  downloadName: string;
  mediaType: DocumentMediaType;
}

const EXTENSIONS: Record<DocumentMediaType, string> = {
  "application/pdf": "pdf",
  "image/png": "png",
  "image/jpeg": "jpg",
  "image/tiff": "tiff",
  "text/plain": "txt",
};

export async function issueDownloadUrl(
  services: Pick<DocumentServices, "db" | "scope" | "audit" | "storage">,
  input: { documentId: string; expiresInSeconds?: number },
): Promise<Result<IssuedDownloadUrl, DocumentError>> {
  const documentId = typeof input.documentId === "string" ? input.documentId.toLowerCase() : "";
  if (!isUuid(documentId)) return err(documentErrors.documentNotFound());
  const asked = input.expiresInSeconds ?? DOWNLOAD_URL_SECONDS.default;
  if (!Number.isInteger(asked) || asked < DOWNLOAD_URL_SECONDS.min || asked > DOWNLOAD_URL_SECONDS.max) {
    return err(
      documentErrors.invalidFields([
        {
          field: "expires_in_seconds",
          message: `must be ${DOWNLOAD_URL_SECONDS.min} to ${DOWNLOAD_URL_SECONDS.max}`,
        },
      ]),
    );
  }
  const { db, scope } = services;
  const [row] = await db.withTenant(scope, (tx) => readDocumentRows(tx, { id: documentId }));
  if (!row) return err(documentErrors.documentNotFound());
  if (row.status === "quarantined") return err(documentErrors.quarantined());

  const storage = services.storage();
  if (!storage.ok) return storage;
  const granted = Math.min(asked, STORAGE_LIMITS.maxDownloadSeconds);
  const downloadName = `document-${row.id}.${EXTENSIONS[row.media_type]}`;
  const signed = await storage.value.createSignedDownloadUrl(row.storage_path, {
    expiresInSeconds: granted,
    downloadName,
  });
  if (!signed.ok) {
    if (signed.error.code === "not_found") {
      // A row without its object should not exist: tell operators (ids only), answer 503.
      console.error(
        JSON.stringify({
          level: "error",
          event: "document.object_missing",
          documentId: row.id,
          requestId: scope.requestId,
        }),
      );
    }
    return err(documentErrors.storageUnavailable());
  }
  await db.withTenant(scope, (tx) =>
    recordAudit(tx, services.audit, {
      action: "document.download_url_issued",
      outcome: "SUCCESS",
      resource: { type: "document", id: row.id },
      details: { patientId: row.patient_id, expiresInSeconds: granted },
    }),
  );
  return ok({
    url: signed.value.url,
    expiresAt: signed.value.expiresAt.toISOString(),
    expiresInSeconds: granted,
    downloadName,
    mediaType: row.media_type,
  });
}
