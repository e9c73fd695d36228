import { z } from "@hono/zod-openapi";

/**
 * OpenAPI building blocks every route file uses, so the error contract is described once:
 * `{error:{code,message,requestId,details?}}` (ADR 5). `details` carries field names
 * (validation), a reason code, or nothing; never a rejected value.
 */

export const jsonContent = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { "application/json": { schema } },
});

export const jsonBody = <T extends z.ZodType>(schema: T) => ({
  body: { content: { "application/json": { schema } }, required: true },
});

export const ErrorSchema = z
  .object({
    error: z.object({
      code: z.string(),
      message: z.string(),
      requestId: z.string(),
      details: z
        .looseObject({
          fields: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
          reason: z.string().optional(),
        })
        .optional(),
    }),
  })
  .openapi("Error");

export const errorResponse = (description: string) => jsonContent(ErrorSchema, description);

/** What every protected route can answer besides its own (the shared security suite checks these). */
export const commonErrors = {
  400: errorResponse("Malformed request; details.fields names each bad field (never its value)"),
  401: errorResponse("Not signed in, bad API key, or step_up_required (confirm with a fresh MFA code)"),
  403: errorResponse("The role or the key's scopes do not allow this, or the anti-forgery check failed"),
} as const;
