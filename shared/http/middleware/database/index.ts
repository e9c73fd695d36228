import { createMiddleware } from "hono/factory";
import type { AppConfig } from "../../../config/load-config";
import { createDatabase, type Database } from "../../../db/database";

interface HyperdriveLike {
  connectionString: string;
}

/**
 * One database client per request, opened on first use and closed after the response:
 * a Worker cannot share a socket across requests. Hyperdrive (or any pooler) is used
 * when bound as HYPERDRIVE; otherwise DATABASE_URL.
 */
export const database = () =>
  createMiddleware<{ Variables: { config: AppConfig; db: Database } }>(async (c, next) => {
    let opened: Database | undefined;
    const open = (): Database => {
      if (!opened) {
        const hyperdrive = (c.env as Record<string, unknown> | undefined)?.HYPERDRIVE as
          | HyperdriveLike
          | undefined;
        const url = hyperdrive?.connectionString ?? c.var.config.secrets.DATABASE_URL;
        if (!url) throw new Error("no database configured for this function");
        opened = createDatabase(url);
      }
      return opened;
    };
    c.set("db", {
      withTenant: (scope, fn) => open().withTenant(scope, fn),
      withoutTenant: (scope, fn) => open().withoutTenant(scope, fn),
      close: async () => {
        await opened?.close();
      },
    });
    try {
      await next();
    } finally {
      if (opened) {
        const closing = opened.close().catch(() => {});
        try {
          c.executionCtx.waitUntil(closing);
        } catch {
          await closing;
        }
      }
    }
  });
