// "Are you sure?" before an action that cannot be undone (revoking an API key). A modal
// alertdialog: focus starts on Cancel, the safe choice, and returns to where it was.
import { byId } from "./dom.js";

/** @type {(() => void) | null} */
let cancelCurrent = null;

/**
 * @param {{ title: string, message: string, confirmLabel: string }} text
 * @returns {Promise<boolean>} true only if the user chose the confirm button
 */
export function confirmAction(text) {
  cancelCurrent?.();
  const dialog = /** @type {HTMLDialogElement} */ (byId("confirm-dialog"));
  const ok = byId("confirm-ok");
  const cancel = byId("confirm-cancel");
  const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
  byId("confirm-title").textContent = text.title;
  byId("confirm-desc").textContent = text.message;
  ok.textContent = text.confirmLabel;

  return new Promise((resolve) => {
    const finish = (confirmed) => {
      cancelCurrent = null;
      ok.removeEventListener("click", onOk);
      cancel.removeEventListener("click", onCancel);
      dialog.removeEventListener("cancel", onEscape);
      if (dialog.open) dialog.close();
      if (opener?.isConnected) opener.focus();
      resolve(confirmed);
    };
    const onOk = () => finish(true);
    const onCancel = () => finish(false);
    const onEscape = (event) => {
      event.preventDefault();
      finish(false);
    };
    cancelCurrent = onCancel;
    ok.addEventListener("click", onOk);
    cancel.addEventListener("click", onCancel);
    dialog.addEventListener("cancel", onEscape);
    dialog.showModal();
    cancel.focus();
  });
}

/** Closes an open confirmation as cancelled (panel closed, signed out). */
export function dismissConfirm() {
  cancelCurrent?.();
}
