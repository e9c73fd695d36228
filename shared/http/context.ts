import type { AppConfig } from "../config/load-config";
import type { Database } from "../db/database";

/** What every function's Hono context carries. Services are injected here, never imported as singletons. */
export interface AppVariables {
  requestId: string;
  config: AppConfig;
  db: Database;
}

export interface AppEnv {
  Bindings: Record<string, unknown>;
  Variables: AppVariables;
}
