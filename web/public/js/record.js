// The Record tab: what MedCHR read from the patient's documents (GET
// /api/v1/patients/{id}/record). Every item names where it was read, as links "<file>,
// page N" that open the document in the Documents tab: a clinician can always check a value
// against its source.
import { ApiError, api } from "./api.js";
import { byId, clearErrorIn, showErrorIn } from "./dom.js";
import { calendarCell, describeReview, FLAG_NAMES, VITAL_NAMES } from "./patient-labels.js";
import { renderTrends } from "./trends.js";

let generation = 0;
/** Set when a document changed (processed, deleted): the next visit loads the record again. */
let stale = true;
/** @type {string | null} */
let loadedFor = null;

export function setUpRecord() {
  byId("record-reload").addEventListener("click", () => {
    const patientId = loadedFor;
    if (patientId) void loadRecord(patientId, lastFilenames, { force: true });
  });
}

/** @type {Map<string, string>} */
let lastFilenames = new Map();

export function markRecordStale() {
  stale = true;
}

/** Signed out or another patient: the record leaves the page. */
export function clearRecord() {
  generation++;
  stale = true;
  loadedFor = null;
  lastFilenames = new Map();
  for (const id of ["record-labs", "record-meds", "record-dx", "record-allergies", "record-vitals"]) {
    byId(id).replaceChildren();
    byId(`${id}-empty`).hidden = true;
  }
  byId("record-summary").textContent = "";
  byId("record-trends").replaceChildren();
  byId("record-trends-empty").hidden = true;
  clearErrorIn(byId("record-error"));
}

/**
 * Loads and shows the record, unless it is already shown and nothing changed since.
 * @param {string} patientId
 * @param {Map<string, string>} filenames document id -> file name, for the source links
 * @param {{ force?: boolean }} [options]
 */
export async function loadRecord(patientId, filenames, { force = false } = {}) {
  lastFilenames = filenames;
  if (!force && !stale && loadedFor === patientId) return;
  const asked = ++generation;
  const error = byId("record-error");
  clearErrorIn(error);
  const section = byId("patient-record");
  section.setAttribute("aria-busy", "true");
  try {
    const { record } = await api(`/api/v1/patients/${encodeURIComponent(patientId)}/record`);
    if (asked !== generation) return;
    stale = false;
    loadedFor = patientId;
    render(record, patientId, filenames);
    const { trends } = await api(`/api/v1/patients/${encodeURIComponent(patientId)}/labs/trends`);
    if (asked !== generation) return;
    byId("record-trends-empty").hidden = renderTrends(byId("record-trends"), trends) > 0;
  } catch (caught) {
    if (asked !== generation) return;
    showErrorIn(
      error,
      caught instanceof ApiError && caught.status === 404
        ? "There is no such patient in your clinic."
        : caught,
    );
  } finally {
    if (asked === generation) section.removeAttribute("aria-busy");
  }
}

