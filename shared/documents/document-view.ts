/**
 * What clients see of a document, and the one column list every read goes through. The
 * storage path is not part of the view: it names the object, and objects are reached only
 * through short-lived signed URLs issued by the API.
 */
import type { Tx } from "../db/database";
import type { JobStatus } from "../jobs/job-view";
import type { PipelineStep } from "../pipeline/pipeline-steps";
import type { DocumentMediaType } from "./detect-media-type";
import { CURSOR_TIMESTAMP_FORMAT, type DocumentCursor } from "./document-cursor";

export const DOCUMENT_STATUSES = ["uploaded", "processing", "processed", "failed", "quarantined"] as const;
export type DocumentStatus = (typeof DOCUMENT_STATUSES)[number];
export const SCAN_RESULTS = ["clean", "infected", "not_scanned"] as const;
export type ScanResult = (typeof SCAN_RESULTS)[number];

/**
 * The document's most recent processing job, so a client can follow it (GET /api/v1/jobs/{id})
 * without a separate lookup: ids and enums only, like the job itself.
 */
export interface DocumentLatestJob {
  id: string;
  status: JobStatus;
  currentStep: PipelineStep | null;
}

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
  /** null until processing was asked for (or when it could not be started). */
  latestJob: DocumentLatestJob | null;
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
  latest_job: { id: string; status: JobStatus; current_step: PipelineStep | null } | null;
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
    latestJob: row.latest_job
      ? { id: row.latest_job.id, status: row.latest_job.status, currentStep: row.latest_job.current_step }
      : null,
  };
}

/**
 * Documents of the transaction's tenant (RLS decides which rows exist): one by id, or a
 * patient's page after a cursor, newest first. The latest job is a scalar subquery rather
 * than a join so that `for update` still locks the document row alone; jobs are under the
 * same tenant RLS. Newest by created_at, id as the tie-break (one active job per document
 * is a unique index, so the newest is the active one when there is one).
 */
export function readDocumentRows(
  tx: Tx,
  filter:
    | { id: string; forUpdate?: boolean }
    | { patientId: string; after: DocumentCursor | null; limit: number; status?: DocumentStatus },
): Promise<DocumentRow[]> {
  const columns = tx`id, patient_id, storage_path, original_filename, media_type, declared_media_type,
    size_bytes, sha256, status, scan_result, created_by, created_at, updated_at,
    to_char(created_at at time zone 'UTC', ${CURSOR_TIMESTAMP_FORMAT}) as cursor_created_at,
    (select json_build_object('id', j.id, 'status', j.status, 'current_step', j.current_step)
       from medchr.jobs j where j.document_id = medchr.documents.id
       order by j.created_at desc, j.id desc limit 1) as latest_job`;
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
