// Add or edit a patient (POST /api/v1/patients, PATCH /api/v1/patients/{id}), and delete one.
// The page checks only what it can know for sure (required fields, a complete date that is
// not in the future); every other rule is the API's, and each refusal is shown under the
// field it names.
import { ApiError, api } from "./api.js";
import { confirmAction } from "./confirm.js";
import { announce, byId, clearErrorIn, formError, showErrorIn, showView } from "./dom.js";
import { clearFieldErrorOnInput, clearFieldErrors, fieldProblems, showFieldErrors } from "./fields.js";
import { patientName } from "./patient-labels.js";

const PATIENTS = "/api/v1/patients";

/** @type {string | null} the patient being edited; null when adding one */
let editing = null;
let generation = 0;
/** @type {{ saved: (patient: any) => void, deleted: () => void }} */
let hooks = { saved: () => {}, deleted: () => {} };

const form = () => /** @type {HTMLFormElement} */ (byId("patient-form"));
const input = (id) => /** @type {HTMLInputElement} */ (byId(id));

/** Form inputs by the API's field path. */
const FIELDS = {
  givenName: "pf-given",
  familyName: "pf-family",
  dateOfBirth: "pf-dob",
  sex: "pf-sex",
  mrn: "pf-mrn",
  "contact.phone": "pf-phone",
  "contact.email": "pf-email",
  "contact.address.line1": "pf-line1",
  "contact.address.line2": "pf-line2",
  "contact.address.city": "pf-city",
  "contact.address.region": "pf-region",
  "contact.address.postalCode": "pf-postal",
  "contact.address.country": "pf-country",
  "lifestyle.smoking": "pf-smoking",
  "lifestyle.alcohol": "pf-alcohol",
  "lifestyle.exercise": "pf-exercise",
  "lifestyle.diet": "pf-diet",
  "lifestyle.occupation": "pf-occupation",
  notes: "pf-notes",
};

/** @param {{ saved: (patient: any) => void, deleted: () => void }} callbacks */
export function setUpPatientForm(callbacks) {
  hooks = callbacks;
  clearFieldErrorOnInput(form());
  form().addEventListener("submit", (event) => {
    event.preventDefault();
    void save();
  });
  byId("patient-delete").addEventListener("click", () => void removePatient());
}

/**
 * Shows the form: empty to add a patient, or filled from GET /api/v1/patients/{id}.
 * @param {string | null} patientId
 */
export async function openPatientForm(patientId) {
  const asked = ++generation;
  reset();
  editing = patientId;
  byId("patient-form-title").textContent = patientId ? "Edit patient details" : "Add a patient";
  byId("patient-form-submit").textContent = patientId ? "Save changes" : "Add patient";
  const back = patientId ? `#/patients/${patientId}` : "#/patients";
  /** @type {HTMLAnchorElement} */ (byId("patient-form-back")).href = back;
  byId("patient-form-back").textContent = patientId ? "Back to the patient" : "Back to patients";
  /** @type {HTMLAnchorElement} */ (byId("patient-form-cancel")).href = back;
  byId("patient-delete-zone").hidden = patientId === null;
  showView("view-patient-form");
  if (!patientId) return;
  form().setAttribute("aria-busy", "true");
  try {
    const { patient } = await api(`${PATIENTS}/${encodeURIComponent(patientId)}`);
    if (asked !== generation) return;
    fill(patient);
  } catch (caught) {
    if (asked === generation) showErrorIn(formError(form()), caught);
  } finally {
    if (asked === generation) form().removeAttribute("aria-busy");
  }
}

/** Signed out, or another patient: nothing typed or loaded stays. */
export function clearPatientForm() {
  generation++;
  editing = null;
  reset();
}

function reset() {
  form().reset();
  clearFieldErrors(form());
  clearErrorIn(formError(form()));
  const ok = form().querySelector("[data-ok]");
  if (ok) ok.textContent = "";
  clearErrorIn(byId("patient-delete-error"));
}

function fill(patient) {
  const set = (path, value) => {
    const el = /** @type {HTMLInputElement} */ (byId(FIELDS[/** @type {keyof typeof FIELDS} */ (path)]));
    el.value = value ?? "";
  };
  set("givenName", patient.givenName);
  set("familyName", patient.familyName);
  set("dateOfBirth", patient.dateOfBirth);
  set("sex", patient.sex);
  set("mrn", patient.mrn);
  const contact = patient.contact ?? {};
  set("contact.phone", contact.phone);
  set("contact.email", contact.email);
  const address = contact.address ?? {};
  for (const key of ["line1", "line2", "city", "region", "postalCode", "country"]) {
    set(`contact.address.${key}`, address[key]);
  }
  const lifestyle = patient.lifestyle ?? {};
  for (const key of ["smoking", "alcohol", "exercise", "diet", "occupation"]) {
    set(`lifestyle.${key}`, lifestyle[key]);
  }
  set("notes", patient.notes);
}

