import { createFunctionApp } from "../../shared/http/create-app";
import { registerHealth } from "../../shared/http/routes/health";

/** The pipeline function. Its routes arrive with their issues; it already has the shared plumbing. */
export function buildPipelineApp() {
  const app = createFunctionApp("pipeline", { usesDatabase: true });
  registerHealth(app, "pipeline", "/pipeline/health");
  return app;
}

export const pipelineApp = buildPipelineApp();
