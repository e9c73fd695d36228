// The administration area: the header's "My account" / "Administration" switch and the
// tabs inside (Users, API keys, Clinic policy, AI & data sharing, PHI egress log), each
// shown only with its permission from GET /auth/session. The server checks every call
// anyway; hiding is for clarity, not security. Closing a panel (another tab, leaving the area, signing out) wipes any
// one-time secret it was showing.
import {
  clearAiPolicyPanel,
  forgetAiPolicyState,
  setAiPolicyUser,
  setUpAiPolicy,
  showAiPolicyPanel,
} from "./admin-ai-policy.js";
import { clearEgressPanel, forgetEgressState, setUpEgress, showEgressPanel } from "./admin-egress.js";
import { clearKeysPanel, forgetKeySecrets, setUpKeys, showKeysPanel } from "./admin-keys.js";
import { clearPolicyPanel, forgetPolicyState, setUpPolicy, showPolicyPanel } from "./admin-policy.js";
import {
  clearUsersPanel,
  forgetUserSecrets,
  setCurrentUser,
  setUpUsers,
  showUsersPanel,
} from "./admin-users.js";
import { byId, showView } from "./dom.js";

/** Tab id -> its panel's behaviour. */
const PANELS = {
  "admin-tab-users": { show: showUsersPanel, forget: forgetUserSecrets, clear: clearUsersPanel },
  "admin-tab-keys": { show: showKeysPanel, forget: forgetKeySecrets, clear: clearKeysPanel },
  "admin-tab-policy": { show: showPolicyPanel, forget: forgetPolicyState, clear: clearPolicyPanel },
  "admin-tab-ai": { show: showAiPolicyPanel, forget: forgetAiPolicyState, clear: clearAiPolicyPanel },
  "admin-tab-egress": { show: showEgressPanel, forget: forgetEgressState, clear: clearEgressPanel },
};

/** @type {Set<string>} */
let permissions = new Set();
/** @type {string | null} the selected tab's id */
let selected = null;

const tabs = () =>
  /** @type {HTMLButtonElement[]} */ ([...byId("view-admin").querySelectorAll('[role="tab"]')]);
const allowedTabs = () => tabs().filter((tab) => permissions.has(tab.dataset.permission ?? ""));

/**
 * @param {{ refresh: () => Promise<void> }} app
 */
export function setUpAdmin(app) {
  // Changing one's own role or status ends one's session: ask the server where we stand.
  setUpUsers({ ownAccountChanged: () => void app.refresh() });
  setUpKeys();
  setUpPolicy();
  setUpAiPolicy();
  setUpEgress();

  // The header's "Patients" button belongs to patients.js.
  for (const button of byId("app-nav").querySelectorAll(
    'button[data-nav="view-shell"], button[data-nav="view-admin"]',
  )) {
    button.addEventListener("click", () => {
      if (/** @type {HTMLElement} */ (button).dataset.nav === "view-admin") openAdmin();
      else openAccount();
    });
  }
  for (const tab of tabs()) tab.addEventListener("click", () => selectTab(tab.id));
  // WAI-ARIA tabs with manual activation: arrows move focus, Enter or Space opens. Opening
  // loads data (and in production may ask for a two-factor code), so focus alone must not.
  byId("view-admin")
    .querySelector('[role="tablist"]')
    ?.addEventListener("keydown", (event) => {
      const list = allowedTabs();
      const at = list.indexOf(/** @type {HTMLButtonElement} */ (event.target));
      if (at < 0) return;
      const key = /** @type {KeyboardEvent} */ (event).key;
      const next =
        key === "ArrowRight"
          ? list[(at + 1) % list.length]
          : key === "ArrowLeft"
            ? list[(at - 1 + list.length) % list.length]
            : key === "Home"
              ? list[0]
              : key === "End"
                ? list[list.length - 1]
                : null;
      if (!next) return;
      event.preventDefault();
      next.focus();
    });
}

/**
 * Called whenever the signed-in shell is shown (sign-in, refresh): shows the switch to
 * administration only to those with an administration permission, and starts on "My account".
 * @param {{ user: { id: string }, permissions: string[] }} info GET /auth/session
 */
export function enableAdmin(info) {
  const wanted = new Set(tabs().map((tab) => tab.dataset.permission ?? ""));
  permissions = new Set(info.permissions.filter((p) => wanted.has(p)));
  setCurrentUser(info.user.id);
  setAiPolicyUser(info.user.id);
  for (const tab of tabs()) tab.hidden = !permissions.has(tab.dataset.permission ?? "");
  if (selected && !permissions.has(byId(selected).dataset.permission ?? "")) selected = null;
  // The header switch itself is shown by the shell when it has more than one section.
  byId("nav-admin").hidden = permissions.size === 0;
  leavePanels();
  markCurrent("view-shell");
}

/** Signed out: every panel emptied, the switch hidden. */
export function clearAdmin() {
  for (const panel of Object.values(PANELS)) panel.clear();
  permissions = new Set();
  selected = null;
  for (const tab of tabs()) {
    tab.setAttribute("aria-selected", "false");
    tab.tabIndex = -1;
  }
  for (const panel of byId("view-admin").querySelectorAll('[role="tabpanel"]')) {
    /** @type {HTMLElement} */ (panel).hidden = true;
  }
  byId("nav-admin").hidden = true;
  byId("app-nav").hidden = true;
  markCurrent("view-shell");
}

function openAdmin() {
  const first = allowedTabs()[0];
  if (!first) return;
  showView("view-admin");
  markCurrent("view-admin");
  selectTab(selected ?? first.id, { focus: false });
}

function openAccount() {
  leavePanels();
  showView("view-shell");
  markCurrent("view-shell");
}

/** Secrets and pending confirmations of every panel go when the area is left. */
function leavePanels() {
  for (const panel of Object.values(PANELS)) panel.forget();
}

/**
 * @param {string} tabId
 * @param {{ focus?: boolean }} [options]
 */
function selectTab(tabId, { focus = true } = {}) {
  const tab = byId(tabId);
  if (!permissions.has(tab.dataset.permission ?? "")) return;
  if (selected && selected !== tabId) PANELS[/** @type {keyof typeof PANELS} */ (selected)]?.forget();
  selected = tabId;
  for (const other of tabs()) {
    const on = other.id === tabId;
    other.setAttribute("aria-selected", String(on));
    other.tabIndex = on ? 0 : -1;
    byId(other.getAttribute("aria-controls") ?? "").hidden = !on;
  }
  if (focus) tab.focus();
  void PANELS[/** @type {keyof typeof PANELS} */ (tabId)]?.show();
}

/** aria-current on the header switch says which area is open. */
function markCurrent(viewId) {
  for (const button of byId("app-nav").querySelectorAll("button[data-nav]")) {
    if (/** @type {HTMLElement} */ (button).dataset.nav === viewId)
      button.setAttribute("aria-current", "page");
    else button.removeAttribute("aria-current");
  }
}
