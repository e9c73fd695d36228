import type { Principal } from "../auth/principal";
import type { AppConfig } from "../config/load-config";
import type { Database } from "../db/database";

/** What every function's Hono context carries. Services are injected here, never imported as singletons. */
export interface AppVariables {
  requestId: string;
  config: AppConfig;
  db: Database;
  /** The caller's address, resolved per TRUST_PROXY_HEADERS / TRUSTED_PROXY_IPS (null: unknown). */
  clientIp: string | null;
  /** Who is calling; set by the authenticate middleware on protected routes. */
  principal: Principal;
}

export interface AppEnv {
  Bindings: Record<string, unknown>;
  Variables: AppVariables;
}
