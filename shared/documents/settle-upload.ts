/**
 * The last step of both upload flows (register-upload.ts, upload-document.ts), in one
 * transaction after every check: the document row, the intent consumed, and the audit
 * events; or, for a refused file, the intent consumed as refused, the object queued for
 * removal, the quarantine record for an infected file, and the audit events.
 */
import { type AuditContext, recordAudit } from "../audit/audit-context";
import type { Tx } from "../db/database";
import type { DocumentMediaType } from "./detect-media-type";
import type { UploadRefusalReason } from "./document-errors";
import { type DocumentRow, readDocumentRows } from "./document-view";
import type { Inspection } from "./inspect-upload";
import type { ClamdFailureReason } from "./scan-with-clamd";
import { queueStorageDeletions } from "./storage-deletions";
import { consumeUploadIntent } from "./upload-intents";

export interface UploadToSettle {
  /** The intent (and future document) id. */
  id: string;
  patientId: string;
  storagePath: string;
  filename: string;
  /** What the client declared, normalised; null when it claimed nothing specific. */
  declaredMediaType: DocumentMediaType | null;
  /** Whether an upload_intents row backs this upload (every flow but a refused direct upload). */
  hasIntent: boolean;
}

type Accepted = Extract<Inspection, { outcome: "accepted" }>;
type Refused = Extract<Inspection, { outcome: "refused" }>;

async function auditScan(
  tx: Tx,
  audit: AuditContext,
  upload: UploadToSettle,
  result: "clean" | "infected",
): Promise<void> {
  await recordAudit(tx, audit, {
    action: "document.scan",
    outcome: result === "clean" ? "SUCCESS" : "DENIED",
    resource: { type: "document", id: upload.id },
    details: { patientId: upload.patientId, result },
  });
}

/** null: the intent was consumed by another request first (nothing was written). */
export async function commitAcceptedUpload(
  tx: Tx,
  upload: UploadToSettle,
  inspection: Accepted,
  audit: AuditContext,
  now: Date,
): Promise<DocumentRow | null> {
  if (upload.hasIntent && !(await consumeUploadIntent(tx, upload.id, "registered", now))) return null;
  await tx`
    insert into medchr.documents (id, tenant_id, patient_id, storage_path, original_filename,
      declared_media_type, media_type, size_bytes, sha256, status, scan_result)
    values (${upload.id}, (select medchr.current_tenant_id()), ${upload.patientId}, ${upload.storagePath},
      ${upload.filename}, ${upload.declaredMediaType}, ${inspection.mediaType}, ${inspection.sizeBytes},
      ${inspection.sha256}, 'uploaded', ${inspection.scan})`;
  if (inspection.scan === "clean") await auditScan(tx, audit, upload, "clean");
  await recordAudit(tx, audit, {
    action: "document.register",
    outcome: "SUCCESS",
    resource: { type: "document", id: upload.id },
    details: {
      patientId: upload.patientId,
      mediaType: inspection.mediaType,
      sizeBytes: inspection.sizeBytes,
    },
  });
  const [row] = await readDocumentRows(tx, { id: upload.id });
  return row ?? null;
}

export interface RefusalRecord {
  /** The quarantine record of an infected file. */
  quarantinedDocumentId: string | null;
  /** Paths queued for removal (to attempt after commit). */
  queuedPaths: string[];
}

/**
 * null: the intent was consumed by another request first (nothing was written, and the
 * object is that request's business). `stored`: whether an object may exist at the path.
 */
export async function commitRefusedUpload(
  tx: Tx,
  upload: UploadToSettle,
  inspection: Refused,
  audit: AuditContext,
  options: { now: Date; stored: boolean },
): Promise<RefusalRecord | null> {
  if (upload.hasIntent && !(await consumeUploadIntent(tx, upload.id, "refused", options.now))) return null;
  const queuedPaths = options.stored ? [upload.storagePath] : [];
  await queueStorageDeletions(tx, queuedPaths, "upload_refused", { now: options.now });
  let quarantinedDocumentId: string | null = null;
  if (inspection.reason === "infected" && inspection.mediaType && inspection.sha256 && inspection.sizeBytes) {
    // Kept as a record only: status quarantined, never served or processed, object removed.
    await tx`
      insert into medchr.documents (id, tenant_id, patient_id, storage_path, original_filename,
        declared_media_type, media_type, size_bytes, sha256, status, scan_result)
      values (${upload.id}, (select medchr.current_tenant_id()), ${upload.patientId}, ${upload.storagePath},
        ${upload.filename}, ${upload.declaredMediaType}, ${inspection.mediaType}, ${inspection.sizeBytes},
        ${inspection.sha256}, 'quarantined', 'infected')`;
    quarantinedDocumentId = upload.id;
  }
  if (inspection.scanned) await auditScan(tx, audit, upload, "infected");
  await recordAudit(tx, audit, {
    action: "document.upload_refused",
    outcome: "DENIED",
    resource: { type: "document", id: upload.id },
    details: { patientId: upload.patientId, reason: inspection.reason satisfies UploadRefusalReason },
  });
  return { quarantinedDocumentId, queuedPaths };
}

/** A scanner that gave no verdict: recorded, nothing else changes (the upload can be registered later). */
export async function recordScanFailure(
  tx: Tx,
  upload: Pick<UploadToSettle, "id" | "patientId">,
  failure: ClamdFailureReason,
  audit: AuditContext,
): Promise<void> {
  await recordAudit(tx, audit, {
    action: "document.scan",
    outcome: "FAILURE",
    resource: { type: "document", id: upload.id },
    details: { patientId: upload.patientId, result: "error", failure },
  });
}
