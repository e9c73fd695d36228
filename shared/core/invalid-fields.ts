import type { DomainError } from "./result";

/**
 * A refused input, field by field: where and what, never the rejected value (it may be a
 * password or PHI). The same shape as the HTTP layer's validation details, so the edge
 * passes `fields` through unchanged.
 */
export interface FieldProblem {
  readonly field: string;
  readonly message: string;
}

export interface InvalidFieldsError extends DomainError {
  readonly code: "invalid_input";
  readonly fields: readonly FieldProblem[];
  /** Machine-readable reasons where a field has several (the password policy). */
  readonly reasons?: readonly string[];
}

type Issues = ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }>;

/** zod issues as field problems: the dotted path ("(body)" for the whole input) and the rule. */
export function fieldProblems(issues: Issues): FieldProblem[] {
  return issues.map((issue) => ({
    field: issue.path.map(String).join(".") || "(body)",
    message: issue.message,
  }));
}

export function invalidFields(
  issues: Issues,
  extra: { reasons?: readonly string[] } = {},
): InvalidFieldsError {
  const fields = fieldProblems(issues);
  return {
    code: "invalid_input",
    message: `Invalid ${[...new Set(fields.map((f) => f.field))].join(", ")}.`,
    fields,
    ...(extra.reasons ? { reasons: extra.reasons } : {}),
  };
}
