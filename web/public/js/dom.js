// Small DOM helpers shared by the screens. Text only ever goes in through textContent:
// nothing the server or the user sends is parsed as HTML.

/** @returns {HTMLElement} */
export function byId(id) {
  const element = document.getElementById(id);
  if (!element) throw new Error(`#${id} is missing from index.html`);
  return element;
}

const VIEW_TITLES = {
  "view-loading": "MedCHR",
  "view-sign-in": "Sign in - MedCHR",
  "view-mfa-enrol": "Set up two-factor authentication - MedCHR",
  "view-recovery": "Recovery codes - MedCHR",
  "view-mfa-verify": "Two-factor authentication - MedCHR",
  "view-shell": "MedCHR",
  "view-admin": "Administration - MedCHR",
  // Titles stay generic on patient screens: browsers keep page titles in their history, so
  // a patient's name there would outlive the session (the hash route carries ids only).
  "view-patients": "Patients - MedCHR",
  "view-patient": "Patient - MedCHR",
  "view-patient-form": "Patient details - MedCHR",
};

/** The header switch's section of each screen (several patient screens, one "Patients"). */
const VIEW_SECTIONS = {
  "view-patient": "view-patients",
  "view-patient-form": "view-patients",
};

/** @type {Set<(id: string) => void>} */
const viewListeners = new Set();

/** Called with the id of every screen shown from now on (a section closing stops its work). */
export function onViewShown(listener) {
  viewListeners.add(listener);
}

/**
 * Shows one screen and moves focus to its heading, so keyboard and screen-reader users
 * land on the new content (WCAG 2.4.3) rather than on a button that has disappeared.
 * @param {string} id
 * @param {{ focus?: boolean }} [options] focus: false when the caller moves focus itself
 */
export function showView(id, { focus = true } = {}) {
  for (const view of document.querySelectorAll(".view")) view.hidden = view.id !== id;
  document.title = VIEW_TITLES[id] ?? "MedCHR";
  const section = VIEW_SECTIONS[id] ?? id;
  for (const button of document.querySelectorAll("#app-nav button[data-nav]")) {
    if (/** @type {HTMLElement} */ (button).dataset.nav === section)
      button.setAttribute("aria-current", "page");
    else button.removeAttribute("aria-current");
  }
  if (focus) {
    const heading = byId(id).querySelector("h1");
    if (heading instanceof HTMLElement) heading.focus();
  }
  for (const listener of viewListeners) listener(id);
}

export function announce(message) {
  const announcer = byId("announcer");
  announcer.textContent = "";
  // A fresh node change makes screen readers repeat an identical message.
  setTimeout(() => {
    announcer.textContent = message;
  }, 50);
}

/** The text of an ApiError (or any error) with the request id support needs to find it. */
export function describeError(error) {
  if (!error || typeof error !== "object") return "Something went wrong.";
  let text = typeof error.message === "string" && error.message ? error.message : "Something went wrong.";
  if (error.code === "rate_limited" && error.retryAfterSeconds) {
    const minutes = Math.ceil(error.retryAfterSeconds / 60);
    text += ` Try again in ${minutes === 1 ? "a minute" : `${minutes} minutes`}.`;
  }
  if (error.requestId) text += ` Reference: ${error.requestId}`;
  return text;
}

/** Shows an error in an element with role="alert" (announced at once). */
export function showErrorIn(element, error) {
  element.textContent = typeof error === "string" ? error : describeError(error);
  element.hidden = false;
}

export function clearErrorIn(element) {
  element.textContent = "";
  element.hidden = true;
}

/** @param {HTMLFormElement} form */
export function formError(form) {
  const element = form.querySelector("[data-error]");
  if (!(element instanceof HTMLElement)) throw new Error(`form #${form.id} has no [data-error]`);
  return element;
}

/**
 * Runs `work` with the form's buttons disabled (no double submit) and its error cleared;
 * an error thrown by `work` is shown in the form and focus returns to `focusOnError`.
 * @param {HTMLFormElement} form
 * @param {() => Promise<void>} work
 * @param {HTMLElement | ((error: unknown) => HTMLElement)} [focusOnError] the field to fix, or how to pick it
 */
export async function submitting(form, work, focusOnError) {
  const buttons = [...form.querySelectorAll("button")];
  const error = formError(form);
  clearErrorIn(error);
  for (const input of form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
  form.setAttribute("aria-busy", "true");
  for (const button of buttons) button.disabled = true;
  try {
    await work();
  } catch (caught) {
    showErrorIn(error, caught);
    const field = typeof focusOnError === "function" ? focusOnError(caught) : focusOnError;
    if (field) {
      field.setAttribute("aria-invalid", "true");
      field.focus();
      if (field instanceof HTMLInputElement) field.select();
    }
  } finally {
    form.removeAttribute("aria-busy");
    for (const button of buttons) button.disabled = false;
  }
}

export function resetForm(form) {
  form.reset();
  clearErrorIn(formError(form));
  for (const input of form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
const timeOnly = new Intl.DateTimeFormat(undefined, { timeStyle: "short" });

export function formatDateTime(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? "unknown" : dateTime.format(date);
}

export function formatTime(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? "unknown" : timeOnly.format(date);
}

/** Sets a <time> element's visible text and machine-readable datetime. */
export function setTime(element, iso, format = formatDateTime) {
  element.textContent = format(iso);
  element.setAttribute("datetime", iso);
}

/** A TOTP key in groups of 4, as authenticator apps show it: easier to read and type. */
export function groupKey(key) {
  return (key.match(/.{1,4}/g) ?? []).join(" ");
}

/** Copies text, and says in a status element whether it worked (clipboard access can be refused). */
export async function copyText(text, status, label) {
  try {
    await navigator.clipboard.writeText(text);
    status.textContent = `Copied the ${label}.`;
  } catch {
    status.textContent = `Could not copy the ${label}: select it and copy it by hand.`;
  }
}

const BROWSERS = [
  [/Edg\//, "Edge"],
  [/OPR\//, "Opera"],
  [/Firefox\//, "Firefox"],
  [/Chrom(e|ium)\//, "Chrome"],
  [/Safari\//, "Safari"],
];
const SYSTEMS = [
  [/Windows/, "Windows"],
  [/Android/, "Android"],
  [/iPhone|iPad|iPod/, "iOS"],
  [/Mac OS X|Macintosh/, "macOS"],
  [/CrOS/, "ChromeOS"],
  [/Linux/, "Linux"],
];

/** "Chrome on Linux" from a User-Agent string: enough to recognise one's own devices. */
export function describeUserAgent(userAgent) {
  if (!userAgent) return "Unknown device";
  const browser = BROWSERS.find(([pattern]) => pattern.test(userAgent))?.[1];
  const system = SYSTEMS.find(([pattern]) => pattern.test(userAgent))?.[1];
  if (browser && system) return `${browser} on ${system}`;
  return browser ?? system ?? "Other device";
}
