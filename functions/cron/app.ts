import { createFunctionApp } from "../../shared/http/create-app";
import { registerHealth } from "../../shared/http/routes/health";

/**
 * The cron function has no public routes in production (wrangler.toml gives it none);
 * the fetch handler exists for local liveness checks only.
 */
export function buildCronApp() {
  const app = createFunctionApp("cron", { usesDatabase: false });
  registerHealth(app, "cron", "/cron/health");
  return app;
}

export const cronApp = buildCronApp();
