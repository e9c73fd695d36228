/**
 * Reading and deleting documents: a patient's list, one document, one page as read (text and
 * facts), a signed download link, delete. Each is audited (document.list, document.read,
 * document.page_read, document.download_url_issued, document.delete). The partner paths (/patients/{patient_id}/documents,
 * /documents/{document_id}) are aliases of the /api/v1 ones with the same checks.
 */
import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { deleteDocument } from "../../../../shared/documents/delete-document";
import { getDocument } from "../../../../shared/documents/get-document";
import { getDocumentPage } from "../../../../shared/documents/get-document-page";
import { issueDownloadUrl } from "../../../../shared/documents/issue-download-url";
import { listDocuments } from "../../../../shared/documents/list-documents";
import type { AppEnv } from "../../../../shared/http/context";
import type { FunctionApp } from "../../../../shared/http/create-app";
import { protectedRoute } from "../../../../shared/http/define-route";
import { JOB_STATUSES } from "../../../../shared/jobs/job-view";
import { PIPELINE_STEPS } from "../../../../shared/pipeline/pipeline-steps";
import {
  commonErrors,
  type DocumentRouteOptions,
  errorResponse,
  fail,
  jsonContent,
  servicesOf,
} from "./document-http";
import {
  DeletedDocumentResponse,
  DocumentIdParams,
  DocumentPageParams,
  DocumentPageResponse,
  DocumentSchema,
  DownloadUrlQuery,
  DownloadUrlResponse,
  ListDocumentsQuery,
  PartnerDocumentIdParams,
  PartnerPatientIdParams,
  PatientIdParams,
} from "./schemas";

/**
 * What the read routes add to a document: its most recent processing job, so a client (the
 * clinician UI) can follow processing at GET /api/v1/jobs/{id} without another lookup.
 */
const DocumentLatestJobSchema = z
  .object({
    id: z.uuid(),
    status: z.enum(JOB_STATUSES),
    currentStep: z.enum(PIPELINE_STEPS).nullable(),
  })
  .nullable()
  .describe("The newest processing job of the document; null when processing was never started")
  .openapi("DocumentLatestJob");

const DocumentWithJobSchema = DocumentSchema.extend({ latestJob: DocumentLatestJobSchema }).openapi(
  "DocumentWithLatestJob",
);
const DocumentEnvelope = z.object({ document: DocumentWithJobSchema });
const DocumentPageSchema = z.object({
  documents: z.array(DocumentWithJobSchema),
  nextCursor: z.string().nullable().describe("Pass as ?cursor= for the next page; null at the end"),
});

const V1 = { tags: ["documents"] };
const PARTNER = { tags: ["partner"] };

const listConfig = {
  method: "get",
  summary: "A patient's documents with their status, newest first",
  permission: "patient.read",
  audit: { actions: ["document.list"] },
  responses: { 200: jsonContent(DocumentPageSchema, "One page"), ...commonErrors },
} as const;

export const listDocumentsRoute = protectedRoute({
  ...listConfig,
  ...V1,
  path: "/api/v1/patients/{patientId}/documents",
  request: { params: PatientIdParams, query: ListDocumentsQuery },
});
export const partnerListDocumentsRoute = protectedRoute({
  ...listConfig,
  ...PARTNER,
  path: "/patients/{patient_id}/documents",
  request: { params: PartnerPatientIdParams, query: ListDocumentsQuery },
});

const getConfig = {
  method: "get",
  summary: "One document",
  permission: "patient.read",
  audit: { actions: ["document.read"] },
  responses: { 200: jsonContent(DocumentEnvelope, "The document"), ...commonErrors },
} as const;

export const getDocumentRoute = protectedRoute({
  ...getConfig,
  ...V1,
  path: "/api/v1/documents/{documentId}",
  request: { params: DocumentIdParams },
});
export const partnerGetDocumentRoute = protectedRoute({
  ...getConfig,
  ...PARTNER,
  path: "/documents/{document_id}",
  request: { params: PartnerDocumentIdParams },
});

const deleteConfig = {
  method: "delete",
  summary: "Delete a document and its stored file",
  description:
    "The row goes at once; the stored file is removed right after, and if storage does not confirm, the removal is queued and retried until it does (objectRemoval: queued).",
  permission: "patient.write",
  responses: { 200: jsonContent(DeletedDocumentResponse, "Deleted"), ...commonErrors },
  audit: { actions: ["document.delete"] },
} as const;

