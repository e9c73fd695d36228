// MedCHR clinician UI: the entry module. No inline script or style anywhere (the CSP
// forbids them). What the server says about the session (GET /auth/session) decides the
// screen: sign-in, MFA enrolment, MFA code, or the signed-in shell. Nothing is kept in
// localStorage or in URLs; after a reload the session cookie (HttpOnly, unseen here) and
// GET /auth/session bring the state, including the anti-forgery token, back.
import { ApiError, api, clearCsrfToken, configureApi } from "./js/api.js";
import { byId, describeError } from "./js/dom.js";
import { forgetRecoveryCodes, forgetSetup, setUpMfaScreens, showEnrolment, showVerify } from "./js/mfa.js";
import { clearShell, setUpShell, showShell } from "./js/shell.js";
import { setUpSignIn, showSignIn, takeSsoError } from "./js/sign-in.js";
import { checkStatus } from "./js/status.js";
import { askForStepUp, dismissStepUp } from "./js/step-up.js";

const SESSION_ENDED = "Your session has ended. Sign in again.";

const app = {
  /**
   * Asks the server where this browser stands and shows the matching screen.
   * @param {string} [signedOutNotice] what to say if there is no session ("" for nothing)
   */
  async refresh(signedOutNotice = SESSION_ENDED) {
    let info;
    try {
      info = await api("/auth/session", { signedIn: false });
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) return signedOut(signedOutNotice);
      return signedOut(describeError(error));
    }
    if (info.stage === "active") showShell(info, app);
    else if (info.stage === "mfa_pending") showVerify();
    else if (info.stage === "mfa_enrollment") await showEnrolment({ method: info.session.method });
    else signedOut(SESSION_ENDED);
  },

  /** A quiet check (tab shown again, session limit reached): re-renders only if the stage changed. */
  async checkSession() {
    try {
      const info = await api("/auth/session", { signedIn: false });
      if (info.stage !== "active") await app.refresh();
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) signedOut(SESSION_ENDED);
    }
  },

  async signOut() {
    try {
      await api("/auth/logout", { method: "POST", signedIn: false });
    } catch (error) {
      // 401: the session had already ended, which is what signing out wants.
      if (!(error instanceof ApiError && error.status === 401)) {
        return signedOut(`Signing out may not have finished: ${describeError(error)}`);
      }
    }
    signedOut("You have signed out.");
  },
};

/** Drops every secret and personal detail the page holds, then shows sign-in. */
function signedOut(notice) {
  clearCsrfToken();
  dismissStepUp();
  forgetSetup();
  forgetRecoveryCodes();
  clearShell();
  showSignIn(notice);
}

configureApi({ signedOut: () => signedOut(SESSION_ENDED), stepUp: askForStepUp });

setUpSignIn({
  async afterSignIn(stage, password) {
    if (stage === "mfa_enrollment") await showEnrolment({ password, method: "password" });
    else if (stage === "mfa_pending") showVerify();
    else await app.refresh();
  },
});
setUpMfaScreens({
  enrolled: () => app.refresh(),
  verified: () => app.refresh(),
});
setUpShell(app);

for (const button of [
  byId("account-bar-sign-out"),
  ...document.querySelectorAll('[data-action="sign-out"]'),
]) {
  button.addEventListener("click", () => void app.signOut());
}

// Coming back to a tab after a while: the server may have ended the session (idle limit).
document.addEventListener("visibilitychange", () => {
  // The account bar shows exactly while signed in, whichever section is open.
  const signedIn = !byId("account-bar").hidden;
  if (document.visibilityState === "visible" && signedIn) void app.checkSession();
});

checkStatus();
// First load: no notice unless single sign-on sent us back with a refusal.
void app.refresh(takeSsoError() ?? "");
