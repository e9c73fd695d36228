// Administration > Users: the clinic's accounts, adding one (its generated password shown
// once), and per user a dialog to change the role, disable or enable the account, and end
// its sessions. The server guards the clinic's last active administrator (409); the page
// explains that refusal rather than guessing it in advance.

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
import { nameFor, ROLE_NAMES, USER_STATUS_NAMES } from "./labels.js";

const USERS = "/api/v1/admin/users";
/** The API's page maximum: one request lists a small clinic whole. */
const PAGE_SIZE = 100;

const CREATE_LABELS = {
  email: "E-mail address",
  displayName: "Full name",
  role: "Role",
  password: "Initial password",
};

/** @type {Map<string, any>} the users loaded so far, in the API's order (oldest first) */
const users = new Map();
/** @type {string | null} */
let nextCursor = null;
/** @type {string | null} */
let currentUserId = null;
/** @type {string | null} the user the dialog is about */
let dialogUserId = null;
/** Bumped whenever the panel is cleared, so an answer arriving late is dropped. */
let generation = 0;
/** @type {OneTimeSecret} */
let createdPassword;
/** @type {() => void} */
let ownAccountChanged = () => {};

/**
 * @param {{ ownAccountChanged: () => void }} hooks ownAccountChanged: the signed-in admin
 *   changed their own role or status, which ended their session
 */
export function setUpUsers(hooks) {
  ownAccountChanged = hooks.ownAccountChanged;
  byId("users-reload").addEventListener("click", () => void loadUsers());
  byId("users-more").addEventListener("click", () => void loadUsers({ more: true }));
  byId("users-body").addEventListener("click", (event) => {
    const button = event.target instanceof Element ? event.target.closest("button[data-user-id]") : null;
    if (button instanceof HTMLButtonElement) openUserDialog(button.dataset.userId ?? "");
  });
  createdPassword = new OneTimeSecret({
    box: byId("user-created"),
    secret: byId("user-created-password"),
    copy: byId("user-created-copy"),
    status: byId("user-created-copy-status"),
    done: byId("user-created-done"),
    heading: byId("user-created-title"),
    label: "password",
    onDone: () => byId("user-create-name").focus(),
  });
  setUpCreateForm();
  setUpUserDialog();
}

/** Who is signed in: their own row is marked, and changing it signs them out. */
export function setCurrentUser(userId) {
  currentUserId = userId;
}

/** The panel was opened: (re)load the list. */
export function showUsersPanel() {
  return loadUsers();
}

/** The panel closed: the one-time password and the dialog go. */
export function forgetUserSecrets() {
  createdPassword?.forget();
  byId("user-created-name").textContent = "";
  closeUserDialog();
}

/** Signed out: nothing of the clinic's accounts stays in the page. */
export function clearUsersPanel() {
  generation++;
  forgetUserSecrets();
  users.clear();
  nextCursor = null;
  currentUserId = null;
  byId("users-body").replaceChildren();
  byId("users-more").hidden = true;
  byId("users-status").textContent = "";
  clearErrorIn(byId("users-error"));
  const form = /** @type {HTMLFormElement} */ (byId("user-create-form"));
  resetForm(form);
  const ok = form.querySelector("[data-ok]");
  if (ok) ok.textContent = "";
}

// ---- list ---------------------------------------------------------------------------

async function loadUsers({ more = false } = {}) {
  const error = byId("users-error");
  clearErrorIn(error);
  const asked = generation;
  const query = new URLSearchParams({ limit: String(PAGE_SIZE) });
  if (more && nextCursor) query.set("cursor", nextCursor);
  try {
    const page = await api(`${USERS}?${query}`);
    if (asked !== generation) return;
    if (!more) users.clear();
    for (const user of page.users) users.set(user.id, user);
    nextCursor = page.nextCursor;
    renderUsers();
  } catch (caught) {
    if (asked === generation) showErrorIn(error, caught);
  }
}

function renderUsers() {
  const rows = [...users.values()].map((user) => {
    const row = document.createElement("tr");
    row.dataset.userRow = user.id;
    const name = cell(user.displayName);
    if (user.id === currentUserId) name.append(" ", badge("You"));
    const status = document.createElement("td");
    status.append(badge(nameFor(USER_STATUS_NAMES, user.status), user.status === "active" ? "ok" : "muted"));
    if (user.lockedUntil)
      status.append(" ", badge(`Locked until ${formatDateTime(user.lockedUntil)}`, "bad"));
    const action = document.createElement("td");
    const manage = document.createElement("button");
    manage.type = "button";
    manage.className = "secondary small";
    manage.dataset.userId = user.id;
    manage.textContent = "Manage";
    manage.setAttribute("aria-label", `Manage ${user.displayName}`);
    action.append(manage);
    row.append(
      name,
      cell(user.email),
      cell(nameFor(ROLE_NAMES, user.role)),
      status,
      cell(user.mfaEnrolled ? "Set up" : "Not yet"),
      cell(formatDateTime(user.createdAt)),
      action,
    );
    return row;
  });
  byId("users-body").replaceChildren(...rows);
  byId("users-more").hidden = nextCursor === null;
}

