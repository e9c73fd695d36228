// Administration > Clinic policy: the IP allowlist (one block per line, each refused line
// named by its number), the step-up window and the MFA requirement. An allowlist that does
// not contain the admin's own address is refused by the server (409) unless confirmed:
// the page explains what saving it would do and offers "Save anyway" (confirmLockout).

import { invalidFields, reworded } from "./admin-common.js";
import { ApiError, api } from "./api.js";
import { byId, clearErrorIn, formatDateTime, formError, showErrorIn, submitting } from "./dom.js";

const POLICY = "/api/v1/admin/policy";
/** The API's bounds (ip-allowlist.ts, update-tenant-policy.ts), checked early for a quick answer. */
const ALLOWLIST_MAX_ENTRIES = 100;
const STEP_UP_MIN = 1;
const STEP_UP_MAX = 60;
/**
 * Only the shape of an address or block: digits, hex letters, dots and colons with an
 * optional /prefix. The server parses each entry properly (ranges, host bits, IPv6 forms)
 * and names the line it refuses; this catches typing slips without a round trip.
 */
const CIDR_SHAPE = /^[0-9A-Fa-f:.]+(\/\d{1,3})?$/;

/** @type {any | null} the policy in force, as last read or saved */
let saved = null;
/** @type {Record<string, unknown> | null} the change the lockout warning is about */
let pendingLockout = null;
let generation = 0;

const form = () => /** @type {HTMLFormElement} */ (byId("policy-form"));
const allowlist = () => /** @type {HTMLTextAreaElement} */ (byId("policy-allowlist"));
const stepUp = () => /** @type {HTMLInputElement} */ (byId("policy-step-up"));
const mfa = () => /** @type {HTMLInputElement} */ (byId("policy-mfa"));
const ok = () => /** @type {HTMLElement} */ (form().querySelector("[data-ok]"));

export function setUpPolicy() {
  form().addEventListener("submit", (event) => {
    event.preventDefault();
    void save(false);
  });
  byId("policy-lockout-confirm").addEventListener("click", () => void save(true));
  byId("policy-lockout-cancel").addEventListener("click", () => {
    hideLockout();
    ok().textContent = "Nothing was saved. Add your own address to the list, or change it.";
    allowlist().focus();
  });
  byId("policy-discard").addEventListener("click", () => {
    if (saved) fill(saved);
    ok().textContent = "Changes discarded: the form shows the policy in force.";
  });
  // The warning is about the values it was given; once they change, it no longer applies.
  for (const field of [allowlist(), stepUp(), mfa()]) {
    field.addEventListener("input", () => {
      if (pendingLockout) hideLockout();
    });
  }
}

export async function showPolicyPanel() {
  const asked = generation;
  const error = formError(form());
  clearErrorIn(error);
  try {
    const { policy } = await api(POLICY);
    if (asked !== generation) return;
    fill(policy);
  } catch (caught) {
    if (asked === generation) showErrorIn(error, caught);
  }
}

/** The panel closed: an unconfirmed lockout warning does not survive it. */
export function forgetPolicyState() {
  hideLockout();
}

export function clearPolicyPanel() {
  generation++;
  hideLockout();
  saved = null;
  form().reset();
  clearLineErrors();
  clearErrorIn(formError(form()));
  ok().textContent = "";
  byId("policy-updated").textContent = "";
}

function fill(policy) {
  saved = policy;
  hideLockout();
  clearLineErrors();
  clearErrorIn(formError(form()));
  allowlist().value = policy.ipAllowlist.join("\n");
  stepUp().value = String(policy.stepUpWindowMinutes);
  mfa().checked = policy.mfaRequired;
  byId("policy-updated").textContent = policy.updatedAt
    ? `Last changed ${formatDateTime(policy.updatedAt)}.`
    : "Never changed: these are MedCHR's defaults.";
}

/**
 * The textarea's non-empty lines with their line numbers: the API's errors name entries
 * by position in the list sent ("ipAllowlist.2"), the page names them by line.
 */
function readAllowlist() {
  return allowlist()
    .value.split(/\r?\n/)
    .map((text, index) => ({ line: index + 1, text: text.trim() }))
    .filter((entry) => entry.text !== "");
}

async function save(confirmLockout) {
  const body = confirmLockout ? pendingLockout : readForm();
  if (!body) return;
  const entries = readAllowlist();
  ok().textContent = "";
  await submitting(
    form(),
    async () => {
      let result;
      try {
        result = await api(POLICY, {
          method: "PUT",
          body: confirmLockout ? { ...body, confirmLockout } : body,
        });
      } catch (caught) {
        if (caught instanceof ApiError && caught.status === 409 && !confirmLockout) {
          showLockout(caught, body);
          return;
        }
        throw explainPolicyError(caught, entries);
      }
      fill(result.policy);
      if (confirmLockout) {
        ok().textContent = "Policy saved. Requests from addresses not on the list are refused from now on.";
        // The warning and its buttons are gone: focus goes back to the list it was about.
        allowlist().focus();
      } else {
        ok().textContent = "Policy saved.";
      }
    },
    (caught) =>
      invalidFields(caught).some((f) => f.field === "stepUpWindowMinutes") ? stepUp() : allowlist(),
  );
}

