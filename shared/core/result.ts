/**
 * Errors are values inside the domain: services return a Result and the HTTP edge
 * turns a failure into a status code. Domain code never throws for expected outcomes.
 */
export type DomainErrorCode =
  | "not_found"
  | "conflict"
  | "invalid_input"
  | "forbidden"
  | "unauthorized"
  | "rate_limited"
  | "unavailable";

export interface DomainError {
  readonly code: DomainErrorCode;
  /** Safe for clients: never contains PHI, SQL or stack traces. */
  readonly message: string;
}

export type Result<T, E extends DomainError = DomainError> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: E };

export const ok = <T>(value: T): Result<T, never> => ({ ok: true, value });
export const err = <E extends DomainError>(error: E): Result<never, E> => ({ ok: false, error });
