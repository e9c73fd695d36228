import type { Context, ErrorHandler, NotFoundHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import { ERROR_STATUS, type ErrorCode, errorBody, HttpError } from "../../errors";

function requestIdOf(c: Context): string {
  return (c.get("requestId") as string | undefined) ?? "unknown";
}

function respond(
  c: Context,
  code: ErrorCode,
  message: string,
  details?: unknown,
  headers?: Record<string, string>,
) {
  const res = c.json(errorBody(code, message, requestIdOf(c), details), ERROR_STATUS[code]);
  for (const [name, value] of Object.entries(headers ?? {})) res.headers.set(name, value);
  return res;
}

const HONO_STATUS_TO_CODE: Partial<Record<number, ErrorCode>> = {
  400: "bad_request",
  401: "unauthorized",
  403: "forbidden",
  404: "not_found",
  405: "method_not_allowed",
  413: "payload_too_large",
  415: "unsupported_media_type",
  429: "rate_limited",
};

const SAFE_MESSAGES: Record<ErrorCode, string> = {
  bad_request: "The request could not be read.",
  validation_failed: "The request is not valid.",
  unauthorized: "Authentication is required.",
  step_up_required: "A fresh MFA code is required for this action.",
  forbidden: "You do not have permission for this action.",
  csrf_failed: "The anti-forgery check failed.",
  not_found: "Not found.",
  method_not_allowed: "Method not allowed.",
  conflict: "The request conflicts with the current state.",
  payload_too_large: "The request body is too large.",
  unsupported_media_type: "Unsupported content type.",
  rate_limited: "Too many requests.",
  internal_error: "Something went wrong. Quote the request id when reporting it.",
  misconfigured: "The service is not configured correctly.",
  unavailable: "The service is temporarily unavailable.",
};

/**
 * Every failure leaves as `{error:{code,message,requestId}}`. Unexpected errors are
 * logged by name and request id only: their messages can carry SQL or PHI, and stack
 * traces never reach the client (ASVS 16.5.1).
 */
export const onError: ErrorHandler = (error, c) => {
  if (error instanceof HttpError) return respond(c, error.code, error.message, error.details, error.headers);
  if (error instanceof HTTPException) {
    const code = HONO_STATUS_TO_CODE[error.status] ?? "bad_request";
    return respond(c, code, SAFE_MESSAGES[code]);
  }
  console.error(
    JSON.stringify({
      level: "error",
      event: "unhandled_error",
      name: error?.name ?? "Error",
      requestId: requestIdOf(c),
    }),
  );
  return respond(c, "internal_error", SAFE_MESSAGES.internal_error);
};

/**
 * 404 or, when the path exists under another method, 405 with Allow (RFC 9110 15.5.6).
 * The route patterns are compiled once, at first use, from the app's own route table.
 */
export function notFoundOrMethodNotAllowed(app: {
  routes: ReadonlyArray<{ method: string; path: string }>;
}): NotFoundHandler {
  let compiled: Array<{ method: string; pattern: RegExp }> | undefined;
  return (c) => {
    compiled ??= app.routes
      .filter((r) => r.method !== "ALL")
      .map((r) => ({ method: r.method, pattern: pathToRegExp(r.path) }));
    const path = c.req.path;
    const allowed = [...new Set(compiled.filter((r) => r.pattern.test(path)).map((r) => r.method))];
    if (allowed.length > 0) {
      if (allowed.includes("GET")) allowed.push("HEAD");
      return respond(c, "method_not_allowed", SAFE_MESSAGES.method_not_allowed, undefined, {
        Allow: allowed.join(", "),
      });
    }
    return respond(c, "not_found", SAFE_MESSAGES.not_found);
  };
}

export function pathToRegExp(path: string): RegExp {
  const source = path
    .split("/")
    .map((segment) => {
      if (segment === "*") return ".*";
      if (segment.startsWith(":")) {
        const custom = /^:[^{]+\{(.+)\}\??$/.exec(segment);
        return custom ? `(?:${custom[1]})` : "[^/]+";
      }
      return segment.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    })
    .join("/");
  return new RegExp(`^${source}/?$`);
}

export { SAFE_MESSAGES };