/** Checks the form and returns the request body, or shows what to fix and returns null. */
function readForm() {
  hideLockout();
  clearLineErrors();
  const error = formError(form());
  clearErrorIn(error);
  const entries = readAllowlist();
  const bad = entries
    .filter((entry) => !CIDR_SHAPE.test(entry.text) || !/[.:]/.test(entry.text))
    .map((entry) => ({ ...entry, message: "not an IP address or CIDR block" }));
  if (bad.length > 0) {
    showLineErrors(bad);
    return null;
  }
  if (entries.length > ALLOWLIST_MAX_ENTRIES) {
    showErrorIn(
      error,
      `The IP allowlist can have at most ${ALLOWLIST_MAX_ENTRIES} lines; it has ${entries.length}.`,
    );
    markInvalid(allowlist());
    return null;
  }
  const minutes = Number(stepUp().value);
  if (stepUp().value === "" || !Number.isInteger(minutes) || minutes < STEP_UP_MIN || minutes > STEP_UP_MAX) {
    showErrorIn(
      error,
      `The step-up window must be a whole number of minutes from ${STEP_UP_MIN} to ${STEP_UP_MAX}.`,
    );
    markInvalid(stepUp());
    return null;
  }
  return {
    ipAllowlist: entries.map((entry) => entry.text),
    stepUpWindowMinutes: minutes,
    mfaRequired: mfa().checked,
  };
}

/** A 400 naming allowlist entries becomes per-line messages; anything else is shown as it is. */
function explainPolicyError(error, entries) {
  const fields = invalidFields(error);
  if (fields.length === 0) return error;
  const lines = [];
  const other = [];
  for (const { field, message } of fields) {
    const match = /^ipAllowlist\.(\d+)$/.exec(field);
    const entry = match ? entries[Number(match[1])] : undefined;
    if (entry) lines.push({ ...entry, message });
    else other.push(field === "stepUpWindowMinutes" ? `Step-up window: ${message}` : `${field}: ${message}`);
  }
  if (lines.length > 0) showLineErrors(lines, false);
  const summary = lines.length > 0 ? linesSummary(lines.length) : "";
  return reworded(error, [summary, ...other].filter(Boolean).join(" "));
}

function linesSummary(count) {
  return count === 1
    ? "1 line of the IP allowlist needs fixing (listed under it)."
    : `${count} lines of the IP allowlist need fixing (listed under it).`;
}

/**
 * @param {{ line: number, text: string, message: string }[]} lines
 * @param {boolean} [withSummary] false when the caller shows its own summary
 */
function showLineErrors(lines, withSummary = true) {
  const list = byId("policy-allowlist-errors");
  list.replaceChildren(
    ...lines.map(({ line, text, message }) => {
      const item = document.createElement("li");
      item.textContent = `Line ${line} (${text}): ${message}`;
      return item;
    }),
  );
  list.hidden = false;
  markInvalid(allowlist());
  if (withSummary) showErrorIn(formError(form()), linesSummary(lines.length));
}

function clearLineErrors() {
  const list = byId("policy-allowlist-errors");
  list.replaceChildren();
  list.hidden = true;
  allowlist().removeAttribute("aria-invalid");
  stepUp().removeAttribute("aria-invalid");
}

function markInvalid(field) {
  field.setAttribute("aria-invalid", "true");
  field.focus();
}

/**
 * The server's 409 names the address it sees the admin at; the page says what that means.
 * Reading the address from the message is a courtesy: without it the warning still holds.
 */
function showLockout(error, body) {
  pendingLockout = body;
  const address = /\(([0-9A-Fa-f:.]+)\)/.exec(error.message)?.[1];
  const message = address
    ? `MedCHR sees your requests coming from ${address}, and that address is not on the new list.`
    : "MedCHR cannot tell which address your requests come from, so any allowlist would refuse them.";
  byId("policy-lockout").hidden = false;
  byId("policy-lockout-message").textContent =
    `Not saved yet. ${message}${error.requestId ? ` Reference: ${error.requestId}` : ""}`;
  byId("policy-lockout-title").focus();
}

function hideLockout() {
  pendingLockout = null;
  byId("policy-lockout").hidden = true;
  byId("policy-lockout-message").textContent = "";
}
