// The signed-in shell: who and where I am, my sessions, password and recovery codes; the
// switch to the patients area (patients.js) for those who work with patients, and to the
// administration area (admin.js) for administrators.
import { clearAdmin, enableAdmin, setUpAdmin } from "./admin.js";
import { ApiError, api } from "./api.js";
import {
  announce,
  byId,
  clearErrorIn,
  describeUserAgent,
  formatDateTime,
  formError,
  resetForm,
  showErrorIn,
  showView,
  submitting,
} from "./dom.js";
import { nameFor, ROLE_NAMES } from "./labels.js";
import { showRecoveryCodes } from "./mfa.js";
import { clearPatients, enablePatients, setUpPatients } from "./patients.js";

const METHOD_NAMES = { password: "Password", sso: "Single sign-on" };

/** @type {ReturnType<typeof setTimeout> | undefined} */
let expiryTimer;

/**
 * @param {{ refresh: () => Promise<void>, checkSession: () => Promise<void> }} app
 */
export function setUpShell(app) {
  byId("sessions-refresh").addEventListener("click", () => void loadSessions());
  byId("sessions-revoke-others").addEventListener("click", () => void revokeOthers());
  byId("sessions-body").addEventListener("click", (event) => {
    const button = event.target instanceof Element ? event.target.closest("button[data-session-id]") : null;
    if (button instanceof HTMLButtonElement) void endSession(button);
  });
  setUpPasswordForm();
  setUpRecoveryCodesForm(app);
  setUpAdmin(app);
  setUpPatients();
}

/** Fills the shell from GET /auth/session and shows it. */
export function showShell(info, app) {
  fill("displayName", info.user.displayName);
  fill("email", info.user.email);
  fill("tenant", info.tenant.name);
  fill("role", nameFor(ROLE_NAMES, info.user.role));
  fill(
    "mfa",
    info.mfa.enrolled
      ? `On (authenticator app)${info.mfa.verifiedAt ? `, last verified ${formatDateTime(info.mfa.verifiedAt)}` : ""}`
      : "Off",
  );
  const idleMinutes = Math.round(info.session.idleTimeoutSeconds / 60);
  fill(
    "session",
    `${METHOD_NAMES[info.session.method] ?? info.session.method}; ends at ${formatDateTime(info.session.expiresAt)}, or after ${idleMinutes} minutes without activity`,
  );
  byId("shell-title").textContent = `Welcome, ${info.user.displayName}`;
  byId("account-bar-user").textContent = `${info.user.displayName} - ${info.tenant.name}`;
  byId("account-bar").hidden = false;
  enableAdmin(info);
  // A patient route in the address (a reload, a link followed before signing in) opens there.
  const routed = enablePatients(info);
  // The header switch appears once there is more than "My account" to switch to.
  byId("app-nav").hidden = byId("nav-patients").hidden && byId("nav-admin").hidden;
  if (!routed) showView("view-shell");
  scheduleExpiryCheck(info.session.expiresAt, app);
  void loadSessions();
}

/** Wipes every personal detail from the page (sign-out, session end). */
export function clearShell() {
  clearTimeout(expiryTimer);
  for (const field of document.querySelectorAll("#view-shell [data-field]")) field.textContent = "";
  byId("shell-title").textContent = "Signed in";
  byId("account-bar-user").textContent = "";
  byId("account-bar").hidden = true;
  clearAdmin();
  clearPatients();
  byId("sessions-body").replaceChildren();
  byId("sessions-status").textContent = "";
  clearErrorIn(byId("sessions-error"));
  resetForm(/** @type {HTMLFormElement} */ (byId("password-form")));
  resetForm(/** @type {HTMLFormElement} */ (byId("codes-form")));
  const ok = byId("password-form").querySelector("[data-ok]");
  if (ok) ok.textContent = "";
}

function fill(name, text) {
  const field = byId("view-shell").querySelector(`[data-field="${name}"]`);
  if (field) field.textContent = text;
}

/** At the absolute limit the server has ended the session: ask it, which leads to sign-in. */
function scheduleExpiryCheck(expiresAt, app) {
  clearTimeout(expiryTimer);
  const wait = new Date(expiresAt).getTime() - Date.now() + 1000;
  // setTimeout's limit is ~24.8 days; sessions end long before.
  if (Number.isFinite(wait) && wait < 2 ** 31 - 1) {
    expiryTimer = setTimeout(() => void app.checkSession(), Math.max(wait, 0));
  }
}

// ---- sessions -----------------------------------------------------------------------

async function loadSessions() {
  const error = byId("sessions-error");
  clearErrorIn(error);
  try {
    const { sessions } = await api("/auth/sessions");
    renderSessions(sessions);
  } catch (caught) {
    showErrorIn(error, caught);
  }
}

