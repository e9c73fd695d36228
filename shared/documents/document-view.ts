/**
 * What clients see of a document, and the one column list every read goes through. The
 * storage path is not part of the view: it names the object, and objects are reached only
 * through short-lived signed URLs issued by the API.
 */
import type { Tx } from "../db/database";
import type { DocumentMediaType } from "./detect-media-type";
import { CURSOR_TIMESTAMP_FORMAT, type DocumentCursor } from "./document-cursor";

export const DOCUMENT_STATUSES = ["uploaded", "processing", "processed", "failed", "quarantined"] as const;
export type DocumentStatus = (typeof DOCUMENT_STATUSES)[number];
export const SCAN_RESULTS = ["clean", "infected", "not_scanned"] as const;
export type ScanResult = (typeof SCAN_RESULTS)[number];

export interface DocumentView {
  id: string;
  patientId: string;
  /** The client's name for the file, normalised; a label only (may be PHI: never logged). */
  filename: string;
  /** The verified type (from the bytes): the type it is served and processed as. */
  mediaType: DocumentMediaType;
  declaredMediaType: DocumentMediaType | null;
  sizeBytes: number;
  sha256: string;
  status: DocumentStatus;
  scanResult: ScanResult;
  /** A user id, or "api_key:<key id>" for a partner system. */
  createdBy: string;
  createdAt: string;
  updatedAt: string;
}

export interface DocumentRow {
  id: string;
  patient_id: string;
  storage_path: string;
  original_filename: string;
  media_type: DocumentMediaType;
  declared_media_type: DocumentMediaType | null;
  size_bytes: number;
  sha256: string;
  status: DocumentStatus;
  scan_result: ScanResult;
  created_by: string;
  created_at: Date;
  updated_at: Date;
  cursor_created_at: string;
}

const iso = (value: Date | string) => new Date(value).toISOString();

export function toDocumentView(row: DocumentRow): DocumentView {
  return {
    id: row.id,
    patientId: row.patient_id,
    filename: row.original_filename,
    mediaType: row.media_type,
    declaredMediaType: row.declared_media_type,
    sizeBytes: row.size_bytes,
    sha256: row.sha256,
    status: row.status,
    scanResult: row.scan_result,
    createdBy: row.created_by,
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
  };
}

/**
 * Documents of the transaction's tenant (RLS decides which rows exist): one by id, or a
 * patient's page after a cursor, newest first.
 */
export function readDocumentRows(
  tx: Tx,
  filter:
    | { id: string; forUpdate?: boolean }
    | { patientId: string; after: DocumentCursor | null; limit: number; status?: DocumentStatus },
): Promise<DocumentRow[]> {
  const columns = tx`id, patient_id, storage_path, original_filename, media_type, declared_media_type,
    size_bytes, sha256, status, scan_result, created_by, created_at, updated_at,
    to_char(created_at at time zone 'UTC', ${CURSOR_TIMESTAMP_FORMAT}) as cursor_created_at`;
  if ("id" in filter) {
    return tx<DocumentRow[]>`
      select ${columns} from medchr.documents where id = ${filter.id}
      ${filter.forUpdate ? tx`for update` : tx``}`;
  }
  const after = filter.after;
  return tx<DocumentRow[]>`
    select ${columns} from medchr.documents
    where patient_id = ${filter.patientId}
      ${filter.status ? tx`and status = ${filter.status}` : tx``}
      ${after ? tx`and (created_at, id) < (${after.createdAt}::timestamptz, ${after.id}::uuid)` : tx``}
    order by created_at desc, id desc
    limit ${filter.limit + 1}`;
}
