// Field-by-field errors: the API names each refused field in details.fields ([{ field,
// message }], never the value) for 400 validation_failed and 409 conflict. Each message is
// shown under its input, which is marked aria-invalid and described by it (WCAG 3.3.1);
// fields the page has no input for are listed in the form's summary instead.
import { ApiError } from "./api.js";

/**
 * @param {unknown} error
 * @returns {{ field: string, message: string }[]}
 */
export function fieldProblems(error) {
  if (!(error instanceof ApiError)) return [];
  if (error.code !== "validation_failed" && error.code !== "conflict") return [];
  const fields = /** @type {any} */ (error.details)?.fields;
  if (!Array.isArray(fields)) return [];
  return fields.filter((f) => f && typeof f.field === "string" && typeof f.message === "string");
}

/** "E-mail must be an email address"; "Sex: Invalid option" for messages that are not a rule. */
export function sentenceFor(label, message) {
  return /^(must|is|should|cannot|has)\b/.test(message) ? `${label} ${message}.` : `${label}: ${message}`;
}

function labelOf(input) {
  const label = input.id ? document.querySelector(`label[for="${input.id}"]`) : null;
  // The visible label without the required-field asterisk.
  const text = label?.firstChild?.textContent ?? input.getAttribute("name") ?? "This field";
  return text.trim();
}

function describedBy(input, errorId) {
  const ids = [input.dataset.hint, errorId].filter(Boolean);
  if (ids.length > 0) input.setAttribute("aria-describedby", ids.join(" "));
  else input.removeAttribute("aria-describedby");
}

/**
 * Shows each problem under the input whose data-api-field names its field.
 * @param {HTMLFormElement} form
 * @param {{ field: string, message: string }[]} problems
 * @returns {{ first: HTMLElement | null, unmatched: string[], count: number }}
 */
export function showFieldErrors(form, problems) {
  clearFieldErrors(form);
  /** @type {HTMLElement | null} */
  let first = null;
  const unmatched = [];
  const byInput = new Map();
  for (const problem of problems) {
    const input = form.querySelector(`[data-api-field="${CSS.escape(problem.field)}"]`);
    if (!(input instanceof HTMLElement)) {
      unmatched.push(sentenceFor(problem.field, problem.message));
      continue;
    }
    const list = byInput.get(input) ?? [];
    list.push(problem.message);
    byInput.set(input, list);
  }
  const ordered = [...form.querySelectorAll("[data-api-field]")].filter((el) => byInput.has(el));
  for (const input of ordered) {
    const el = /** @type {HTMLElement} */ (input);
    const label = labelOf(el);
    const errorId = `${el.id}-error`;
    let error = document.getElementById(errorId);
    if (!error) {
      error = document.createElement("p");
      error.id = errorId;
      error.className = "field-error";
      error.dataset.generated = "true";
      el.insertAdjacentElement("afterend", error);
    }
    error.textContent = [...new Set(byInput.get(el))].map((m) => sentenceFor(label, m)).join(" ");
    error.hidden = false;
    el.setAttribute("aria-invalid", "true");
    describedBy(el, errorId);
    first ??= el;
  }
  return { first, unmatched, count: ordered.length + unmatched.length };
}

/** @param {HTMLFormElement} form */
export function clearFieldErrors(form) {
  for (const error of form.querySelectorAll(".field-error")) {
    const el = /** @type {HTMLElement} */ (error);
    if (el.dataset.generated === "true") el.remove();
    else {
      el.textContent = "";
      el.hidden = true;
    }
  }
  for (const input of form.querySelectorAll("[data-api-field]")) {
    input.removeAttribute("aria-invalid");
    describedBy(/** @type {HTMLElement} */ (input), null);
  }
}

/**
 * An input is no longer marked as soon as it is edited; its message goes with it.
 * @param {HTMLFormElement} form
 */
export function clearFieldErrorOnInput(form) {
  form.addEventListener("input", (event) => {
    const input = event.target;
    if (!(input instanceof HTMLElement) || !input.hasAttribute("aria-invalid")) return;
    input.removeAttribute("aria-invalid");
    const error = document.getElementById(`${input.id}-error`);
    if (error) {
      if (error.dataset.generated === "true") error.remove();
      else {
        error.textContent = "";
        error.hidden = true;
      }
    }
    describedBy(input, null);
  });
}
