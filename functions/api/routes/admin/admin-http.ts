import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { AuditContext } from "../../../../shared/audit/audit-context";
import type { KeyRing } from "../../../../shared/config/key-ring";
import { type AppConfig, requireKeyRing } from "../../../../shared/config/load-config";
import type { DomainError } from "../../../../shared/core/result";
import { auditContextOf } from "../../../../shared/http/audit-context";
import type { AppEnv } from "../../../../shared/http/context";
import { HttpError, toHttpError } from "../../../../shared/http/errors";

export const ADMIN_BASE = "/api/v1/admin";

export const jsonContent = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { "application/json": { schema } },
});

export const jsonBody = <T extends z.ZodType>(schema: T) => ({
  body: { content: { "application/json": { schema } }, required: true },
});

const AdminErrorSchema = z
  .object({
    error: z.object({
      code: z.string(),
      message: z.string(),
      requestId: z.string(),
      details: z
        .looseObject({ fields: z.array(z.object({ field: z.string(), message: z.string() })) })
        .optional(),
    }),
  })
  .openapi("AdminError");

export const errorResponse = (description: string) => jsonContent(AdminErrorSchema, description);

/** The answers every admin route can give besides its own (the shared security suite checks them). */
export const commonErrors = {
  400: errorResponse("Malformed request; details.fields names each bad field"),
  401: errorResponse("Not signed in, bad API key, or step_up_required (confirm with a fresh MFA code)"),
  403: errorResponse("The role or the key's scopes do not allow this, or the anti-forgery check failed"),
} as const;

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

export const auditOf = (c: Context<AppEnv>): AuditContext => auditContextOf(c);

/** The password pepper for admin-created accounts (declared by the api function). */
export function pepperKeysOf(config: AppConfig): KeyRing {
  return requireKeyRing(config, "PASSWORD_PEPPER_KEYS");
}
