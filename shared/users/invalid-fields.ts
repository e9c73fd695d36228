import type { DomainError } from "../core/result";

/**
 * A refused input, field by field: where and what, never the rejected value (it may be a
 * password or PHI). The same shape as the HTTP layer's validation details, so the edge
 * passes `fields` through unchanged.
 */
export interface InvalidFieldsError extends DomainError {
  readonly code: "invalid_input";
  readonly fields: readonly { readonly field: string; readonly message: string }[];
  /** Machine-readable reasons where a field has several (the password policy). */
  readonly reasons?: readonly string[];
}

export function invalidFields(
  issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }>,
  extra: { reasons?: readonly string[] } = {},
): InvalidFieldsError {
  const fields = issues.map((issue) => ({
    field: issue.path.map(String).join(".") || "(body)",
    message: issue.message,
  }));
  return {
    code: "invalid_input",
    message: `Invalid ${[...new Set(fields.map((f) => f.field))].join(", ")}.`,
    fields,
    ...(extra.reasons ? { reasons: extra.reasons } : {}),
  };
}

/**
 * Free text shown back to administrators (names) must not carry control characters
 * (terminal escapes, NUL). A refinement rather than a regex pattern: the OpenAPI document
 * cannot express the Unicode class.
 */
export const hasNoControlCharacters = (text: string): boolean => !/\p{Cc}/u.test(text);
export const NO_CONTROL_CHARACTERS_MESSAGE = "must not contain control characters";
