import { z } from "@hono/zod-openapi";
import type { FunctionApp } from "../../../shared/http/create-app";
import { publicRoute } from "../../../shared/http/define-route";
import { HttpError } from "../../../shared/http/errors";

export const READINESS_TIMEOUT_MS = 2000;

const ReadySchema = z
  .object({ status: z.literal("ready"), checks: z.object({ database: z.literal("ok") }) })
  .openapi("Ready");

export const getReadyRoute = publicRoute({
  method: "get",
  path: "/ready",
  audit: { none: "readiness probe; reads no tenant data" },
  tags: ["ops"],
  summary: "Readiness: 200 only when the database answers as the application role",
  responses: {
    200: { description: "Ready", content: { "application/json": { schema: ReadySchema } } },
    503: { description: "Not ready" },
  },
});

export function registerGetReady(app: FunctionApp) {
  app.openapi(getReadyRoute, async (c) => {
    const probe = c.var.db.withoutTenant({ requestId: c.var.requestId }, async (tx) => {
      // As the application role: proves the role switch works, not only the socket.
      const [row] = await tx<{ role: string }[]>`select current_user as role`;
      return row?.role;
    });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("readiness timeout")), READINESS_TIMEOUT_MS);
    });
    try {
      await Promise.race([probe, timeout]);
    } catch {
      probe.catch(() => {});
      throw new HttpError("unavailable", "The database is not answering.");
    } finally {
      clearTimeout(timer);
    }
    return c.json({ status: "ready" as const, checks: { database: "ok" as const } }, 200);
  });
}
