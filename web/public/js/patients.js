// The Patients area: the header's "Patients" switch, the address-bar routes inside it, and
// the list with its search. Routes carry ids only (#/patients, #/patients/new,
// #/patients/<id>[/record|/edit|/documents/<document id>/page/<n>]): never a name, an MRN,
// a date of birth or a search term, which would stay in the browser's history and be sent
// nowhere else. Search terms go to the API as query parameters (the API defines them so)
// and live in the form, in memory, only.
import { api } from "./api.js";
import {
  announce,
  byId,
  clearErrorIn,
  formatDateTime,
  formError,
  onViewShown,
  showErrorIn,
  showView,
} from "./dom.js";
import { clearFieldErrorOnInput, clearFieldErrors, fieldProblems, showFieldErrors } from "./fields.js";
import {
  clearPatientDetail,
  closePatientDetail,
  openPatientPage,
  setUpPatientDetail,
} from "./patient-detail.js";
import { clearPatientForm, openPatientForm, setUpPatientForm } from "./patient-form.js";
import { calendarCell, patientName, SEX_NAMES } from "./patient-labels.js";

const PATIENTS = "/api/v1/patients";
/** The API's default page: one screen of results. */
const PAGE_SIZE = 25;
const UUID = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}";
const ROUTE = new RegExp(
  `^#/patients(?:/(?:(new)|(${UUID})(?:/(record|edit)|/documents(?:/(${UUID})(?:/page/(\\d{1,5}))?)?|/(reports)(?:/(${UUID}))?)?))?/?$`,
);
const AREA_VIEWS = new Set(["view-patients", "view-patient", "view-patient-form"]);

/**
 * @typedef {{ name: "list" } | { name: "new" } | { name: "edit", patientId: string }
 *   | { name: "patient", patientId: string, tab: "documents" | "record" | "reports", documentId?: string,
 *       page?: number, reportId?: string }} Route
 */

/** @returns {Route | null} */
export function parseRoute(hash) {
  const match = ROUTE.exec(hash);
  if (!match) return null;
  const [, isNew, patientId, section, documentId, page, reports, reportId] = match;
  if (isNew) return { name: "new" };
  if (!patientId) return { name: "list" };
  const id = patientId.toLowerCase();
  if (section === "edit") return { name: "edit", patientId: id };
  if (section === "record") return { name: "patient", patientId: id, tab: "record" };
  if (reports) {
    return {
      name: "patient",
      patientId: id,
      tab: "reports",
      ...(reportId ? { reportId: reportId.toLowerCase() } : {}),
    };
  }
  return {
    name: "patient",
    patientId: id,
    tab: "documents",
    ...(documentId ? { documentId: documentId.toLowerCase() } : {}),
    ...(page ? { page: Number(page) } : {}),
  };
}

/** @type {Set<string>} */
let permissions = new Set();
let signedIn = false;
/** @type {string | null} */
let nextCursor = null;
/** The query of the results shown: "Show more" continues it, whatever the fields say now. */
let shownQuery = new URLSearchParams();
/** Bumped on every new search and on sign-out, so a late answer is dropped. */
let generation = 0;
let searched = false;

export function setUpPatients() {
  byId("nav-patients").addEventListener("click", () => go("#/patients"));
  window.addEventListener("hashchange", () => void route());
  onViewShown((id) => {
    if (AREA_VIEWS.has(id)) return;
    // Another section was opened (My account, Administration): this one's work stops, and
    // the address no longer names a patient route, so Back returns here.
    closePatientDetail();
    if (signedIn && parseRoute(location.hash))
      history.pushState(null, "", location.pathname + location.search);
  });

  const form = /** @type {HTMLFormElement} */ (byId("patient-search-form"));
  clearFieldErrorOnInput(form);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    void search();
  });
  byId("search-clear").addEventListener("click", () => {
    form.reset();
    clearFieldErrors(form);
    clearErrorIn(formError(form));
    void search();
    byId("search-name").focus();
  });
  byId("patients-more").addEventListener("click", () => void search({ more: true }));
  setUpPatientForm({ saved: (patient) => go(`#/patients/${patient.id}`), deleted: () => go("#/patients") });
  setUpPatientDetail();
}

/**
 * Signed in (GET /auth/session): the switch shows with patient.read, and write controls with
 * patient.write. Returns whether the address named a patient route, which is then opened
 * (a reload, or a link followed before signing in).
 * @param {{ permissions: string[] }} info
 */
export function enablePatients(info) {
  permissions = new Set(info.permissions);
  signedIn = true;
  const canRead = permissions.has("patient.read");
  byId("nav-patients").hidden = !canRead;
  for (const el of document.querySelectorAll("[data-needs]")) {
    /** @type {HTMLElement} */ (el).hidden = !permissions.has(
      /** @type {HTMLElement} */ (el).dataset.needs ?? "",
    );
  }
  if (!canRead || !parseRoute(location.hash)) return false;
  void route();
  return true;
}

export function can(permission) {
  return permissions.has(permission);
}

/** Signed out: every patient detail leaves the page, and the address names none. */
export function clearPatients() {
  signedIn = false;
  permissions = new Set();
  generation++;
  searched = false;
  nextCursor = null;
  shownQuery = new URLSearchParams();
  clearPatientDetail();
  clearPatientForm();
  const form = /** @type {HTMLFormElement} */ (byId("patient-search-form"));
  form.reset();
  clearFieldErrors(form);
  clearErrorIn(formError(form));
  byId("patients-body").replaceChildren();
  byId("patients-more").hidden = true;
  byId("patients-status").textContent = "";
  clearErrorIn(byId("patients-error"));
  byId("nav-patients").hidden = true;
  for (const el of document.querySelectorAll("[data-needs]")) /** @type {HTMLElement} */ (el).hidden = true;
  if (parseRoute(location.hash)) history.replaceState(null, "", location.pathname + location.search);
}

