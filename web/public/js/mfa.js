// Second factor screens: TOTP enrolment (secret, confirm, recovery codes shown once) and
// the code asked at sign-in. The setup token and secret live in this module's memory
// only, for the few minutes enrolment takes, and are dropped as soon as it ends.
import { api } from "./api.js";
import {
  announce,
  byId,
  copyText,
  formatTime,
  formError,
  groupKey,
  resetForm,
  setTime,
  showErrorIn,
  showView,
  submitting,
} from "./dom.js";
import { drawQrCode } from "./qr.js";

/** @type {{ setupToken: string } | null} */
let setup = null;
/** @type {string[]} */
let shownCodes = [];
/** @type {() => void} */
let afterCodesSaved = () => {};

const SIX_DIGITS = /^\d{6}$/;

/**
 * @param {{ enrolled: () => Promise<void>, verified: () => Promise<void> }} flow
 */
export function setUpMfaScreens(flow) {
  setUpEnrolment(flow);
  setUpRecoveryCodes();
  setUpVerify(flow);
  for (const button of document.querySelectorAll("[data-copy]")) {
    button.addEventListener("click", () => {
      const source = byId(button.getAttribute("data-copy") ?? "");
      const status = button.closest(".view")?.querySelector("[data-copy-status]");
      // The key is shown in groups of 4 for reading; apps want it without spaces.
      const text = (source.textContent ?? "").replace(/\s+/g, "");
      if (status instanceof HTMLElement)
        void copyText(text, status, button.getAttribute("data-copy-label") ?? "text");
    });
  }
}

// ---- enrolment ----------------------------------------------------------------------

function setUpEnrolment(flow) {
  const passwordForm = /** @type {HTMLFormElement} */ (byId("enrol-password-form"));
  const password = /** @type {HTMLInputElement} */ (byId("enrol-password"));
  passwordForm.addEventListener("submit", (event) => {
    event.preventDefault();
    // SSO users may have no password: theirs is optional, and an empty one is not sent.
    const passwordOptional = passwordForm.dataset.method === "sso";
    if (!passwordOptional && !password.value) {
      showErrorIn(formError(passwordForm), "Enter your password.");
      password.focus();
      return;
    }
    void submitting(
      passwordForm,
      async () => {
        await startSetup(password.value ? { password: password.value } : {});
        password.value = "";
      },
      password,
    );
  });

  const confirmForm = /** @type {HTMLFormElement} */ (byId("enrol-confirm-form"));
  const code = /** @type {HTMLInputElement} */ (byId("enrol-code"));
  confirmForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const typed = code.value.replace(/\s+/g, "");
    if (!SIX_DIGITS.test(typed)) {
      showErrorIn(formError(confirmForm), "Enter the 6 digits your app shows.");
      code.focus();
      return;
    }
    if (!setup) {
      showErrorIn(formError(confirmForm), "The setup has expired. Sign out and start again.");
      return;
    }
    void submitting(
      confirmForm,
      async () => {
        const result = await api("/auth/mfa/setup/confirm", {
          method: "POST",
          body: { setupToken: setup?.setupToken, code: typed },
          expectUnauthorized: true,
        });
        forgetSetup();
        showRecoveryCodes(result.recoveryCodes, "enrolled", () => void flow.enrolled());
      },
      code,
    );
  });
}

/**
 * The enrolment screen. Right after a password sign-in the password just typed starts
 * the setup (the server asks for it again, ASVS 7.5.1, and the user has just proven it);
 * after a reload it is asked for again. SSO users without a password send nothing.
 * @param {{ password?: string, method?: string }} options
 */
export async function showEnrolment(options = {}) {
  forgetSetup();
  const passwordForm = /** @type {HTMLFormElement} */ (byId("enrol-password-form"));
  resetForm(passwordForm);
  resetForm(/** @type {HTMLFormElement} */ (byId("enrol-confirm-form")));
  passwordForm.dataset.method = options.method ?? "password";
  byId("enrol-password-label").textContent =
    options.method === "sso"
      ? "Your MedCHR password, if you have one (single sign-on users without one leave this empty)"
      : "Confirm your password to start";
  byId("enrol-steps").hidden = true;
  passwordForm.hidden = true;
  showView("view-mfa-enrol");
  if (options.password !== undefined) {
    try {
      await startSetup({ password: options.password });
      return;
    } catch (error) {
      passwordForm.hidden = false;
      showErrorIn(formError(passwordForm), error);
      return;
    }
  }
  passwordForm.hidden = false;
  byId("enrol-password").focus();
}

async function startSetup(body) {
  const started = await api("/auth/mfa/setup", { method: "POST", body, expectUnauthorized: true });
  setup = { setupToken: started.setupToken };
  byId("enrol-secret").textContent = groupKey(started.secret);
  byId("enrol-uri").textContent = started.otpauthUri;
  setTime(byId("enrol-expires"), started.expiresAt, formatTime);
  const canvas = /** @type {HTMLCanvasElement} */ (byId("enrol-qr"));
  byId("enrol-qr-box").hidden = !drawQrCode(canvas, started.otpauthUri);
  byId("enrol-password-form").hidden = true;
  byId("enrol-steps").hidden = false;
  byId("enrol-code").focus();
  announce("Add MedCHR to your authenticator app, then enter the code it shows.");
}

