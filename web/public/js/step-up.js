// The step-up modal: any API call answered with step_up_required opens it; a verified
// code resolves true and the caller (api.js) retries its request once. Cancel resolves false.
import { api } from "./api.js";
import { byId, clearErrorIn, formError, resetForm, submitting } from "./dom.js";

/** @type {Promise<boolean> | null} */
let pending = null;
/** @type {(() => void) | null} */
let dismissCurrent = null;

/** Closes an open step-up prompt as cancelled (the session ended under it). */
export function dismissStepUp() {
  dismissCurrent?.();
}

/** One dialog at a time: calls that hit step-up together share the same answer. */
export function askForStepUp() {
  if (!pending) pending = openDialog().finally(() => (pending = null));
  return pending;
}

function openDialog() {
  const dialog = /** @type {HTMLDialogElement} */ (byId("step-up-dialog"));
  const form = /** @type {HTMLFormElement} */ (byId("step-up-form"));
  const input = /** @type {HTMLInputElement} */ (byId("step-up-code"));
  const cancel = byId("step-up-cancel");
  const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
  resetForm(form);

  return new Promise((resolve) => {
    let settled = false;
    const finish = (verified) => {
      if (settled) return;
      settled = true;
      dismissCurrent = null;
      form.removeEventListener("submit", onSubmit);
      cancel.removeEventListener("click", onCancel);
      dialog.removeEventListener("cancel", onEscape);
      if (dialog.open) dialog.close();
      resetForm(form);
      // Back to where the user was (WAI-ARIA dialog pattern).
      opener?.focus();
      resolve(verified);
    };
    const onSubmit = (event) => {
      event.preventDefault();
      const code = input.value.trim();
      if (code === "") {
        input.focus();
        return;
      }
      void submitting(
        form,
        async () => {
          await api("/auth/mfa/step-up", {
            method: "POST",
            body: { code },
            expectUnauthorized: true,
            stepUp: false,
          });
          finish(true);
        },
        input,
      );
    };
    const onCancel = () => finish(false);
    const onEscape = (event) => {
      event.preventDefault();
      finish(false);
    };
    dismissCurrent = onCancel;
    form.addEventListener("submit", onSubmit);
    cancel.addEventListener("click", onCancel);
    dialog.addEventListener("cancel", onEscape);
    clearErrorIn(formError(form));
    dialog.showModal();
    input.focus();
  });
}
