import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { DomainError } from "../core/result";

/** The error codes a client can see. Stable: clients switch on them. */
export const ERROR_STATUS = {
  bad_request: 400,
  validation_failed: 400,
  unauthorized: 401,
  step_up_required: 401,
  forbidden: 403,
  csrf_failed: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  internal_error: 500,
  misconfigured: 503,
  unavailable: 503,
} as const satisfies Record<string, ContentfulStatusCode>;

export type ErrorCode = keyof typeof ERROR_STATUS;

export interface ErrorBody {
  error: { code: ErrorCode; message: string; requestId: string; details?: unknown };
}

/**
 * Thrown inside handlers and middleware; the error handler renders it as the JSON
 * error contract. `message` must be safe to show (no PHI, no internals).
 */
export class HttpError extends Error {
  readonly status: ContentfulStatusCode;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = "HttpError";
    this.status = ERROR_STATUS[code];
  }
}

const DOMAIN_TO_HTTP: Record<DomainError["code"], ErrorCode> = {
  not_found: "not_found",
  conflict: "conflict",
  invalid_input: "validation_failed",
  forbidden: "forbidden",
  unauthorized: "unauthorized",
  rate_limited: "rate_limited",
  unavailable: "unavailable",
};

/** The edge: a domain error value becomes an HTTP error. */
export function toHttpError(error: DomainError): HttpError {
  return new HttpError(DOMAIN_TO_HTTP[error.code], error.message);
}

export function errorBody(code: ErrorCode, message: string, requestId: string, details?: unknown): ErrorBody {
  return {
    error: details === undefined ? { code, message, requestId } : { code, message, requestId, details },
  };
}