/** Drops the setup token and wipes the secret from the page. */
export function forgetSetup() {
  setup = null;
  byId("enrol-secret").textContent = "";
  byId("enrol-uri").textContent = "";
  const canvas = /** @type {HTMLCanvasElement} */ (byId("enrol-qr"));
  canvas.getContext("2d")?.clearRect(0, 0, canvas.width, canvas.height);
  byId("enrol-qr-box").hidden = true;
  byId("enrol-steps").hidden = true;
  for (const status of document.querySelectorAll("[data-copy-status]")) status.textContent = "";
}

// ---- recovery codes -----------------------------------------------------------------

function setUpRecoveryCodes() {
  const status = /** @type {HTMLElement} */ (byId("view-recovery").querySelector("[data-copy-status]"));
  byId("recovery-copy").addEventListener("click", () => {
    void copyText(shownCodes.join("\n"), status, "recovery codes");
  });
  byId("recovery-download").addEventListener("click", () => {
    const text = [
      "MedCHR recovery codes",
      `Saved ${new Date().toISOString()}. Each code signs you in once if you lose your authenticator app.`,
      "",
      ...shownCodes,
      "",
    ].join("\n");
    const url = URL.createObjectURL(new Blob([text], { type: "text/plain" }));
    const link = document.createElement("a");
    link.href = url;
    link.download = "medchr-recovery-codes.txt";
    link.hidden = true;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 0);
    status.textContent = "Downloaded medchr-recovery-codes.txt.";
  });
  const form = /** @type {HTMLFormElement} */ (byId("recovery-ack-form"));
  const ack = /** @type {HTMLInputElement} */ (byId("recovery-ack"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!ack.checked) {
      showErrorIn(formError(form), "Save the codes first, then tick the box.");
      ack.focus();
      return;
    }
    forgetRecoveryCodes();
    afterCodesSaved();
  });
}

/**
 * @param {string[]} codes
 * @param {"enrolled" | "replaced"} why
 * @param {() => void} next
 */
export function showRecoveryCodes(codes, why, next) {
  shownCodes = [...codes];
  afterCodesSaved = next;
  const list = byId("recovery-list");
  list.replaceChildren(
    ...shownCodes.map((code) => {
      const item = document.createElement("li");
      const text = document.createElement("code");
      text.textContent = code;
      item.append(text);
      return item;
    }),
  );
  byId("recovery-title").textContent =
    why === "enrolled" ? "Save your recovery codes" : "Save your new recovery codes";
  resetForm(/** @type {HTMLFormElement} */ (byId("recovery-ack-form")));
  const status = byId("view-recovery").querySelector("[data-copy-status]");
  if (status) status.textContent = "";
  showView("view-recovery");
}

/** Codes leave the page once the user says they are saved (or the session ends). */
export function forgetRecoveryCodes() {
  shownCodes = [];
  byId("recovery-list").replaceChildren();
}

// ---- verification at sign-in --------------------------------------------------------

let useRecoveryCode = false;

function setUpVerify(flow) {
  const form = /** @type {HTMLFormElement} */ (byId("verify-form"));
  const input = /** @type {HTMLInputElement} */ (byId("verify-code"));
  byId("verify-toggle").addEventListener("click", () => {
    setVerifyMode(!useRecoveryCode);
    input.focus();
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const typed = input.value.trim();
    if (
      useRecoveryCode ? typed.replace(/[\s-]/g, "").length < 8 : !SIX_DIGITS.test(typed.replace(/\s+/g, ""))
    ) {
      showErrorIn(
        formError(form),
        useRecoveryCode ? "Enter one of your recovery codes." : "Enter the 6 digits your app shows.",
      );
      input.focus();
      return;
    }
    void submitting(
      form,
      async () => {
        await api("/auth/mfa/verify", {
          method: "POST",
          body: { code: useRecoveryCode ? typed : typed.replace(/\s+/g, "") },
          expectUnauthorized: true,
        });
        input.value = "";
        await flow.verified();
      },
      input,
    );
  });
}

function setVerifyMode(recovery) {
  useRecoveryCode = recovery;
  const input = /** @type {HTMLInputElement} */ (byId("verify-code"));
  input.value = "";
  byId("verify-code-label").textContent = recovery ? "Recovery code" : "6-digit code";
  byId("verify-intro").textContent = recovery
    ? "Enter one of the recovery codes you saved when you set up two-factor authentication. Each code works once."
    : "Open your authenticator app and enter the 6-digit code for MedCHR.";
  byId("verify-toggle").textContent = recovery
    ? "Use a code from the app instead"
    : "Use a recovery code instead";
  input.inputMode = recovery ? "text" : "numeric";
  input.maxLength = recovery ? 40 : 6;
  input.autocomplete = recovery ? "off" : "one-time-code";
  input.spellcheck = false;
}

export function showVerify() {
  resetForm(/** @type {HTMLFormElement} */ (byId("verify-form")));
  setVerifyMode(false);
  showView("view-mfa-verify");
}
