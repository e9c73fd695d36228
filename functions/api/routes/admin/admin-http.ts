import type { KeyRing } from "../../../../shared/config/key-ring";
import { type AppConfig, requireKeyRing } from "../../../../shared/config/load-config";
import type { DomainError } from "../../../../shared/core/result";
import { HttpError, toHttpError } from "../../../../shared/http/errors";

export const ADMIN_BASE = "/api/v1/admin";

export {
  commonErrors,
  errorResponse,
  jsonBody,
  jsonContent,
} from "../../../../shared/http/openapi-responses";

/**
 * The edge: a domain error value becomes the HTTP error contract. Invalid input keeps its
 * per-field details (field names and rules, never values).
 */
export function fail(error: DomainError & { fields?: unknown; reasons?: unknown }): never {
  if (error.code === "invalid_input" && error.fields) {
    throw new HttpError("validation_failed", error.message, {
      fields: error.fields,
      ...(error.reasons ? { reasons: error.reasons } : {}),
    });
  }
  throw toHttpError(error);
}

/** The password pepper for admin-created accounts (declared by the api function). */
export function pepperKeysOf(config: AppConfig): KeyRing {
  return requireKeyRing(config, "PASSWORD_PEPPER_KEYS");
}