// ---- add a user ---------------------------------------------------------------------

function setUpCreateForm() {
  const form = /** @type {HTMLFormElement} */ (byId("user-create-form"));
  const name = /** @type {HTMLInputElement} */ (byId("user-create-name"));
  const email = /** @type {HTMLInputElement} */ (byId("user-create-email"));
  const role = /** @type {HTMLSelectElement} */ (byId("user-create-role"));
  const password = /** @type {HTMLInputElement} */ (byId("user-create-password"));
  const ok = /** @type {HTMLElement} */ (form.querySelector("[data-ok]"));
  const fieldFor = { displayName: name, email, role, password };
  clearInvalidOnInput(form);

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    ok.textContent = "";
    const problem = !name.value.trim()
      ? [name, "Enter the person's full name."]
      : !email.value.trim() || email.validity.typeMismatch
        ? [email, "Enter the e-mail address they will sign in with."]
        : password.value !== "" && password.value.length < 12
          ? [password, "A chosen password needs at least 12 characters, or leave it empty to generate one."]
          : null;
    if (problem) {
      const [field, message] = /** @type {[HTMLElement, string]} */ (problem);
      showErrorIn(formError(form), message);
      field.setAttribute("aria-invalid", "true");
      field.focus();
      return;
    }
    createdPassword.forget();
    void submitting(
      form,
      async () => {
        /** @type {Record<string, string>} */
        const body = { displayName: name.value.trim(), email: email.value.trim(), role: role.value };
        if (password.value !== "") body.password = password.value;
        let created;
        try {
          created = await api(USERS, { method: "POST", body });
        } catch (caught) {
          throw caught instanceof ApiError && caught.status === 409
            ? reworded(
                caught,
                "An account with this e-mail address already exists, in this clinic or another.",
              )
            : explainInvalid(caught, CREATE_LABELS);
        }
        form.reset();
        users.set(created.user.id, created.user);
        renderUsers();
        const who = created.user.displayName;
        if (created.generatedPassword) {
          byId("user-created-name").textContent = who;
          createdPassword.reveal(created.generatedPassword);
          announce(`Added ${who}. Their initial password is shown once.`);
        } else {
          ok.textContent = `Added ${who}. They sign in with the password you chose.`;
          name.focus();
        }
      },
      (caught) => {
        if (caught instanceof ApiError && caught.status === 409) return email;
        const field = /** @type {keyof typeof fieldFor} */ (invalidFields(caught)[0]?.field ?? "");
        return fieldFor[field] ?? name;
      },
    );
  });
}

// ---- one user -----------------------------------------------------------------------

function setUpUserDialog() {
  const dialog = /** @type {HTMLDialogElement} */ (byId("user-dialog"));
  const roleForm = /** @type {HTMLFormElement} */ (byId("user-role-form"));
  const role = /** @type {HTMLSelectElement} */ (byId("user-role"));
  byId("user-dialog-close").addEventListener("click", () => closeUserDialog());
  // Escape closes the native dialog; both ways end in "close".
  dialog.addEventListener("close", () => {
    const id = dialogUserId;
    dialogUserId = null;
    resetDialogMessages();
    // Back to the row's button (re-rendered since the dialog opened: found again by id).
    const button = id ? byId("users-body").querySelector(`button[data-user-id="${CSS.escape(id)}"]`) : null;
    if (button instanceof HTMLElement) button.focus();
  });

  roleForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const user = dialogUserId ? users.get(dialogUserId) : null;
    if (!user) return;
    if (role.value === user.role) {
      showErrorIn(formError(roleForm), `${user.displayName} already has this role.`);
      role.focus();
      return;
    }
    resetDialogMessages();
    void submitting(
      roleForm,
      async () => {
        const result = await changeUser(user, { role: role.value });
        const ended = sessionsText(result.sessionsRevoked);
        byId("user-dialog-status").textContent =
          `${user.displayName} is now: ${nameFor(ROLE_NAMES, result.user.role)}.${ended}`;
      },
      role,
    );
  });

  byId("user-toggle-status").addEventListener("click", () => void toggleStatus());
  byId("user-revoke-sessions").addEventListener("click", () => void revokeSessions());
}

function openUserDialog(userId) {
  const user = users.get(userId);
  if (!user) return;
  const dialog = /** @type {HTMLDialogElement} */ (byId("user-dialog"));
  dialogUserId = userId;
  resetDialogMessages();
  fillUserDialog(user);
  /** @type {HTMLSelectElement} */ (byId("user-role")).value = user.role;
  dialog.showModal();
  byId("user-dialog-title").focus();
}

