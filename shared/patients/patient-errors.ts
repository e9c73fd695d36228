import { type FieldProblem, invalidFields } from "../core/invalid-fields";
import type { DomainError } from "../core/result";

/**
 * Expected failures of the patient functions, as values. Each names the fields it is
 * about, never their values (names, MRNs and dates of birth are PHI), in the same shape as
 * the HTTP layer's validation details so the edge passes `fields` through unchanged.
 */
export type { FieldProblem };

export interface PatientFieldsError extends DomainError {
  readonly code: "invalid_input" | "conflict";
  readonly fields: readonly FieldProblem[];
}

export interface PatientNotFoundError extends DomainError {
  readonly code: "not_found";
}

export function invalidPatientFields(
  issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }>,
): PatientFieldsError {
  return invalidFields(issues);
}

/** MRNs are unique per tenant (index patients_tenant_mrn_key); another clinic's MRNs never conflict. */
export const mrnConflict = (): PatientFieldsError => ({
  code: "conflict",
  message: "Another patient in this clinic already has this mrn.",
  fields: [{ field: "mrn", message: "is already used by another patient" }],
});

export const patientNotFound = (): PatientNotFoundError => ({
  code: "not_found",
  message: "No such patient.",
});
