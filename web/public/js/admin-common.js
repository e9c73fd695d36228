// Pieces the administration panels share: table cells, badges, field-by-field error
// text, and the "shown once" box that holds a new password or API token.
import { ApiError } from "./api.js";
import { copyText } from "./dom.js";

/** @returns {HTMLTableCellElement} */
export function cell(text) {
  const td = document.createElement("td");
  td.textContent = text;
  return td;
}

/** @param {"ok" | "bad" | "muted" | ""} [tone] */
export function badge(text, tone = "") {
  const span = document.createElement("span");
  span.className = tone ? `badge ${tone}` : "badge";
  span.textContent = text;
  return span;
}

/**
 * The per-field problems of a 400 validation_failed answer: [{ field, message }] where
 * field is the API's name ("email", "ipAllowlist.3"). Empty for any other error.
 * @returns {{ field: string, message: string }[]}
 */
export function invalidFields(error) {
  if (!(error instanceof ApiError) || error.code !== "validation_failed") return [];
  const fields = /** @type {any} */ (error.details)?.fields;
  if (!Array.isArray(fields)) return [];
  return fields.filter((f) => f && typeof f.field === "string" && typeof f.message === "string");
}

/**
 * The same error, its message naming each refused field by its label ("E-mail address:
 * Invalid email address"): the API's own field names mean nothing to an administrator.
 * Keeps the request id, so the reference support needs is still shown.
 * @param {unknown} error
 * @param {Record<string, string>} labels API field name -> label on the page
 */
export function explainInvalid(error, labels) {
  const fields = invalidFields(error);
  if (!(error instanceof ApiError) || fields.length === 0) return error;
  const parts = fields.map(({ field, message }) => `${labels[field] ?? field}: ${message}`);
  return new ApiError(
    error.status,
    error.code,
    `Please check: ${parts.join("; ")}.`,
    error.requestId,
    error.details,
  );
}

/** A field marked invalid stops being marked as soon as it is edited. */
export function clearInvalidOnInput(form) {
  form.addEventListener("input", (event) => {
    if (event.target instanceof HTMLElement) event.target.removeAttribute("aria-invalid");
  });
}

/** An error with its own text but the reference of the server answer it explains. */
export function reworded(error, message) {
  if (!(error instanceof ApiError)) return new Error(message);
  return new ApiError(error.status, error.code, message, error.requestId, error.details);
}

/**
 * A box showing a one-time secret (a new user's password, an API token). The secret lives
 * only in the box's <code class="secret"> for as long as it is open: never in a variable,
 * storage or a URL. The copy button reads it from there.
 */
export class OneTimeSecret {
  /**
   * @param {{ box: HTMLElement, secret: HTMLElement, copy: HTMLElement, status: HTMLElement,
   *   done: HTMLElement, heading: HTMLElement, label: string, onDone: () => void }} parts
   */
  constructor(parts) {
    this.parts = parts;
    parts.copy.addEventListener("click", () => {
      const text = parts.secret.textContent ?? "";
      if (text !== "") void copyText(text, parts.status, parts.label);
    });
    parts.done.addEventListener("click", () => {
      this.forget();
      parts.onDone();
    });
  }

  /** Shows the secret and moves focus to the box, so its warning is read first. */
  reveal(secret) {
    this.parts.secret.textContent = secret;
    this.parts.status.textContent = "";
    this.parts.box.hidden = false;
    this.parts.heading.focus();
  }

  /** Wipes the secret from the page (panel closed, "Done", sign-out). */
  forget() {
    this.parts.secret.textContent = "";
    this.parts.status.textContent = "";
    this.parts.box.hidden = true;
  }
}
