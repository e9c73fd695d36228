// First factor: e-mail and password, or single sign-on (a plain link: the SSO flow is a
// chain of top-level redirects ending back at "/").
import { api } from "./api.js";
import { byId, formError, resetForm, showErrorIn, showView, submitting } from "./dom.js";

/** Why the identity provider's answer was refused (/?sso_error=<reason>), in words. */
const SSO_ERRORS = {
  state_invalid: "The single sign-on attempt expired or was started in another window. Try again.",
  provider_not_allowed: "This sign-in provider is not enabled for MedCHR.",
  provider_unavailable: "The sign-in provider could not be reached. Try again later.",
  provider_error: "The sign-in provider refused the sign-in.",
  token_invalid: "The sign-in provider's answer could not be verified. Try again.",
  email_missing: "The sign-in provider did not share an e-mail address.",
  email_unverified: "Your e-mail address is not verified with the sign-in provider.",
  domain_not_allowed: "Your e-mail domain is not allowed to sign in here.",
  no_tenant: "No clinic on MedCHR uses your e-mail domain. Ask your administrator.",
  account_exists: "An account with your e-mail exists: sign in with your password, then link single sign-on.",
  account_disabled: "Your account is disabled. Ask your clinic administrator.",
  tenant_mismatch: "Your sign-in provider account belongs to another clinic.",
};

/**
 * @param {{ afterSignIn: (stage: string, password: string) => Promise<void> }} flow
 */
export function setUpSignIn(flow) {
  const form = /** @type {HTMLFormElement} */ (byId("sign-in-form"));
  const email = /** @type {HTMLInputElement} */ (byId("sign-in-email"));
  const password = /** @type {HTMLInputElement} */ (byId("sign-in-password"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!email.value.trim() || !password.value) {
      showErrorIn(formError(form), "Enter your e-mail and password.");
      (email.value.trim() ? password : email).focus();
      return;
    }
    void submitting(
      form,
      async () => {
        const typed = password.value;
        const result = await api("/auth/login", {
          method: "POST",
          body: { email: email.value.trim(), password: typed },
          signedIn: false,
        });
        // The password leaves the form at once; only enrolment reuses it, in this call.
        password.value = "";
        await flow.afterSignIn(result.stage, typed);
      },
      password,
    );
  });
}

/** Button text per provider (GET /auth/sso/providers names the enabled ones). */
const SSO_LABELS = {
  oidc: "Sign in with your organisation (SSO)",
  azure: "Sign in with Microsoft",
  google: "Sign in with Google",
};

/** Shows one link per enabled provider; none (or an error) hides the SSO block. */
export async function loadSsoProviders() {
  const box = byId("sso-options");
  const links = byId("sso-links");
  try {
    const result = await api("/auth/sso/providers", { signedIn: false });
    links.replaceChildren(
      ...result.providers
        .filter((name) => name in SSO_LABELS)
        .map((name) => {
          const link = document.createElement("a");
          link.className = "button secondary wide";
          link.href = `/auth/sso/login?provider=${encodeURIComponent(name)}`;
          link.textContent = SSO_LABELS[name];
          return link;
        }),
    );
    box.hidden = links.childElementCount === 0;
  } catch {
    box.hidden = true;
  }
}

/** @param {string} [notice] shown above the form (signed out, session ended, SSO refused) */
export function showSignIn(notice) {
  const form = /** @type {HTMLFormElement} */ (byId("sign-in-form"));
  const email = /** @type {HTMLInputElement} */ (byId("sign-in-email"));
  const keepEmail = email.value;
  resetForm(form);
  email.value = keepEmail;
  const box = byId("sign-in-notice");
  box.textContent = notice ?? "";
  box.hidden = !notice;
  showView("view-sign-in");
  void loadSsoProviders();
}

/** Reads ?sso_error once and removes it from the address bar (and from history). */
export function takeSsoError() {
  const url = new URL(window.location.href);
  const reason = url.searchParams.get("sso_error");
  if (reason === null) return null;
  url.searchParams.delete("sso_error");
  window.history.replaceState(null, "", `${url.pathname}${url.search}${url.hash}`);
  return SSO_ERRORS[reason] ?? "Single sign-on was refused.";
}
