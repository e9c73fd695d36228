/**
 * Step one of an upload: the client says what it will send (name, type, size); we check
 * the claim against the limits, choose the storage path ourselves, record an upload intent
 * and hand out a signed URL the client PUTs the bytes to. The bytes never pass through the
 * API; register-upload.ts checks them afterwards.
 */

import { recordAudit } from "../audit/audit-context";
import { err, ok, type Result } from "../core/result";
import { buildDocumentStoragePath } from "../storage/storage-path";
import { DOCUMENT_MEDIA_TYPES, type DocumentMediaType, normalizeDeclaredType } from "./detect-media-type";
import { type DocumentError, documentErrors } from "./document-errors";
import { UPLOAD_INTENT_SECONDS } from "./document-limits";
import { type DocumentServices, isUuid, nowOf } from "./document-services";
import { normalizeFilename } from "./normalize-filename";
import { insertUploadIntent, patientExists } from "./upload-intents";

export interface PresignUploadInput {
  patientId: string;
  filename: string;
  contentType: string;
  size: number;
}

export interface PresignedUpload {
  /** Pass to register-upload; also the document's id once registered. */
  uploadId: string;
  /** PUT the file here (no credentials needed), with uploadHeaders. */
  uploadUrl: string;
  /** The token inside uploadUrl, for supabase-js uploadToSignedUrl(path, token, file). */
  token: string;
  path: string;
  /** Register before this; the storage service may accept the PUT longer, registration will not. */
  expiresAt: string;
  /** The Content-Type to upload with: the object is served with it, so it must be the declared type. */
  uploadHeaders: { "Content-Type": DocumentMediaType };
  maxBytes: number;
}

/** Longest raw name looked at; normalisation keeps at most 255 characters anyway. */
const MAX_RAW_FILENAME_CHARS = 4096;

export async function presignUpload(
  services: DocumentServices,
  input: PresignUploadInput,
  limits: { maxUploadBytes: number },
): Promise<Result<PresignedUpload, DocumentError>> {
  const fields: Array<{ field: string; message: string }> = [];
  const patientId = typeof input.patientId === "string" ? input.patientId.toLowerCase() : "";
  if (!isUuid(patientId)) return err(documentErrors.patientNotFound());
  if (
    typeof input.filename !== "string" ||
    input.filename.trim() === "" ||
    input.filename.length > MAX_RAW_FILENAME_CHARS
  ) {
    fields.push({ field: "filename", message: `must be 1 to ${MAX_RAW_FILENAME_CHARS} characters` });
  }
  const declared = normalizeDeclaredType(typeof input.contentType === "string" ? input.contentType : "");
  const mediaType = (DOCUMENT_MEDIA_TYPES as readonly string[]).includes(declared ?? "")
    ? (declared as DocumentMediaType)
    : null;
  if (mediaType === null) {
    fields.push({
      field: "contentType",
      message: `must be one of ${DOCUMENT_MEDIA_TYPES.join(", ")}`,
    });
  }
  if (!Number.isSafeInteger(input.size) || input.size < 1) {
    fields.push({ field: "size", message: "must be a whole number of bytes, at least 1" });
  } else if (input.size > limits.maxUploadBytes) {
    fields.push({ field: "size", message: `must be at most ${limits.maxUploadBytes} bytes` });
  }
  if (fields.length > 0 || mediaType === null) return err(documentErrors.invalidFields(fields));

  const { db, scope } = services;
  if (!(await db.withTenant(scope, (tx) => patientExists(tx, patientId)))) {
    return err(documentErrors.patientNotFound());
  }

  const storage = services.storage();
  if (!storage.ok) return storage;
  const id = crypto.randomUUID();
  const path = buildDocumentStoragePath(scope.tenantId, patientId);
  const signed = await storage.value.createSignedUploadUrl(path, { expiresInSeconds: UPLOAD_INTENT_SECONDS });
  if (!signed.ok) return err(documentErrors.storageUnavailable());

  const now = nowOf(services);
  const ours = new Date(now.getTime() + UPLOAD_INTENT_SECONDS * 1000);
  const expiresAt = new Date(Math.min(signed.value.expiresAt.getTime(), ours.getTime()));
  const filename = normalizeFilename(input.filename);
  try {
    await db.withTenant(scope, async (tx) => {
      await insertUploadIntent(tx, {
        id,
        patientId,
        storagePath: path,
        filename,
        declaredMediaType: mediaType,
        declaredSize: input.size,
        expiresAt,
        uploadUrlExpiresAt: new Date(Math.max(signed.value.expiresAt.getTime(), expiresAt.getTime())),
      });
      await recordAudit(tx, services.audit, {
        action: "document.upload_url_issued",
        outcome: "SUCCESS",
        resource: { type: "document", id },
        details: { patientId, mediaType, sizeBytes: input.size },
      });
    });
  } catch (error) {
    // The patient was deleted between the check and the insert (the FK refuses).
    if ((error as { code?: string }).code === "23503") return err(documentErrors.patientNotFound());
    throw error;
  }
  return ok({
    uploadId: id,
    uploadUrl: signed.value.url,
    token: signed.value.token,
    path,
    expiresAt: expiresAt.toISOString(),
    uploadHeaders: { "Content-Type": mediaType },
    maxBytes: limits.maxUploadBytes,
  });
}
