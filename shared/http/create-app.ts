import { OpenAPIHono } from "@hono/zod-openapi";
import type { FunctionName } from "../config/functions";
import { fieldProblems } from "../core/invalid-fields";
import type { AppEnv } from "./context";
import { HttpError } from "./errors";
import { appConfig } from "./middleware/app-config";
import { bodyLimit } from "./middleware/body-limit";
import { clientIp } from "./middleware/client-ip";
import { requireJsonBody } from "./middleware/content-type";
import { database } from "./middleware/database";
import { notFoundOrMethodNotAllowed, onError } from "./middleware/error-handler";
import { jsonBodyGuard } from "./middleware/json-body-guard";
import { requestId } from "./middleware/request-id";
import { securityHeaders } from "./middleware/security-headers";
import { registerSecuritySchemes } from "./openapi-security";

export interface FunctionAppOptions {
  /** Largest JSON body accepted (bytes). */
  bodyLimitBytes?: number;
  /** Paths taking multipart/form-data instead of JSON. */
  multipartPaths?: readonly RegExp[];
  /** Open a per-request database client (functions that touch Postgres). */
  usesDatabase?: boolean;
  /** CSP override (the web UI); APIs keep the locked-down default. */
  contentSecurityPolicy?: string;
  /** Cache-Control override; APIs keep no-store. */
  cacheControl?: string;
}

/** Field-level validation errors: where and what, never the rejected value (it may be PHI). */
export function validationDetails(
  issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }>,
) {
  return { fields: fieldProblems(issues) };
}

/**
 * The shared Hono plumbing of every function: request id, security headers, config
 * validation, body limit, JSON-only bodies, per-request DB client, JSON errors, 404/405.
 * Each function adds only its routes.
 */
export function createFunctionApp(functionName: FunctionName, options: FunctionAppOptions = {}) {
  const app = new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) {
        const names = validationDetails(result.error.issues)
          .fields.map((f) => f.field)
          .join(", ");
        throw new HttpError("validation_failed", `Invalid ${names}.`, validationDetails(result.error.issues));
      }
    },
  });
  registerSecuritySchemes(app);
  app.use(requestId());
  // HSTS is always sent: browsers ignore it over plain http (RFC 6797 8.1), so local
  // development is unaffected while every https deployment gets it.
  app.use(
    securityHeaders({
      hsts: true,
      ...(options.contentSecurityPolicy ? { contentSecurityPolicy: options.contentSecurityPolicy } : {}),
      ...(options.cacheControl ? { cacheControl: options.cacheControl } : {}),
    }),
  );
  app.use(appConfig(functionName));
  app.use(clientIp());
  // Multipart upload routes enforce their own, larger limit (MAX_UPLOAD_BYTES + framing).
  const jsonBodyLimit = bodyLimit(options.bodyLimitBytes);
  const multipartPaths = options.multipartPaths ?? [];
  app.use((c, next) => (multipartPaths.some((p) => p.test(c.req.path)) ? next() : jsonBodyLimit(c, next)));
  app.use(requireJsonBody({ multipartPaths: options.multipartPaths ?? [] }));
  app.use(jsonBodyGuard());
  if (options.usesDatabase) app.use(database());
  app.onError(onError);
  app.notFound(notFoundOrMethodNotAllowed(app));
  return app;
}

export type FunctionApp = ReturnType<typeof createFunctionApp>;
