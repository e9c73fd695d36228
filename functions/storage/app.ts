import { createFunctionApp } from "../../shared/http/create-app";
import { registerHealth } from "../../shared/http/routes/health";

/** The storage function. Its routes arrive with their issues; it already has the shared plumbing. */
export function buildStorageApp() {
  const app = createFunctionApp("storage", { usesDatabase: false });
  registerHealth(app, "storage", "/storage/health");
  return app;
}

export const storageApp = buildStorageApp();
