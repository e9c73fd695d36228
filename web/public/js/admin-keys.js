// Administration > API keys: the clinic's keys (never their secrets: the API has none to
// give), issuing one (its mk_... token shown once, with a warning and a copy button), and
// revoking one after a confirmation.

import {
  badge,
  cell,
  clearInvalidOnInput,
  explainInvalid,
  invalidFields,
  OneTimeSecret,
  reworded,
} from "./admin-common.js";
import { ApiError, api } from "./api.js";
import { confirmAction, dismissConfirm } from "./confirm.js";
import {
  announce,
  byId,
  clearErrorIn,
  formatDateTime,
  formError,
  resetForm,
  showErrorIn,
  submitting,
} from "./dom.js";
import { KEY_STATUS_NAMES, nameFor, SCOPE_NAMES } from "./labels.js";

const KEYS = "/api/v1/admin/api-keys";
const PAGE_SIZE = 100;
/** The API's bounds (create-api-key.ts): checked here only to answer without a round trip. */
const RATE_MIN = 1;
const RATE_MAX = 10_000;

const CREATE_LABELS = {
  name: "Key name",
  scopes: "Scopes",
  rateLimitPerMinute: "Requests per minute",
  expiresAt: "Expires on",
};

/** @type {Map<string, any>} */
const keys = new Map();
/** @type {string | null} */
let nextCursor = null;
let generation = 0;
/** @type {OneTimeSecret} */
let createdToken;

export function setUpKeys() {
  byId("keys-reload").addEventListener("click", () => void loadKeys());
  byId("keys-more").addEventListener("click", () => void loadKeys({ more: true }));
  byId("keys-body").addEventListener("click", (event) => {
    const button = event.target instanceof Element ? event.target.closest("button[data-key-id]") : null;
    if (button instanceof HTMLButtonElement) void revoke(button);
  });
  createdToken = new OneTimeSecret({
    box: byId("key-created"),
    secret: byId("key-created-token"),
    copy: byId("key-created-copy"),
    status: byId("key-created-copy-status"),
    done: byId("key-created-done"),
    heading: byId("key-created-title"),
    label: "token",
    onDone: () => byId("key-create-name").focus(),
  });
  setUpCreateForm();
}

export function showKeysPanel() {
  return loadKeys();
}

/** The panel closed: the token leaves the page, an open confirmation is cancelled. */
export function forgetKeySecrets() {
  createdToken?.forget();
  byId("key-created-name").textContent = "";
  dismissConfirm();
}

export function clearKeysPanel() {
  generation++;
  forgetKeySecrets();
  keys.clear();
  nextCursor = null;
  byId("keys-body").replaceChildren();
  byId("keys-more").hidden = true;
  byId("keys-status").textContent = "";
  clearErrorIn(byId("keys-error"));
  resetForm(/** @type {HTMLFormElement} */ (byId("key-create-form")));
}

// ---- list ---------------------------------------------------------------------------

async function loadKeys({ more = false } = {}) {
  const error = byId("keys-error");
  clearErrorIn(error);
  const asked = generation;
  const query = new URLSearchParams({ limit: String(PAGE_SIZE) });
  if (more && nextCursor) query.set("cursor", nextCursor);
  try {
    const page = await api(`${KEYS}?${query}`);
    if (asked !== generation) return;
    if (!more) keys.clear();
    for (const key of page.apiKeys) keys.set(key.id, key);
    nextCursor = page.nextCursor;
    renderKeys();
  } catch (caught) {
    if (asked === generation) showErrorIn(error, caught);
  }
}

function renderKeys() {
  const rows = [...keys.values()].map((key) => {
    const row = document.createElement("tr");
    row.dataset.keyRow = key.id;
    const keyId = document.createElement("td");
    const code = document.createElement("code");
    code.textContent = key.keyId;
    keyId.append(code);
    const status = document.createElement("td");
    status.append(badge(nameFor(KEY_STATUS_NAMES, key.status), key.status === "active" ? "ok" : "muted"));
    const action = document.createElement("td");
    if (key.status === "active") {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "danger small";
      button.dataset.keyId = key.id;
      button.textContent = "Revoke";
      button.setAttribute("aria-label", `Revoke API key ${key.name}`);
      action.append(button);
    }
    row.append(
      cell(key.name),
      keyId,
      cell(key.scopes.map((scope) => nameFor(SCOPE_NAMES, scope)).join(", ")),
      cell(`${key.rateLimitPerMinute} / min`),
      cell(formatDateTime(key.createdAt)),
      cell(key.lastUsedAt ? formatDateTime(key.lastUsedAt) : "Never"),
      cell(key.expiresAt ? formatDateTime(key.expiresAt) : "Never"),
      status,
      action,
    );
    return row;
  });
  byId("keys-body").replaceChildren(...rows);
  byId("keys-more").hidden = nextCursor === null;
}

