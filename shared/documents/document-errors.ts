/**
 * What can go wrong in the document flows, as values (shared/core/result.ts). Each error
 * carries a stable `reason` that clients switch on and the audit log records; messages are
 * safe to show (no file names, paths or content).
 */
import type { DomainError } from "../core/result";
import type { ClamdFailureReason } from "./scan-with-clamd";

/**
 * Why an uploaded file was refused after its bytes were checked. The object is removed (or
 * queued for removal) and the upload cannot be registered again.
 */
export const UPLOAD_REFUSAL_REASONS = [
  "empty_file",
  "too_large",
  /** The object's size differs from the size declared at presign. */
  "size_mismatch",
  /** The bytes are none of the allowed types (or text a browser would treat as HTML/SVG/XML). */
  "type_not_allowed",
  /** The bytes are an allowed type, but not the one declared. */
  "type_mismatch",
  /** The Content-Type the object was uploaded with is not its verified type (it would be served with it). */
  "stored_type_mismatch",
  /** Text whose later bytes are not text (binary data after a plain-text head). */
  "not_plain_text",
  /** Bytes after the end of the file (after a PDF's last %%EOF, a PNG's IEND): a polyglot. */
  "trailing_data",
  /** An image whose header declares more pixels than any page scan (a decompression bomb). */
  "image_too_large",
  "infected",
] as const;
export type UploadRefusalReason = (typeof UPLOAD_REFUSAL_REASONS)[number];

export type DocumentErrorReason =
  /** Input that fails validation; `fields` names each problem. */
  | "invalid_fields"
  | "patient_not_found"
  | "document_not_found"
  /** No intent with that id or path for this patient: never issued, another tenant's or patient's, or swept. */
  | "upload_not_found"
  | "upload_expired"
  /** The intent exists but no object has been uploaded to it yet: upload, then register again. */
  | "upload_missing"
  | "already_registered"
  | "already_refused"
  /** The document was quarantined (infected): it is never served. */
  | "document_quarantined"
  /** The document has no extracted text yet (processing has not finished, or failed). */
  | "document_not_processed"
  /** The document has no page with that number; details.pageCount says how many it has. */
  | "page_not_found"
  | "storage_unavailable"
  | "storage_misconfigured"
  | "scanner_unavailable"
  | "scanner_misconfigured";

export interface DocumentError extends DomainError {
  readonly reason: DocumentErrorReason;
  /** Field-level problems of invalid input: names and rules, never values. */
  readonly fields?: ReadonlyArray<{ field: string; message: string }>;
  /** How many pages the document has (page_not_found). */
  readonly pageCount?: number;
  /** Set when the scanner failed: which way (timeouts and refusals are told apart). */
  readonly scanFailure?: ClamdFailureReason;
}

/** The upload was looked at and refused: the client must not retry the same bytes. */
export interface UploadRefusedError extends DomainError {
  readonly code: "invalid_input";
  readonly reason: UploadRefusalReason;
  readonly refused: true;
  /** The quarantined document's id when the reason is "infected". */
  readonly documentId?: string;
}

export type DocumentFlowError = DocumentError | UploadRefusedError;

const REFUSAL_MESSAGES: Record<UploadRefusalReason, string> = {
  empty_file: "The file is empty.",
  too_large: "The file is larger than the upload limit.",
  size_mismatch: "The uploaded file's size differs from the size declared for it.",
  type_not_allowed: "The file is not an allowed type (PDF, PNG, JPEG, TIFF or plain text).",
  type_mismatch: "The file's content does not match its declared type.",
  stored_type_mismatch: "The file was uploaded with a Content-Type that does not match its content.",
  not_plain_text: "The file is not plain text throughout.",
  trailing_data: "The file has data after its end (it may be two files in one) and was refused.",
  image_too_large: "The image has more pixels than a document page scan can have.",
  infected: "The file was refused by the virus scanner and quarantined.",
};

export function uploadRefused(reason: UploadRefusalReason, documentId?: string): UploadRefusedError {
  return {
    code: "invalid_input",
    reason,
    refused: true,
    message: REFUSAL_MESSAGES[reason],
    ...(documentId ? { documentId } : {}),
  };
}

export function isUploadRefused(error: DocumentFlowError): error is UploadRefusedError {
  return "refused" in error && error.refused === true;
}

export const documentErrors = {
  patientNotFound: (): DocumentError => ({
    code: "not_found",
    reason: "patient_not_found",
    message: "No such patient.",
  }),
  documentNotFound: (): DocumentError => ({
    code: "not_found",
    reason: "document_not_found",
    message: "No such document.",
  }),
  uploadNotFound: (): DocumentError => ({
    code: "not_found",
    reason: "upload_not_found",
    message: "No upload was issued for this patient with that id or path.",
  }),
  uploadExpired: (): DocumentError => ({
    code: "conflict",
    reason: "upload_expired",
    message: "The upload window has closed; request a new upload URL.",
  }),
  uploadMissing: (): DocumentError => ({
    code: "conflict",
    reason: "upload_missing",
    message: "Nothing has been uploaded to this upload URL yet.",
  }),
  alreadyRegistered: (): DocumentError => ({
    code: "conflict",
    reason: "already_registered",
    message: "This upload is already registered.",
  }),
  alreadyRefused: (): DocumentError => ({
    code: "conflict",
    reason: "already_refused",
    message: "This upload was refused; upload the file again with a new upload URL.",
  }),
  quarantined: (): DocumentError => ({
    code: "conflict",
    reason: "document_quarantined",
    message: "The document is quarantined and cannot be downloaded.",
  }),
  notProcessed: (): DocumentError => ({
    code: "conflict",
    reason: "document_not_processed",
    message: "The document has not been read yet; its pages appear once processing finishes.",
  }),
  pageNotFound: (pageCount: number): DocumentError => ({
    code: "not_found",
    reason: "page_not_found",
    pageCount,
    message: `The document has no such page (it has ${pageCount}).`,
  }),
  storageUnavailable: (): DocumentError => ({
    code: "unavailable",
    reason: "storage_unavailable",
    message: "Document storage is unavailable; try again shortly.",
  }),
  scannerUnavailable: (failure: ClamdFailureReason): DocumentError => ({
    code: "unavailable",
    reason: "scanner_unavailable",
    scanFailure: failure,
    message: "The virus scanner is unavailable; the upload is kept and can be registered again shortly.",
  }),
  invalidFields: (fields: ReadonlyArray<{ field: string; message: string }>): DocumentError => ({
    code: "invalid_input",
    reason: "invalid_fields",
    fields,
    message: `Invalid ${fields.map((f) => f.field).join(", ")}.`,
  }),
} as const;