function closeUserDialog() {
  const dialog = /** @type {HTMLDialogElement} */ (byId("user-dialog"));
  if (dialog.open) dialog.close();
}

/** Clears what the dialog said; the chosen role stays (form.reset() would pick the first option). */
function resetDialogMessages() {
  const roleForm = /** @type {HTMLFormElement} */ (byId("user-role-form"));
  clearErrorIn(formError(roleForm));
  for (const field of roleForm.querySelectorAll("[aria-invalid]")) field.removeAttribute("aria-invalid");
  clearErrorIn(byId("user-dialog-error"));
  byId("user-dialog-status").textContent = "";
}

function fillUserDialog(user) {
  const self = user.id === currentUserId;
  byId("user-dialog-title").textContent = user.displayName;
  const fields = {
    email: user.email,
    role: nameFor(ROLE_NAMES, user.role),
    status: nameFor(USER_STATUS_NAMES, user.status),
    mfa: user.mfaEnrolled ? "Set up" : "Not set up yet",
  };
  for (const [name, text] of Object.entries(fields)) {
    const dd = byId("user-dialog").querySelector(`[data-user-field="${name}"]`);
    if (dd) dd.textContent = text;
  }
  byId("user-dialog-self").hidden = !self;
  const toggle = byId("user-toggle-status");
  const active = user.status === "active";
  toggle.textContent = active ? "Disable account" : "Enable account";
  toggle.className = active ? "danger" : "secondary";
  byId("user-account-hint").textContent = active
    ? "Disabling stops them signing in and ends all their sessions at once. You can enable the account again later."
    : "Enabling lets them sign in again with their password and two-factor setup.";
  // A disabled account has no sessions left to end.
  byId("user-revoke-sessions").hidden = !active;
}

/**
 * PATCH one user; on success the list and the dialog show the new state. The last-admin
 * guard (409) is explained in words an administrator can act on.
 */
async function changeUser(user, changes) {
  let result;
  try {
    result = await api(`${USERS}/${encodeURIComponent(user.id)}`, { method: "PATCH", body: changes });
  } catch (caught) {
    if (caught instanceof ApiError && caught.status === 409) {
      throw reworded(
        caught,
        `Not changed: ${user.displayName} is the clinic's last active administrator, and a clinic always needs one. Make another user an administrator first.`,
      );
    }
    if (caught instanceof ApiError && caught.status === 404) {
      void loadUsers();
      throw reworded(caught, "This user no longer exists in your clinic. The list has been reloaded.");
    }
    throw caught;
  }
  users.set(result.user.id, result.user);
  renderUsers();
  if (dialogUserId === result.user.id) fillUserDialog(result.user);
  if (result.user.id === currentUserId && result.sessionsRevoked > 0) ownAccountChanged();
  return result;
}

async function toggleStatus() {
  const user = dialogUserId ? users.get(dialogUserId) : null;
  if (!user) return;
  const button = /** @type {HTMLButtonElement} */ (byId("user-toggle-status"));
  const error = byId("user-dialog-error");
  resetDialogMessages();
  button.disabled = true;
  try {
    const disabling = user.status === "active";
    const result = await changeUser(user, { status: disabling ? "disabled" : "active" });
    byId("user-dialog-status").textContent = disabling
      ? `${user.displayName}'s account is disabled.${sessionsText(result.sessionsRevoked)}`
      : `${user.displayName}'s account is active again.`;
  } catch (caught) {
    showErrorIn(error, caught);
  } finally {
    button.disabled = false;
    // Disabling the button dropped focus to the page; keep it in the dialog.
    if (/** @type {HTMLDialogElement} */ (byId("user-dialog")).open) button.focus();
  }
}

async function revokeSessions() {
  const user = dialogUserId ? users.get(dialogUserId) : null;
  if (!user) return;
  const button = /** @type {HTMLButtonElement} */ (byId("user-revoke-sessions"));
  resetDialogMessages();
  button.disabled = true;
  try {
    const result = await api(`${USERS}/${encodeURIComponent(user.id)}/sessions/revoke`, {
      method: "POST",
      body: {},
    });
    byId("user-dialog-status").textContent =
      result.sessionsRevoked === 0
        ? `${user.displayName} had no open sessions.`
        : `Signed ${user.displayName} out everywhere.${sessionsText(result.sessionsRevoked)}`;
    if (user.id === currentUserId && result.sessionsRevoked > 0) ownAccountChanged();
  } catch (caught) {
    showErrorIn(byId("user-dialog-error"), caught);
  } finally {
    button.disabled = false;
    if (/** @type {HTMLDialogElement} */ (byId("user-dialog")).open && !button.hidden) button.focus();
  }
}

function sessionsText(count) {
  if (!count) return "";
  return count === 1 ? " 1 session was ended." : ` ${count} sessions were ended.`;
}