export const deleteDocumentRoute = protectedRoute({
  ...deleteConfig,
  ...V1,
  path: "/api/v1/documents/{documentId}",
  request: { params: DocumentIdParams },
});
export const partnerDeleteDocumentRoute = protectedRoute({
  ...deleteConfig,
  ...PARTNER,
  path: "/documents/{document_id}",
  request: { params: PartnerDocumentIdParams },
});

export const downloadUrlRoute = protectedRoute({
  method: "get",
  path: "/api/v1/documents/{documentId}/download-url",
  audit: { actions: ["document.download_url_issued"] },
  ...V1,
  summary: "A short-lived signed link to download a document",
  description:
    "Served as an attachment named document-<id>.<ext> with the verified type. expires_in_seconds: 60 to 3600 (default 300); storage may grant less, and the answer says what was granted.",
  permission: "patient.read",
  request: { params: DocumentIdParams, query: DownloadUrlQuery },
  responses: {
    200: jsonContent(DownloadUrlResponse, "Signed link"),
    ...commonErrors,
    409: errorResponse("The document is quarantined (infected) and is never served"),
  },
});

export const documentPageRoute = protectedRoute({
  method: "get",
  path: "/api/v1/documents/{documentId}/pages/{page}",
  audit: { actions: ["document.page_read"] },
  ...V1,
  summary: "One page of a document as read: its text and the facts extracted from it",
  description:
    "The current version's text of the page, where it came from, and each extracted fact with its [charStart, charEnd) span in that text (the document viewer highlights them). 404 page_not_found says how many pages there are (details.pageCount); 409 document_not_processed before the document has been read.",
  permission: "patient.read",
  request: { params: DocumentPageParams },
  responses: {
    200: jsonContent(DocumentPageResponse, "The page"),
    ...commonErrors,
    409: errorResponse("Not processed yet, or quarantined (details.reason)"),
  },
});

export function registerDocumentReadRoutes(app: FunctionApp, options: DocumentRouteOptions): void {
  const list = async (c: Context<AppEnv>, patientId: string, query: z.output<typeof ListDocumentsQuery>) => {
    const result = await listDocuments(servicesOf(c, options), { patientId, ...query });
    if (!result.ok) fail(result.error);
    return result.value;
  };
  const get = async (c: Context<AppEnv>, documentId: string) => {
    const result = await getDocument(servicesOf(c, options), { documentId });
    if (!result.ok) fail(result.error);
    return { document: result.value };
  };
  const remove = async (c: Context<AppEnv>, documentId: string) => {
    const result = await deleteDocument(servicesOf(c, options), { documentId });
    if (!result.ok) fail(result.error);
    return result.value;
  };

  app.openapi(listDocumentsRoute, async (c) =>
    c.json(await list(c, c.req.valid("param").patientId, c.req.valid("query")), 200),
  );
  app.openapi(partnerListDocumentsRoute, async (c) =>
    c.json(await list(c, c.req.valid("param").patient_id, c.req.valid("query")), 200),
  );
  app.openapi(getDocumentRoute, async (c) => c.json(await get(c, c.req.valid("param").documentId), 200));
  app.openapi(partnerGetDocumentRoute, async (c) =>
    c.json(await get(c, c.req.valid("param").document_id), 200),
  );
  app.openapi(deleteDocumentRoute, async (c) =>
    c.json(await remove(c, c.req.valid("param").documentId), 200),
  );
  app.openapi(partnerDeleteDocumentRoute, async (c) =>
    c.json(await remove(c, c.req.valid("param").document_id), 200),
  );

  app.openapi(documentPageRoute, async (c) => {
    const { documentId, page } = c.req.valid("param");
    const result = await getDocumentPage(servicesOf(c, options), { documentId, page });
    if (!result.ok) fail(result.error);
    return c.json(result.value, 200);
  });

  app.openapi(downloadUrlRoute, async (c) => {
    const { documentId } = c.req.valid("param");
    const { expires_in_seconds } = c.req.valid("query");
    const result = await issueDownloadUrl(servicesOf(c, options), {
      documentId,
      ...(expires_in_seconds === undefined ? {} : { expiresInSeconds: expires_in_seconds }),
    });
    if (!result.ok) fail(result.error);
    return c.json(result.value, 200);
  });
}