function render(record, patientId, filenames) {
  const processed = record.documents.filter((d) => d.versionId).length;
  const waiting = record.documents.length - processed;
  byId("record-summary").textContent =
    record.documents.length === 0
      ? "No documents yet: add some on the Documents tab."
      : `Read from ${processed === 1 ? "1 document" : `${processed} documents`}${waiting > 0 ? `; ${waiting} not processed yet` : ""}. Every item links to the page it was read from.`;
  const source = (item) => sourceCell(item.provenance, patientId, filenames);

  fill(
    "record-labs",
    record.labs.map((lab) => {
      const row = document.createElement("tr");
      if (lab.flag === "H" || lab.flag === "L")
        row.className = `flagged flag-${lab.flag === "H" ? "high" : "low"}`;
      const test = document.createElement("th");
      test.scope = "row";
      test.append(lab.name);
      if (lab.loinc) {
        const code = document.createElement("span");
        code.className = "code";
        code.textContent = `LOINC ${lab.loinc}`;
        test.append(" ", code);
      }
      const result = text(`${lab.value}${lab.unit ? ` ${lab.unit}` : ""}`);
      result.className = "number";
      markForReview(row, result, lab);
      row.append(
        test,
        result,
        text(lab.refText ?? rangeText(lab.refLow, lab.refHigh)),
        flagCell(lab.flag),
        calendarCell(lab.observedAt),
        source(lab),
      );
      return row;
    }),
  );

  fill(
    "record-meds",
    record.medications.map((med) => {
      const row = document.createElement("tr");
      const name = document.createElement("th");
      name.scope = "row";
      name.textContent = med.name;
      if (med.genericName && med.genericName.toLowerCase() !== med.name.toLowerCase()) {
        const generic = document.createElement("span");
        generic.className = "code";
        generic.textContent = `(${med.genericName})`;
        name.append(" ", generic);
      }
      markForReview(row, name, med);
      row.append(name, text(med.dose), text(med.route), text(med.frequency), source(med));
      return row;
    }),
  );

  fill(
    "record-dx",
    record.diagnoses.map((dx) => {
      const row = document.createElement("tr");
      const name = document.createElement("th");
      name.scope = "row";
      name.append(dx.text);
      if (dx.negated) {
        row.classList.add("negated");
        name.append(
          " ",
          badge("Negated", "muted", "Negated: the document says the patient does not have this"),
        );
      }
      if (dx.familyHistory)
        name.append(" ", badge("Family history", "", "Family history: a relative's condition"));
      markForReview(row, name, dx);
      const code = text(dx.icd10 ?? "-");
      if (dx.icd10 && dx.icd10Source === "terminology") {
        const note = document.createElement("span");
        note.className = "hint";
        note.textContent = " (matched)";
        code.append(note);
      }
      row.append(name, code, source(dx));
      return row;
    }),
  );

  fill(
    "record-allergies",
    record.allergies.map((allergy) => {
      const row = document.createElement("tr");
      const name = document.createElement("th");
      name.scope = "row";
      name.textContent = allergy.substance;
      markForReview(row, name, allergy);
      row.append(name, text(allergy.reaction), source(allergy));
      return row;
    }),
  );

  fill(
    "record-vitals",
    record.vitals.map((vital) => {
      const row = document.createElement("tr");
      const name = document.createElement("th");
      name.scope = "row";
      name.textContent = VITAL_NAMES[/** @type {keyof typeof VITAL_NAMES} */ (vital.type)] ?? vital.type;
      const reading = text(`${vital.value}${vital.unit ? ` ${vital.unit}` : ""}`);
      markForReview(row, reading, vital);
      row.append(name, reading, calendarCell(vital.observedAt), source(vital));
      return row;
    }),
  );
}

/**
 * A reading the reader is unsure of (a number, a name no terminology knows, a hard scan) is shown
 * as such, with why: never as if certain.
 * @param {HTMLElement} row
 * @param {HTMLElement} cell where the "Check" badge and its reasons go
 * @param {{ review?: string[] }} item
 */
function markForReview(row, cell, item) {
  if (!Array.isArray(item.review) || item.review.length === 0) return;
  row.classList.add("needs-review");
  const note = document.createElement("span");
  note.className = "review-note";
  note.textContent = describeReview(item.review);
  cell.append(" ", badge("Check", "warn", note.textContent), note);
}

function fill(id, rows) {
  byId(id).replaceChildren(...rows);
  byId(`${id}-empty`).hidden = rows.length > 0;
}

function text(value) {
  const td = document.createElement("td");
  td.textContent = value === null || value === undefined || value === "" ? "-" : String(value);
  return td;
}

function rangeText(low, high) {
  if (low !== null && high !== null) return `${low}-${high}`;
  if (low !== null) return `>= ${low}`;
  if (high !== null) return `<= ${high}`;
  return "-";
}

function flagCell(flag) {
  const td = document.createElement("td");
  if (!flag) {
    td.textContent = "-";
    return td;
  }
  const tone = flag === "N" ? "ok" : "bad";
  td.append(badge(FLAG_NAMES[/** @type {keyof typeof FLAG_NAMES} */ (flag)] ?? flag, tone));
  return td;
}

function badge(label, tone, title) {
  const span = document.createElement("span");
  span.className = tone ? `badge ${tone}` : "badge";
  span.textContent = label;
  if (title) span.title = title;
  return span;
}

/** One link per place the item was read: "<file>, page N" (ids only in the link). */
function sourceCell(provenance, patientId, filenames) {
  const td = document.createElement("td");
  td.className = "sources";
  const seen = new Set();
  for (const p of provenance ?? []) {
    const key = `${p.documentId}:${p.page}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const link = document.createElement("a");
    link.href = `#/patients/${patientId}/documents/${p.documentId}/page/${p.page}`;
    const file = filenames.get(p.documentId) ?? "Document";
    link.textContent = `${file}, page ${p.page}`;
    link.dataset.documentId = p.documentId;
    link.dataset.page = String(p.page);
    if (td.childElementCount > 0) td.append(document.createElement("br"));
    td.append(link);
  }
  if (td.childElementCount === 0) td.textContent = "-";
  return td;
}
