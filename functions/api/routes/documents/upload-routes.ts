/**
 * Uploads: presign + register (the two-step flow for browsers and most partners) and the
 * direct multipart upload for partners that cannot do two steps. All three end in the same
 * gate (shared/documents/inspect-upload.ts) and answer a refused file with 422.
 */
import type { Context } from "hono";
import { err, ok, type Result } from "../../../../shared/core/result";
import { type DocumentError, documentErrors } from "../../../../shared/documents/document-errors";
import { presignUpload } from "../../../../shared/documents/presign-upload";
import { registerUpload } from "../../../../shared/documents/register-upload";
import { type UploadedFile, uploadDocument } from "../../../../shared/documents/upload-document";
import type { AppEnv } from "../../../../shared/http/context";
import type { FunctionApp } from "../../../../shared/http/create-app";
import { protectedRoute } from "../../../../shared/http/define-route";
import { HttpError } from "../../../../shared/http/errors";
import {
  bodyLimitExceeded,
  commonErrors,
  type DocumentRouteOptions,
  directUploadBodyLimit,
  errorResponse,
  fail,
  isUploadRefused,
  jsonBody,
  jsonContent,
  refusedBody,
  scannerFor,
  servicesOf,
} from "./document-http";
import {
  DIRECT_UPLOAD_BODY_SCHEMA,
  DocumentEnvelope,
  PartnerPatientIdParams,
  PatientIdParams,
  PresignUploadRequest,
  PresignUploadResponse,
  RegisterUploadRequest,
  UploadRefusedSchema,
} from "./schemas";

const refused = {
  422: jsonContent(UploadRefusedSchema, "The file was checked and refused (details.reason); it was not kept"),
} as const;

export const presignUploadRoute = protectedRoute({
  method: "post",
  path: "/api/v1/patients/{patientId}/documents/presign-upload",
  audit: { actions: ["document.upload_url_issued"] },
  tags: ["documents"],
  summary: "Get a signed URL to upload one file for a patient",
  description:
    "Checks the declared size (1 byte to MAX_UPLOAD_BYTES, default 25 MB) and type (PDF, PNG, JPEG, TIFF, plain text), chooses the storage path, and returns a signed upload URL. PUT the file to uploadUrl with uploadHeaders, then call register-upload with uploadId within 15 minutes.",
  permission: "patient.write",
  request: { params: PatientIdParams, ...jsonBody(PresignUploadRequest) },
  responses: {
    201: jsonContent(PresignUploadResponse, "Upload URL issued"),
    ...commonErrors,
  },
});

export const registerUploadRoute = protectedRoute({
  method: "post",
  path: "/api/v1/patients/{patientId}/documents/register-upload",
  audit: { actions: ["document.register", "document.scan", "job.create"] },
  tags: ["documents"],
  summary: "Register an uploaded file as a document, after checking it",
  description:
    "The upload must have been issued for this patient, within its 15-minute window, and not registered before. The stored bytes are checked: size, type from magic bytes (consistent with the declared type and the upload's Content-Type), SHA-256, and a ClamAV scan when configured. A refused file is removed (422); an infected one is also recorded as a quarantined document. When the scanner is unavailable the upload is kept and can be registered again (503).",
  permission: "patient.write",
  request: { params: PatientIdParams, ...jsonBody(RegisterUploadRequest) },
  responses: {
    201: jsonContent(DocumentEnvelope, "Registered"),
    ...commonErrors,
    409: errorResponse(
      "Already registered or refused, window expired, or nothing uploaded yet (details.reason)",
    ),
    ...refused,
  },
});

const directUploadConfig = {
  method: "post",
  summary: "Upload one file for a patient in a single request (multipart)",
  audit: { actions: ["document.register", "document.scan", "job.create"] },
  description:
    "For partner systems that cannot do presign + PUT + register. Parts: file (required), filename and contentType (optional overrides). The same checks as register-upload run before anything is stored.",
  permission: "patient.write",
  responses: {
    201: jsonContent(DocumentEnvelope, "Stored and registered"),
    ...commonErrors,
    413: errorResponse("The request is larger than MAX_UPLOAD_BYTES plus multipart framing"),
    415: errorResponse("Not multipart/form-data"),
    ...refused,
  },
} as const;

const multipartBody = {
  required: true,
  content: { "multipart/form-data": { schema: DIRECT_UPLOAD_BODY_SCHEMA } },
};

