import { z } from "@hono/zod-openapi";
import type { FunctionName } from "../../config/functions";
import type { FunctionApp } from "../create-app";
import { publicRoute } from "../define-route";

export const HealthSchema = z.object({ status: z.literal("ok"), function: z.string() }).openapi("Health");

export const healthRoute = (path: string) =>
  publicRoute({
    method: "get",
    path,
    audit: { none: "liveness probe; reads no data" },
    tags: ["ops"],
    summary: "Liveness: the function runs and its configuration is valid",
    responses: {
      200: { description: "Alive", content: { "application/json": { schema: HealthSchema } } },
    },
  });

/** Every function answers liveness on a path of its own; config errors already gave 503. */
export function registerHealth(app: FunctionApp, functionName: FunctionName, path: string) {
  app.openapi(healthRoute(path), (c) => c.json({ status: "ok" as const, function: functionName }, 200));
}
