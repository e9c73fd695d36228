import { z } from "@hono/zod-openapi";
import { REVIEW_REASONS } from "../../../../shared/clinical/check-lab-plausibility";
import { DOCUMENT_MEDIA_TYPES } from "../../../../shared/documents/detect-media-type";
import { UPLOAD_REFUSAL_REASONS } from "../../../../shared/documents/document-errors";
import { DOCUMENT_PAGE, DOWNLOAD_URL_SECONDS } from "../../../../shared/documents/document-limits";
import { DOCUMENT_STATUSES, SCAN_RESULTS } from "../../../../shared/documents/document-view";
import { FACT_KINDS, MAX_PAGE_NUMBER, PAGE_SOURCES } from "../../../../shared/documents/get-document-page";

/** Request and response shapes of the documents API (camelCase; no storage paths of documents). */

export const PatientIdParams = z.object({ patientId: z.uuid() });
export const DocumentIdParams = z.object({ documentId: z.uuid() });
/** The partner paths name their ids in snake_case, like the seed's /patients/{patient_id}. */
export const PartnerPatientIdParams = z.object({ patient_id: z.uuid() });
export const PartnerDocumentIdParams = z.object({ document_id: z.uuid() });
export const DocumentPageParams = z.object({
  documentId: z.uuid(),
  page: z.coerce.number().int().min(1).max(MAX_PAGE_NUMBER).describe("1-based page number"),
});

export const DocumentPageResponse = z
  .object({
    document: z.object({
      id: z.uuid(),
      patientId: z.uuid(),
      filename: z.string(),
      mediaType: z.enum(DOCUMENT_MEDIA_TYPES),
    }),
    versionId: z.uuid().describe("The processed version the text and facts belong to"),
    page: z.number().int(),
    pageCount: z.number().int(),
    text: z.string().describe("The page's text as MedCHR read it"),
    source: z
      .enum(PAGE_SOURCES)
      .describe("Where the text came from: the PDF's text layer, OCR, or a text file"),
    ocrConfidence: z.number().nullable().describe("OCR's mean word confidence (0-100); null when not OCR"),
    facts: z.array(
      z.object({
        id: z.uuid(),
        kind: z.enum(FACT_KINDS),
        label: z.string(),
        charStart: z.number().int().describe("[charStart, charEnd) into text"),
        charEnd: z.number().int(),
        negated: z.boolean().describe("Diagnoses stated as absent"),
        review: z
          .array(z.enum(REVIEW_REASONS))
          .describe("Why a person should check the reading (lab numbers); empty when nothing is against it"),
      }),
    ),
  })
  .openapi("DocumentPage");

export const DocumentSchema = z
  .object({
    id: z.uuid(),
    patientId: z.uuid(),
    filename: z.string().describe("The uploader's file name, normalised (a label: never used for storage)"),
    mediaType: z.enum(DOCUMENT_MEDIA_TYPES).describe("Verified from the bytes"),
    declaredMediaType: z.enum(DOCUMENT_MEDIA_TYPES).nullable(),
    sizeBytes: z.number().int(),
    sha256: z.string().describe("SHA-256 of the stored bytes, lowercase hex"),
    status: z.enum(DOCUMENT_STATUSES),
    scanResult: z.enum(SCAN_RESULTS),
    createdBy: z.string().describe("A user id, or api_key:<key id>"),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi("Document");

/**
 * `contentType` is the API's spelling; `content_type` (the spelling of issue 4 and of some
 * partner clients) is accepted as an alias. Exactly one of them.
 */
export const PresignUploadRequest = z
  .strictObject({
    filename: z.string().min(1).max(4096),
    contentType: z.string().min(1).max(255).optional(),
    content_type: z.string().min(1).max(255).optional(),
    size: z.number().int().describe("Exact size in bytes of the file that will be uploaded"),
  })
  .superRefine((value, ctx) => {
    const given = [value.contentType, value.content_type].filter((v) => v !== undefined).length;
    if (given !== 1) {
      ctx.addIssue({
        code: "custom",
        path: ["contentType"],
        message: "give the file's type once, as contentType (or content_type)",
      });
    }
  })
  .openapi("PresignUploadRequest");

export const PresignUploadResponse = z
  .object({
    uploadId: z.uuid(),
    uploadUrl: z.string().describe("PUT the file here with uploadHeaders; no other credentials"),
    token: z
      .string()
      .describe("The token inside uploadUrl (supabase-js uploadToSignedUrl takes it separately)"),
    path: z.string(),
    expiresAt: z.string().describe("Register before this"),
    uploadHeaders: z.object({ "Content-Type": z.enum(DOCUMENT_MEDIA_TYPES) }),
    maxBytes: z.number().int(),
  })
  .openapi("PresignedUpload");

export const RegisterUploadRequest = z
  .union([z.strictObject({ uploadId: z.uuid() }), z.strictObject({ path: z.string().min(1).max(512) })])
  .openapi("RegisterUploadRequest");

export const DocumentEnvelope = z.object({ document: DocumentSchema });

export const ListDocumentsQuery = z
  .strictObject({
    limit: z.coerce.number().int().min(1).max(DOCUMENT_PAGE.max).default(DOCUMENT_PAGE.default),
    cursor: z.string().max(200).optional(),
    status: z.enum(DOCUMENT_STATUSES).optional(),
  })
  .openapi("ListDocumentsQuery");

export const DocumentPageSchema = z.object({
  documents: z.array(DocumentSchema),
  nextCursor: z.string().nullable().describe("Pass as ?cursor= for the next page; null at the end"),
});

export const DownloadUrlQuery = z.strictObject({
  expires_in_seconds: z.coerce
    .number()
    .int()
    .min(DOWNLOAD_URL_SECONDS.min)
    .max(DOWNLOAD_URL_SECONDS.max)
    .optional()
    .describe(`Link lifetime in seconds (default ${DOWNLOAD_URL_SECONDS.default})`),
});

export const DownloadUrlResponse = z
  .object({
    url: z.string(),
    expiresAt: z.string(),
    expiresInSeconds: z.number().int().describe("Granted lifetime (storage may cap what was asked)"),
    downloadName: z.string(),
    mediaType: z.enum(DOCUMENT_MEDIA_TYPES),
  })
  .openapi("DocumentDownloadUrl");

export const DeletedDocumentResponse = z
  .object({
    id: z.uuid(),
    patientId: z.uuid(),
    objectRemoval: z
      .enum(["removed", "queued"])
      .describe("queued: storage did not confirm; the removal is retried until it does"),
  })
  .openapi("DeletedDocument");

export const UploadRefusedSchema = z
  .object({
    error: z.object({
      code: z.literal("upload_refused"),
      message: z.string(),
      requestId: z.string(),
      details: z.object({
        reason: z.enum(UPLOAD_REFUSAL_REASONS),
        documentId: z.uuid().optional().describe("The quarantine record, for reason infected"),
      }),
    }),
  })
  .openapi("UploadRefused");

/** The multipart body of a direct upload; documented only (parsed by the handler, after the patient check). */
export const DIRECT_UPLOAD_BODY_SCHEMA = {
  type: "object" as const,
  required: ["file"],
  properties: {
    file: { type: "string" as const, format: "binary", description: "The document" },
    filename: { type: "string" as const, description: "Overrides the file part's name" },
    contentType: { type: "string" as const, description: "Overrides the file part's Content-Type" },
  },
};
