/**
 * Direct upload for partner systems that cannot do presign + PUT + register: the file comes
 * in the request (multipart), passes the same gate (inspect-upload.ts) before anything is
 * stored, and only then goes to storage, through a signed upload URL exactly as a client's
 * would (the api function never holds the service-role key). An upload intent is recorded
 * before the bytes are sent, so an object left behind by a failure between upload and
 * registration is found and removed by the sweeper.
 */
import { err, ok, type Result } from "../core/result";
import { buildDocumentStoragePath } from "../storage/storage-path";
import { DOCUMENT_MEDIA_TYPES, normalizeDeclaredType } from "./detect-media-type";
import { type DocumentError, type DocumentFlowError, documentErrors, uploadRefused } from "./document-errors";
import { UPLOAD_INTENT_SECONDS } from "./document-limits";
import { type DocumentServices, isUuid, notifyRegistered, nowOf } from "./document-services";
import { type DocumentView, toDocumentView } from "./document-view";
import { type Inspection, inspectUpload } from "./inspect-upload";
import { normalizeFilename } from "./normalize-filename";
import {
  commitAcceptedUpload,
  commitRefusedUpload,
  recordScanFailure,
  type UploadToSettle,
} from "./settle-upload";
import { insertUploadIntent, patientExists } from "./upload-intents";
import type { VirusScanner } from "./virus-scanner";

export interface UploadedFile {
  body: Blob;
  /** The client's name for it (the part's filename or an explicit field). */
  filename: string;
  /** The client's type for it (the part's Content-Type or an explicit field); null: none given. */
  contentType: string | null;
}

export interface UploadDocumentOptions {
  maxUploadBytes: number;
  scanner: VirusScanner | null;
  /** The PUT to the signed upload URL; global fetch by default. */
  fetch?: typeof fetch;
  /** Deadline for that PUT (25 MB over a slow link). */
  uploadTimeoutMs?: number;
}

const DEFAULT_UPLOAD_TIMEOUT_MS = 60_000;

/**
 * `readFile` is called only after the patient check, so a request about another tenant's
 * patient is answered 404 before its body is even parsed.
 */
export async function uploadDocument(
  services: DocumentServices,
  input: { patientId: string; readFile: () => Promise<Result<UploadedFile, DocumentError>> },
  options: UploadDocumentOptions,
): Promise<Result<DocumentView, DocumentFlowError>> {
  const { db, scope } = services;
  const patientId = typeof input.patientId === "string" ? input.patientId.toLowerCase() : "";
  if (!isUuid(patientId)) return err(documentErrors.patientNotFound());
  if (!(await db.withTenant(scope, (tx) => patientExists(tx, patientId)))) {
    return err(documentErrors.patientNotFound());
  }
  const read = await input.readFile();
  if (!read.ok) return read;
  const file = read.value;

  const upload: UploadToSettle = {
    id: crypto.randomUUID(),
    patientId,
    storagePath: buildDocumentStoragePath(scope.tenantId, patientId),
    filename: normalizeFilename(file.filename),
    declaredMediaType: null,
    hasIntent: false,
  };
  const declared = normalizeDeclaredType(file.contentType);
  let inspection: Inspection;
  if (declared !== null && !(DOCUMENT_MEDIA_TYPES as readonly string[]).includes(declared)) {
    inspection = {
      outcome: "refused",
      reason: "type_not_allowed",
      mediaType: null,
      sizeBytes: file.body.size,
      sha256: null,
      scanned: false,
    };
  } else {
    upload.declaredMediaType = declared as UploadToSettle["declaredMediaType"];
    inspection = await inspectUpload(
      { stream: file.body.stream(), size: file.body.size },
      {
        declaredType: declared,
        declaredSize: null,
        maxBytes: options.maxUploadBytes,
        scanner: options.scanner,
      },
    );
  }

  const now = nowOf(services);
  switch (inspection.outcome) {
    case "source_failed":
      return err(documentErrors.storageUnavailable());
    case "scan_failed":
      await db.withTenant(scope, (tx) => recordScanFailure(tx, upload, inspection.failure, services.audit));
      return err(documentErrors.scannerUnavailable(inspection.failure));
    case "refused": {
      // Nothing was stored: the refusal is only recorded (and quarantined when infected).
      const record = await db.withTenant(scope, (tx) =>
        commitRefusedUpload(tx, upload, inspection, services.audit, { now, stored: false }),
      );
      return err(uploadRefused(inspection.reason, record?.quarantinedDocumentId ?? undefined));
    }
    case "accepted":
      break;
  }

  const storage = services.storage();
  if (!storage.ok) return storage;
  const signed = await storage.value.createSignedUploadUrl(upload.storagePath, {
    expiresInSeconds: UPLOAD_INTENT_SECONDS,
  });
  if (!signed.ok) return err(documentErrors.storageUnavailable());
  const expiresAt = new Date(
    Math.min(now.getTime() + UPLOAD_INTENT_SECONDS * 1000, signed.value.expiresAt.getTime()),
  );
  try {
    await db.withTenant(scope, (tx) =>
      insertUploadIntent(tx, {
        id: upload.id,
        patientId,
        storagePath: upload.storagePath,
        filename: upload.filename,
        declaredMediaType: inspection.mediaType,
        declaredSize: inspection.sizeBytes,
        expiresAt,
        uploadUrlExpiresAt: new Date(Math.max(signed.value.expiresAt.getTime(), expiresAt.getTime())),
      }),
    );
  } catch (error) {
    if ((error as { code?: string }).code === "23503") return err(documentErrors.patientNotFound());
    throw error;
  }

  const put = await putToSignedUrl(signed.value.url, file.body, inspection.mediaType, options);
  if (!put) return err(documentErrors.storageUnavailable());

  let row: Awaited<ReturnType<typeof commitAcceptedUpload>>;
  try {
    row = await db.withTenant(scope, (tx) =>
      commitAcceptedUpload(tx, { ...upload, hasIntent: true }, inspection, services.audit, now),
    );
  } catch (error) {
    if ((error as { code?: string }).code === "23503") row = null;
    else throw error;
  }
  // Only this request knew the intent: a missing one means the patient (and with it the
  // intent) was deleted meanwhile; that deletion queued the object's removal.
  if (!row) return err(documentErrors.patientNotFound());
  const document = toDocumentView(row);
  await notifyRegistered(services, document);
  return ok(document);
}

/**
 * The upload as any client does it: PUT to the signed URL with the verified type, which
 * storage then serves the object with.
 */
async function putToSignedUrl(
  url: string,
  body: Blob,
  mediaType: string,
  options: UploadDocumentOptions,
): Promise<boolean> {
  const send = options.fetch ?? fetch;
  try {
    const response = await send(url, {
      method: "PUT",
      headers: { "Content-Type": mediaType },
      body,
      signal: AbortSignal.timeout(options.uploadTimeoutMs ?? DEFAULT_UPLOAD_TIMEOUT_MS),
    });
    await response.body?.cancel().catch(() => {});
    return response.ok;
  } catch {
    return false;
  }
}
