import type { FunctionApp } from "../../../../shared/http/create-app";
import type { DocumentRouteOptions } from "./document-http";
import { registerDocumentReadRoutes } from "./document-routes";
import { registerUploadRoutes } from "./upload-routes";

export {
  DOCUMENT_MULTIPART_PATHS,
  type DocumentRouteOptions,
  documentStorageFor,
} from "./document-http";

/**
 * Patient documents (issue 4): presigned upload + register, direct multipart upload for
 * partners, list, get, signed download links, delete; and the partner aliases
 * /patients/{id}/documents (GET, POST) and /documents/{id} (GET, DELETE). Every route is a
 * protectedRoute (patient.read or patient.write), so the shared security suite checks it.
 *
 * The app must be created with `multipartPaths: DOCUMENT_MULTIPART_PATHS` (the direct upload
 * takes multipart/form-data) and must not apply its JSON body limit to those paths: the
 * direct upload has its own (MAX_UPLOAD_BYTES plus framing).
 */
export function registerDocumentRoutes(app: FunctionApp, options: DocumentRouteOptions = {}): void {
  registerUploadRoutes(app, options);
  registerDocumentReadRoutes(app, options);
}