/** To a route: a new history entry, unless it is the current one (then it is opened again). */
export function go(hash) {
  if (location.hash === hash) void route();
  else location.hash = hash;
}

async function route() {
  if (!signedIn) return;
  const target = parseRoute(location.hash);
  if (!target) {
    // Back out of the area (to the address without a route): the account screen.
    if (AREA_VIEWS.has(visibleView())) showView("view-shell");
    return;
  }
  if (!permissions.has("patient.read")) return;
  if (target.name !== "patient") closePatientDetail();
  if (target.name === "list") {
    showView("view-patients");
    // The results are refreshed each time (a patient may have changed meanwhile).
    await search({ quiet: searched });
  } else if (target.name === "new") {
    if (!permissions.has("patient.write")) return go("#/patients");
    openPatientForm(null);
  } else if (target.name === "edit") {
    if (!permissions.has("patient.write")) return go(`#/patients/${target.patientId}`);
    openPatientForm(target.patientId);
  } else {
    await openPatientPage(target);
  }
}

function visibleView() {
  return (
    [...document.querySelectorAll(".view")].find((v) => !(/** @type {HTMLElement} */ (v).hidden))?.id ?? ""
  );
}

// ---- list and search ------------------------------------------------------------------

function searchQuery() {
  const q = /** @type {HTMLInputElement} */ (byId("search-name")).value.trim();
  const mrn = /** @type {HTMLInputElement} */ (byId("search-mrn")).value.trim();
  const dateOfBirth = /** @type {HTMLInputElement} */ (byId("search-dob")).value;
  const query = new URLSearchParams({ limit: String(PAGE_SIZE) });
  if (q) query.set("q", q);
  if (mrn) query.set("mrn", mrn);
  if (dateOfBirth) query.set("dateOfBirth", dateOfBirth);
  return { query, filtered: Boolean(q || mrn || dateOfBirth) };
}

/**
 * @param {{ more?: boolean, quiet?: boolean }} [options] more: the next page of the same search;
 *   quiet: a refresh, not announced
 */
async function search({ more = false, quiet = false } = {}) {
  const form = /** @type {HTMLFormElement} */ (byId("patient-search-form"));
  const error = byId("patients-error");
  clearErrorIn(error);
  clearErrorIn(formError(form));
  const dob = /** @type {HTMLInputElement} */ (byId("search-dob"));
  if (dob.validity.badInput) {
    showFieldErrors(form, [{ field: "dateOfBirth", message: "must be a complete date" }]);
    dob.focus();
    return;
  }
  const fresh = searchQuery();
  const query = more ? new URLSearchParams(shownQuery) : fresh.query;
  const filtered = more ? ["q", "mrn", "dateOfBirth"].some((k) => shownQuery.has(k)) : fresh.filtered;
  if (more && nextCursor) query.set("cursor", nextCursor);
  const asked = ++generation;
  const buttons = [...form.querySelectorAll("button"), byId("patients-more")];
  for (const button of buttons) /** @type {HTMLButtonElement} */ (button).disabled = true;
  form.setAttribute("aria-busy", "true");
  try {
    const page = await api(`${PATIENTS}?${query}`);
    if (asked !== generation) return;
    clearFieldErrors(form);
    searched = true;
    if (!more) shownQuery = fresh.query;
    nextCursor = page.nextCursor;
    renderPatients(page.patients, { append: more });
    const shown = byId("patients-body").childElementCount;
    const words =
      shown === 0
        ? filtered
          ? "No patients match this search."
          : "No patients yet."
        : `Showing ${shown === 1 ? "1 patient" : `${shown} patients`}${nextCursor ? "; more are available" : ""}.`;
    byId("patients-status").textContent = words;
    if (!quiet && !more) announce(words);
  } catch (caught) {
    if (asked !== generation) return;
    if (!more) {
      // The results on screen would no longer answer what the form says.
      nextCursor = null;
      byId("patients-body").replaceChildren();
      byId("patients-status").textContent = "";
    }
    const problems = fieldProblems(caught);
    if (problems.length > 0) {
      const { first, unmatched } = showFieldErrors(form, problems);
      showErrorIn(formError(form), ["Please check the search.", ...unmatched].join(" "));
      first?.focus();
    } else showErrorIn(error, caught);
  } finally {
    if (asked === generation) {
      form.removeAttribute("aria-busy");
      for (const button of buttons) /** @type {HTMLButtonElement} */ (button).disabled = false;
      byId("patients-more").hidden = nextCursor === null;
    }
  }
}

function renderPatients(patients, { append }) {
  const rows = patients.map((patient) => {
    const row = document.createElement("tr");
    row.dataset.patientId = patient.id;
    const name = document.createElement("th");
    name.scope = "row";
    const link = document.createElement("a");
    link.href = `#/patients/${patient.id}`;
    link.textContent = patientName(patient);
    name.append(link);
    const sex = document.createElement("td");
    sex.textContent = patient.sex ? (SEX_NAMES[patient.sex] ?? patient.sex) : "-";
    const mrn = document.createElement("td");
    mrn.textContent = patient.mrn ?? "-";
    const added = document.createElement("td");
    added.textContent = formatDateTime(patient.createdAt);
    row.append(name, calendarCell(patient.dateOfBirth), sex, mrn, added);
    return row;
  });
  const body = byId("patients-body");
  if (append) body.append(...rows);
  else body.replaceChildren(...rows);
}
