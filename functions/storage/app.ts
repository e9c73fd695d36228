import { createFunctionApp } from "../../shared/http/create-app";
import { registerHealth } from "../../shared/http/routes/health";
import { type ObjectStorageFactory, registerInternalStorageRoutes } from "./routes/internal-routes";

/**
 * The storage function: the only holder of the Supabase service-role key. Its public
 * surface is /storage/health; /storage/internal/* serves the other functions through their
 * STORAGE service binding and needs the shared internal token.
 */
export function buildStorageApp(options: { objectStorage?: ObjectStorageFactory } = {}) {
  const app = createFunctionApp("storage", { usesDatabase: false });
  registerHealth(app, "storage", "/storage/health");
  registerInternalStorageRoutes(app, options.objectStorage);
  return app;
}

export const storageApp = buildStorageApp();
