export { deleteDocument } from "./delete-document";
export {
  deleteDocumentsOfPatient,
  finishPatientDocumentRemoval,
  type PatientDocumentsDeleted,
} from "./delete-documents-of-patient";
export { DOCUMENT_MEDIA_TYPES, type DocumentMediaType, MEDIA_TYPE_SNIFF_BYTES } from "./detect-media-type";
export * from "./document-errors";
export * from "./document-limits";
export type { DocumentRegisteredHook, DocumentServices } from "./document-services";
export { DOCUMENT_STATUSES, type DocumentStatus, type DocumentView, SCAN_RESULTS } from "./document-view";
export { getDocument } from "./get-document";
export { type DocumentPage, describeFact, getDocumentPage, type PageFact } from "./get-document-page";
export { issueDownloadUrl } from "./issue-download-url";
export { listDocuments } from "./list-documents";
export { documentStorageRemovalQueue, documentsDeletionStep } from "./patient-deletion-hooks";
export { presignUpload } from "./presign-upload";
export { registerUpload } from "./register-upload";
export { removeQueuedObjects, retryStorageDeletions } from "./storage-deletions";
export { sweepDocumentStorage } from "./sweep-document-storage";
export { sweepExpiredUploadIntents } from "./sweep-expired-upload-intents";
export { uploadDocument } from "./upload-document";
export { createClamdScanner, readClamdSettings, type VirusScanner } from "./virus-scanner";