function renderSessions(sessions) {
  const rows = sessions.map((session) => {
    const row = document.createElement("tr");
    const device = document.createElement("td");
    device.textContent = describeUserAgent(session.userAgent);
    if (session.current) {
      const badge = document.createElement("span");
      badge.className = "badge";
      badge.textContent = "This browser";
      device.append(" ", badge);
    }
    row.append(
      device,
      cell(METHOD_NAMES[session.method] ?? session.method),
      cell(formatDateTime(session.createdAt)),
      cell(formatDateTime(session.lastSeenAt)),
      cell(formatDateTime(session.expiresAt)),
    );
    const action = document.createElement("td");
    if (!session.current) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "secondary small";
      button.dataset.sessionId = session.id;
      button.textContent = "End";
      button.setAttribute(
        "aria-label",
        `End session: ${describeUserAgent(session.userAgent)}, signed in ${formatDateTime(session.createdAt)}`,
      );
      action.append(button);
    }
    row.append(action);
    return row;
  });
  byId("sessions-body").replaceChildren(...rows);
  const others = sessions.filter((s) => !s.current).length;
  /** @type {HTMLButtonElement} */ (byId("sessions-revoke-others")).disabled = others === 0;
}

function cell(text) {
  const td = document.createElement("td");
  td.textContent = text;
  return td;
}

async function endSession(button) {
  const error = byId("sessions-error");
  clearErrorIn(error);
  button.disabled = true;
  try {
    await api(`/auth/sessions/${encodeURIComponent(button.dataset.sessionId ?? "")}`, { method: "DELETE" });
    byId("sessions-status").textContent = "Session ended.";
    await loadSessions();
    byId("sessions-refresh").focus();
  } catch (caught) {
    button.disabled = false;
    showErrorIn(error, caught);
  }
}

async function revokeOthers() {
  const error = byId("sessions-error");
  const button = /** @type {HTMLButtonElement} */ (byId("sessions-revoke-others"));
  clearErrorIn(error);
  button.disabled = true;
  try {
    const { revoked } = await api("/auth/sessions/revoke-others", { method: "POST" });
    byId("sessions-status").textContent =
      revoked === 1 ? "Ended 1 other session." : `Ended ${revoked} other sessions.`;
    await loadSessions();
  } catch (caught) {
    button.disabled = false;
    showErrorIn(error, caught);
  }
}

// ---- password -----------------------------------------------------------------------

function setUpPasswordForm() {
  const form = /** @type {HTMLFormElement} */ (byId("password-form"));
  const current = /** @type {HTMLInputElement} */ (byId("password-current"));
  const next = /** @type {HTMLInputElement} */ (byId("password-new"));
  const repeat = /** @type {HTMLInputElement} */ (byId("password-confirm"));
  const ok = /** @type {HTMLElement} */ (form.querySelector("[data-ok]"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    ok.textContent = "";
    const problem = !current.value
      ? [current, "Enter your current password."]
      : next.value.length < 12
        ? [next, "The new password needs at least 12 characters."]
        : next.value !== repeat.value
          ? [repeat, "The new passwords do not match."]
          : null;
    if (problem) {
      showErrorIn(formError(form), problem[1]);
      problem[0].focus();
      return;
    }
    void submitting(
      form,
      async () => {
        const result = await api("/auth/password/change", {
          method: "POST",
          body: { currentPassword: current.value, newPassword: next.value },
          expectUnauthorized: true,
        });
        form.reset();
        const ended = result.sessionsRevoked ?? 0;
        ok.textContent = `Password changed.${ended > 0 ? ` ${ended === 1 ? "1 other session was" : `${ended} other sessions were`} ended.` : ""}`;
        await loadSessions();
      },
      // 400: the new password broke the policy; anything else: the current one was wrong.
      (error) => (error instanceof ApiError && error.status === 400 ? next : current),
    );
  });
}

// ---- recovery codes -----------------------------------------------------------------

function setUpRecoveryCodesForm(app) {
  const form = /** @type {HTMLFormElement} */ (byId("codes-form"));
  const input = /** @type {HTMLInputElement} */ (byId("codes-code"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const code = input.value.replace(/\s+/g, "");
    if (!/^\d{6}$/.test(code)) {
      showErrorIn(formError(form), "Enter the 6 digits your app shows.");
      input.focus();
      return;
    }
    void submitting(
      form,
      async () => {
        const result = await api("/auth/mfa/recovery-codes", {
          method: "POST",
          body: { code },
          expectUnauthorized: true,
        });
        form.reset();
        showRecoveryCodes(result.recoveryCodes, "replaced", () => {
          announce("Your old recovery codes no longer work.");
          void app.refresh();
        });
      },
      input,
    );
  });
}
