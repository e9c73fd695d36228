import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { DomainError } from "../../../../shared/core/result";
import type { AppEnv } from "../../../../shared/http/context";
import { HttpError, toHttpError } from "../../../../shared/http/errors";
import { SEXES } from "../../../../shared/patients/patient-fields";

/** Response shapes and error mapping of the patients API (camelCase, like every response). */

export {
  commonErrors,
  errorResponse,
  jsonBody,
  jsonContent,
} from "../../../../shared/http/openapi-responses";

const AddressSchema = z.object({
  line1: z.string().optional(),
  line2: z.string().optional(),
  city: z.string().optional(),
  region: z.string().optional(),
  postalCode: z.string().optional(),
  country: z.string().optional().describe("ISO 3166-1 alpha-2"),
});

export const PatientSummarySchema = z
  .object({
    id: z.uuid(),
    mrn: z.string().nullable(),
    givenName: z.string(),
    familyName: z.string(),
    dateOfBirth: z.string().nullable().describe("YYYY-MM-DD"),
    sex: z.enum(SEXES).nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi("PatientSummary");

export const PatientSchema = PatientSummarySchema.extend({
  contact: z.object({
    phone: z.string().optional(),
    email: z.string().optional(),
    address: AddressSchema.optional(),
  }),
  notes: z.string().nullable(),
  lifestyle: z.object({
    smoking: z.string().optional(),
    alcohol: z.string().optional(),
    exercise: z.string().optional(),
    diet: z.string().optional(),
    occupation: z.string().optional(),
  }),
}).openapi("Patient");

export const PatientEnvelope = z.object({ patient: PatientSchema }).openapi("PatientEnvelope");

export const PatientPageSchema = z
  .object({
    patients: z.array(PatientSummarySchema),
    nextCursor: z
      .string()
      .nullable()
      .describe("Pass as ?cursor= (same filters) for the next page; null at the end"),
  })
  .openapi("PatientPage");

/**
 * The edge: a domain error value becomes the HTTP error contract. Invalid input and
 * conflicts keep their per-field details (field names and rules, never values), so a 409
 * says which field collided.
 */
export function fail(error: DomainError & { fields?: unknown }): never {
  if (error.fields && (error.code === "invalid_input" || error.code === "conflict")) {
    throw new HttpError(error.code === "conflict" ? "conflict" : "validation_failed", error.message, {
      fields: error.fields,
    });
  }
  throw toHttpError(error);
}

/** The user behind a session; null for API keys (the audit log names the key). */
export function createdByOf(c: Context<AppEnv>): string | null {
  const principal = c.var.principal;
  return principal.kind === "session" ? principal.userId : null;
}