export const directUploadRoute = protectedRoute({
  ...directUploadConfig,
  tags: ["documents"],
  path: "/api/v1/patients/{patientId}/documents",
  request: { params: PatientIdParams, body: multipartBody },
});
export const partnerDirectUploadRoute = protectedRoute({
  ...directUploadConfig,
  tags: ["partner"],
  path: "/patients/{patient_id}/documents",
  request: { params: PartnerPatientIdParams, body: multipartBody },
});

const ALLOWED_PARTS = new Set(["file", "filename", "contentType", "content_type"]);

/** The multipart body: one file, at most one of each optional field, nothing else. */
async function readMultipartFile(c: Context<AppEnv>): Promise<Result<UploadedFile, DocumentError>> {
  const type = (c.req.header("Content-Type") ?? "").split(";")[0]!.trim().toLowerCase();
  if (type !== "multipart/form-data") {
    throw new HttpError("unsupported_media_type", "Send multipart/form-data.");
  }
  let form: FormData;
  try {
    form = await c.req.raw.formData();
  } catch {
    if (bodyLimitExceeded(c)) {
      throw new HttpError("payload_too_large", "The request body is larger than the upload limit.");
    }
    throw new HttpError("bad_request", "The multipart body could not be read.");
  }
  const fields: Array<{ field: string; message: string }> = [];
  for (const name of new Set(form.keys())) {
    if (!ALLOWED_PARTS.has(name)) fields.push({ field: name.slice(0, 64), message: "is not a known part" });
    else if (form.getAll(name).length > 1) fields.push({ field: name, message: "must appear once" });
  }
  const file = form.get("file");
  if (!(file instanceof Blob)) fields.push({ field: "file", message: "must be a file part" });
  const text = (name: string) => {
    const value = form.get(name);
    if (value === null) return undefined;
    if (typeof value !== "string" || value.length > 4096) {
      fields.push({ field: name, message: "must be a short text part" });
      return undefined;
    }
    return value;
  };
  const filename = text("filename");
  const contentType = text("contentType") ?? text("content_type");
  if (fields.length > 0 || !(file instanceof Blob)) return err(documentErrors.invalidFields(fields));
  const partName = file instanceof File ? file.name : "";
  return ok({
    body: file,
    filename: filename ?? partName,
    contentType: contentType ?? (file.type === "" ? null : file.type),
  });
}

export function registerUploadRoutes(app: FunctionApp, options: DocumentRouteOptions): void {
  app.openapi(presignUploadRoute, async (c) => {
    const { patientId } = c.req.valid("param");
    const body = c.req.valid("json");
    const result = await presignUpload(
      servicesOf(c, options),
      {
        patientId,
        filename: body.filename,
        contentType: (body.contentType ?? body.content_type)!,
        size: body.size,
      },
      { maxUploadBytes: c.var.config.maxUploadBytes },
    );
    if (!result.ok) fail(result.error);
    return c.json(result.value, 201);
  });

  app.openapi(registerUploadRoute, async (c) => {
    const { patientId } = c.req.valid("param");
    const body = c.req.valid("json");
    const scanner = scannerFor(c, options.openSocket);
    const result = await registerUpload(
      servicesOf(c, options),
      { patientId, ...body },
      { maxUploadBytes: c.var.config.maxUploadBytes, scanner },
    );
    if (!result.ok) {
      if (isUploadRefused(result.error)) return c.json(refusedBody(c, result.error), 422);
      fail(result.error);
    }
    return c.json({ document: result.value }, 201);
  });

  const directUpload = async (c: Context<AppEnv>, patientId: string) => {
    const scanner = scannerFor(c, options.openSocket);
    return uploadDocument(
      servicesOf(c, options),
      { patientId, readFile: () => readMultipartFile(c) },
      {
        maxUploadBytes: c.var.config.maxUploadBytes,
        scanner,
        ...(options.uploadFetch ? { fetch: options.uploadFetch } : {}),
      },
    );
  };
  for (const pattern of ["/api/v1/patients/:patientId/documents", "/patients/:patient_id/documents"]) {
    app.use(pattern, directUploadBodyLimit());
  }
  app.openapi(directUploadRoute, async (c) => {
    const result = await directUpload(c, c.req.valid("param").patientId);
    if (!result.ok) {
      if (isUploadRefused(result.error)) return c.json(refusedBody(c, result.error), 422);
      fail(result.error);
    }
    return c.json({ document: result.value }, 201);
  });
  app.openapi(partnerDirectUploadRoute, async (c) => {
    const result = await directUpload(c, c.req.valid("param").patient_id);
    if (!result.ok) {
      if (isUploadRefused(result.error)) return c.json(refusedBody(c, result.error), 422);
      fail(result.error);
    }
    return c.json({ document: result.value }, 201);
  });
}