/** The non-empty trimmed values of some fields as an object, or null when all are empty. */
function group(prefix, keys) {
  /** @type {Record<string, string>} */
  const out = {};
  for (const key of keys) {
    const value = input(FIELDS[/** @type {keyof typeof FIELDS} */ (`${prefix}.${key}`)]).value.trim();
    if (value !== "") out[key] = value;
  }
  return Object.keys(out).length > 0 ? out : null;
}

function body() {
  const value = (path) => input(FIELDS[/** @type {keyof typeof FIELDS} */ (path)]).value.trim();
  const address = group("contact.address", ["line1", "line2", "city", "region", "postalCode", "country"]);
  const contactParts = group("contact", ["phone", "email"]);
  const contact =
    contactParts || address ? { ...(contactParts ?? {}), ...(address ? { address } : {}) } : null;
  const lifestyle = group("lifestyle", ["smoking", "alcohol", "exercise", "diet", "occupation"]);
  const notes = input("pf-notes").value;
  const optional = {
    mrn: value("mrn") || null,
    contact,
    notes: notes.trim() === "" ? null : notes,
    lifestyle,
  };
  const required = {
    givenName: value("givenName"),
    familyName: value("familyName"),
    dateOfBirth: value("dateOfBirth"),
    sex: value("sex"),
  };
  if (editing) return { ...required, ...optional };
  // A new patient: empty optional fields are simply left out.
  return {
    ...required,
    ...Object.fromEntries(Object.entries(optional).filter(([, v]) => v !== null)),
  };
}

/** What the page can tell before asking the server: the same words the server would use. */
function localProblems() {
  const problems = [];
  for (const path of ["givenName", "familyName"]) {
    if (input(FIELDS[/** @type {keyof typeof FIELDS} */ (path)]).value.trim() === "") {
      problems.push({ field: path, message: "is required" });
    }
  }
  const dob = input("pf-dob");
  if (dob.validity.badInput) problems.push({ field: "dateOfBirth", message: "must be a complete date" });
  else if (dob.value === "") problems.push({ field: "dateOfBirth", message: "is required" });
  else if (dob.value < "1900-01-01")
    problems.push({ field: "dateOfBirth", message: "must be on or after 1900-01-01" });
  else if (dob.value > new Date(Date.now() + 14 * 3_600_000).toISOString().slice(0, 10)) {
    problems.push({ field: "dateOfBirth", message: "must not be in the future" });
  }
  if (/** @type {HTMLSelectElement} */ (byId("pf-sex")).value === "") {
    problems.push({ field: "sex", message: "is required" });
  }
  return problems;
}

function showProblems(problems, extra = []) {
  const { first, unmatched, count } = showFieldErrors(form(), problems);
  const fields = count === 1 ? "1 field" : `${count} fields`;
  showErrorIn(formError(form()), [`Please correct ${fields}.`, ...unmatched, ...extra].join(" "));
  first?.focus();
}

async function save() {
  const f = form();
  const ok = /** @type {HTMLElement} */ (f.querySelector("[data-ok]"));
  ok.textContent = "";
  clearErrorIn(formError(f));
  clearFieldErrors(f);
  const local = localProblems();
  if (local.length > 0) return showProblems(local);

  const asked = generation;
  const buttons = [...f.querySelectorAll("button")];
  for (const button of buttons) button.disabled = true;
  f.setAttribute("aria-busy", "true");
  try {
    const { patient } = editing
      ? await api(`${PATIENTS}/${encodeURIComponent(editing)}`, { method: "PATCH", body: body() })
      : await api(PATIENTS, { method: "POST", body: body() });
    if (asked !== generation) return;
    announce(editing ? `Saved the details of ${patientName(patient)}.` : `Added ${patientName(patient)}.`);
    hooks.saved(patient);
  } catch (caught) {
    if (asked !== generation) return;
    const problems = fieldProblems(caught);
    const reference =
      caught instanceof ApiError && caught.requestId ? [`Reference: ${caught.requestId}`] : [];
    if (problems.length > 0) showProblems(problems, reference);
    else showErrorIn(formError(f), caught);
  } finally {
    if (asked === generation) {
      f.removeAttribute("aria-busy");
      for (const button of buttons) button.disabled = false;
    }
  }
}

async function removePatient() {
  const patientId = editing;
  if (!patientId) return;
  const error = byId("patient-delete-error");
  clearErrorIn(error);
  const name =
    `${input("pf-given").value.trim()} ${input("pf-family").value.trim()}`.trim() || "this patient";
  const confirmed = await confirmAction({
    title: "Delete this patient?",
    message: `${name}, every document and everything read from them will be deleted. This cannot be undone.`,
    confirmLabel: "Delete patient",
  });
  if (!confirmed || editing !== patientId) return;
  const button = /** @type {HTMLButtonElement} */ (byId("patient-delete"));
  button.disabled = true;
  try {
    await api(`${PATIENTS}/${encodeURIComponent(patientId)}`, { method: "DELETE" });
    announce(`Deleted ${name}.`);
    hooks.deleted();
  } catch (caught) {
    showErrorIn(error, caught);
  } finally {
    button.disabled = false;
  }
}
