import { createFunctionApp } from "../../shared/http/create-app";
import { registerHealth } from "../../shared/http/routes/health";

/** The auth function. Its routes arrive with their issues; it already has the shared plumbing. */
export function buildAuthApp() {
  const app = createFunctionApp("auth", { usesDatabase: true });
  registerHealth(app, "auth", "/auth/health");
  return app;
}

export const authApp = buildAuthApp();
