export { type InvalidFieldsError, invalidFields } from "../core/invalid-fields";

/**
 * Free text shown back to administrators (names) must not carry control characters
 * (terminal escapes, NUL). A refinement rather than a regex pattern: the OpenAPI document
 * cannot express the Unicode class.
 */
export const hasNoControlCharacters = (text: string): boolean => !/\p{Cc}/u.test(text);
export const NO_CONTROL_CHARACTERS_MESSAGE = "must not contain control characters";