// ---- issue a key --------------------------------------------------------------------

/** "2027-03-31" -> the end of that day where the admin is, as ISO 8601 (null: no expiry). */
function endOfDay(dateText) {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(dateText)) return null;
  const [year, month, day] = dateText.split("-").map(Number);
  const end = new Date(year, month - 1, day, 23, 59, 59);
  return Number.isNaN(end.getTime()) ? null : end.toISOString();
}

function setUpCreateForm() {
  const form = /** @type {HTMLFormElement} */ (byId("key-create-form"));
  const name = /** @type {HTMLInputElement} */ (byId("key-create-name"));
  const rate = /** @type {HTMLInputElement} */ (byId("key-create-rate"));
  const expires = /** @type {HTMLInputElement} */ (byId("key-create-expires"));
  const scopeBoxes = /** @type {HTMLInputElement[]} */ ([...form.querySelectorAll('input[name="scopes"]')]);
  const fieldFor = { name, scopes: scopeBoxes[0], rateLimitPerMinute: rate, expiresAt: expires };
  clearInvalidOnInput(form);

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const scopes = scopeBoxes.filter((box) => box.checked).map((box) => box.value);
    const limit = Number(rate.value);
    const expiresAt = expires.value === "" ? null : endOfDay(expires.value);
    const problem = !name.value.trim()
      ? [name, "Name the key after the system that will use it."]
      : scopes.length === 0
        ? [scopeBoxes[0], "Choose at least one scope."]
        : !Number.isInteger(limit) || limit < RATE_MIN || limit > RATE_MAX
          ? [rate, `Requests per minute must be a whole number from ${RATE_MIN} to ${RATE_MAX}.`]
          : expires.value !== "" && (expiresAt === null || Date.parse(expiresAt) <= Date.now())
            ? [expires, "The expiry date must be today or later."]
            : null;
    if (problem) {
      const [field, message] = /** @type {[HTMLElement, string]} */ (problem);
      showErrorIn(formError(form), message);
      field.setAttribute("aria-invalid", "true");
      field.focus();
      return;
    }
    createdToken.forget();
    void submitting(
      form,
      async () => {
        /** @type {Record<string, unknown>} */
        const body = { name: name.value.trim(), scopes, rateLimitPerMinute: limit };
        if (expiresAt) body.expiresAt = expiresAt;
        let created;
        try {
          created = await api(KEYS, { method: "POST", body });
        } catch (caught) {
          throw explainInvalid(caught, CREATE_LABELS);
        }
        form.reset();
        keys.set(created.apiKey.id, created.apiKey);
        renderKeys();
        byId("key-created-name").textContent = `the system that uses "${created.apiKey.name}"`;
        createdToken.reveal(created.token);
        announce(`Created the API key ${created.apiKey.name}. Copy its token now: it is shown only once.`);
      },
      (caught) => {
        // "scopes.0" names the list's element; the form has one control for the list.
        const key = (invalidFields(caught)[0]?.field ?? "").split(".")[0];
        return fieldFor[/** @type {keyof typeof fieldFor} */ (key)] ?? name;
      },
    );
  });
}

// ---- revoke -------------------------------------------------------------------------

async function revoke(button) {
  const key = keys.get(button.dataset.keyId ?? "");
  if (!key) return;
  const error = byId("keys-error");
  const status = byId("keys-status");
  clearErrorIn(error);
  status.textContent = "";
  const confirmed = await confirmAction({
    title: `Revoke the API key "${key.name}"?`,
    message:
      "Every request made with its token is refused from now on. This cannot be undone: the system using it will need a new key.",
    confirmLabel: "Revoke key",
  });
  if (!confirmed) return;
  button.disabled = true;
  try {
    const result = await api(`${KEYS}/${encodeURIComponent(key.id)}`, { method: "DELETE" });
    keys.set(result.apiKey.id, result.apiKey);
    renderKeys();
    status.textContent = `Revoked "${key.name}". Requests with its token are refused.`;
  } catch (caught) {
    button.disabled = false;
    if (caught instanceof ApiError && caught.status === 404) {
      showErrorIn(
        error,
        reworded(caught, "This key no longer exists in your clinic. The list has been reloaded."),
      );
      void loadKeys();
    } else {
      showErrorIn(error, caught);
    }
    return;
  }
  // The row's button is gone with the revocation: keep focus in the panel.
  byId("keys-title").focus();
}
