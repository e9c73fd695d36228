import { createFunctionApp } from "../../shared/http/create-app";
import { registerHealth } from "../../shared/http/routes/health";
import { registerAdminRoutes } from "./routes/admin";
import { registerGetReady } from "./routes/get-ready";
import { registerPatientRoutes } from "./routes/patients";

export const OPENAPI_PATH = "/api/v1/openapi.json";

/** The api function: /api/v1/*, the partner aliases, /health and /ready. Routes only. */
export function buildApiApp() {
  const app = createFunctionApp("api", { usesDatabase: true });
  registerHealth(app, "api", "/health");
  registerGetReady(app);
  registerPatientRoutes(app);
  registerAdminRoutes(app);
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
