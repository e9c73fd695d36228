import { createFunctionApp } from "../../shared/http/create-app";
import { registerHealth } from "../../shared/http/routes/health";
import { registerAdminRoutes } from "./routes/admin";
import { registerAuditRoutes } from "./routes/audit";
import {
  DOCUMENT_MULTIPART_PATHS,
  type DocumentRouteOptions,
  registerDocumentRoutes,
} from "./routes/documents";
import { registerGetReady } from "./routes/get-ready";
import { registerJobRoutes } from "./routes/jobs";
import { registerPatientRoutes } from "./routes/patients";
import { registerRecordRoutes } from "./routes/records";
import { type ReportRouteOptions, registerReportRoutes } from "./routes/reports";
import { registerSearchRoutes } from "./routes/search";

export const OPENAPI_PATH = "/api/v1/openapi.json";

export interface ApiAppOptions {
  /** Runtime-specific pieces of the documents routes (the clamd socket opener in workerd). */
  documents?: DocumentRouteOptions;
  /** Runtime-specific pieces of the reports routes (the bundled PDF fonts). */
  reports?: ReportRouteOptions;
}

/** The api function: /api/v1/*, the partner aliases, /health and /ready. Routes only. */
export function buildApiApp(options: ApiAppOptions = {}) {
  const app = createFunctionApp("api", { usesDatabase: true, multipartPaths: DOCUMENT_MULTIPART_PATHS });
  registerHealth(app, "api", "/health");
  registerGetReady(app);
  registerPatientRoutes(app);
  registerRecordRoutes(app);
  registerSearchRoutes(app);
  registerReportRoutes(app, options.reports);
  registerJobRoutes(app);
  registerDocumentRoutes(app, options.documents);
  registerAdminRoutes(app);
  registerAuditRoutes(app);
  app.doc31(OPENAPI_PATH, {
    openapi: "3.1.0",
    info: {
      title: "MedCHR API",
      version: "1.0.0",
      description:
        "Patients, documents, pipeline jobs and Client Health Reports. Errors: {error:{code,message,requestId}}.",
    },
  });
  return app;
}

export const apiApp = buildApiApp();
