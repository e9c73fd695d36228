// One patient's page: who they are, their documents (upload, processing progress, download,
// process again, delete) and their record. Everything it starts (job polls, the record's
// load) stops when the page closes: another patient, another section, sign-out.
import { ApiError, api } from "./api.js";
import { confirmAction, dismissConfirm } from "./confirm.js";
import { closeDocumentViewer, openDocumentViewer, setUpDocumentViewer } from "./document-viewer.js";
import { announce, byId, clearErrorIn, formatDateTime, showErrorIn, showView } from "./dom.js";
import { describeJob, isFinished, jobProgress, STEP_ORDER, stopAllJobs, watchJob } from "./jobs.js";
import {
  DOCUMENT_STATUS_NAMES,
  formatBytes,
  formatCalendarDate,
  MEDIA_TYPE_NAMES,
  patientName,
  SEX_NAMES,
} from "./patient-labels.js";
import { can, go } from "./patients.js";
import { clearRecord, loadRecord, markRecordStale, setUpRecord } from "./record.js";
import { clearReports, closeReports, openReports, setUpReports } from "./reports.js";
import { abortUploads, setUpUploads } from "./upload.js";

/** The API's largest page: one request lists a patient's documents whole in the usual case. */
const DOCUMENT_PAGE = 100;

/**
 * @typedef {{ id: string, patientId: string, filename: string, mediaType: string, sizeBytes: number,
 *   status: string, createdAt: string, latestJob: { id: string, status: string, currentStep: string | null } | null }} DocumentInfo
 */

/** @type {{ patientId: string, patient: any | null, documents: Map<string, DocumentInfo>, nextCursor: string | null,
 *   loaded: boolean, watching: Map<string, { jobId: string, stop: () => void }>, generation: number } | null} */
let current = null;
let generation = 0;
/** @type {"documents" | "record" | "reports"} */
let tab = "documents";

export function setUpPatientDetail() {
  setUpDocumentViewer();
  for (const button of tabs()) {
    button.addEventListener("click", () => {
      if (!current) return;
      const suffix = { record: "/record", reports: "/reports" }[button.dataset.tab ?? ""] ?? "";
      go(`#/patients/${current.patientId}${suffix}`);
    });
  }
  byId("view-patient")
    .querySelector('[role="tablist"]')
    ?.addEventListener("keydown", (event) => {
      const list = tabs();
      const at = list.indexOf(/** @type {HTMLButtonElement} */ (event.target));
      const key = /** @type {KeyboardEvent} */ (event).key;
      if (at < 0 || !["ArrowLeft", "ArrowRight", "Home", "End"].includes(key)) return;
      event.preventDefault();
      const next =
        key === "Home"
          ? list[0]
          : key === "End"
            ? list[list.length - 1]
            : list[(at + (key === "ArrowRight" ? 1 : list.length - 1)) % list.length];
      next?.focus();
    });
  byId("documents-reload").addEventListener("click", () => void loadDocuments());
  byId("documents-more").addEventListener("click", () => void loadDocuments({ more: true }));
  byId("documents-body").addEventListener("click", (event) => {
    const button = event.target instanceof Element ? event.target.closest("button[data-action]") : null;
    if (!(button instanceof HTMLButtonElement)) return;
    const id = button.closest("tr")?.dataset.documentId ?? "";
    const action = button.dataset.action;
    if (action === "view" && current) go(`#/patients/${current.patientId}/documents/${id}/page/1`);
    else if (action === "download") void download(id, button);
    else if (action === "process") void processAgain(id, button);
    else if (action === "delete") void removeDocument(id, button);
  });
  setUpRecord();
  setUpReports({ can });
  setUpUploads({
    patientId: () => current?.patientId ?? null,
    registered: (document) => {
      if (!current || document.patientId !== current.patientId) return;
      current.documents.set(document.id, document);
      renderDocuments();
      follow(document);
    },
  });
}

const tabs = () =>
  /** @type {HTMLButtonElement[]} */ ([...byId("view-patient").querySelectorAll('[role="tab"]')]);

/**
 * @param {{ patientId: string, tab: "documents" | "record", documentId?: string, page?: number }} route
 */
export async function openPatientPage(route) {
  if (!current || current.patientId !== route.patientId) {
    closePatientDetail();
    wipe();
    current = {
      patientId: route.patientId,
      patient: null,
      documents: new Map(),
      nextCursor: null,
      loaded: false,
      watching: new Map(),
      generation: ++generation,
    };
  }
  const mine = current;
  selectTab(route.tab);
  const focusHeading = !route.documentId;
  showView("view-patient", { focus: focusHeading });
  /** @type {HTMLAnchorElement} */ (byId("patient-edit")).href = `#/patients/${mine.patientId}/edit`;
  byId("patient-edit").hidden = !can("patient.write");
  byId("upload-card").hidden = !can("patient.write");
  await Promise.all([
    mine.patient ? Promise.resolve() : loadPatient(mine),
    mine.loaded ? Promise.resolve() : loadDocuments(),
  ]);
  if (current !== mine) return;
  if (route.tab === "record") await loadRecord(mine.patientId, filenames());
  else if (route.tab === "reports") await openReports(mine.patientId, route.reportId ?? null, filenames());
  else if (route.documentId) showCited(route.documentId, route.page);
  else clearCited();
}

function clearCited() {
  closeDocumentViewer();
  byId("documents-cited").hidden = true;
  for (const row of byId("documents-body").querySelectorAll("tr.cited")) row.classList.remove("cited");
}

/** The page closed (another patient, section or sign-out): nothing it started keeps running. */
export function closePatientDetail() {
  if (!current) return;
  for (const { stop } of current.watching.values()) stop();
  current.watching.clear();
  stopAllJobs();
  dismissConfirm();
  closeReports();
  closeDocumentViewer();
  current = null;
  generation++;
}

/** Signed out: the page holds nothing about any patient. */
export function clearPatientDetail() {
  closePatientDetail();
  abortUploads();
  wipe();
}

function wipe() {
  byId("patient-title").textContent = "Patient";
  for (const dd of byId("patient-facts").querySelectorAll("[data-patient-field]")) dd.textContent = "";
  clearErrorIn(byId("patient-error"));
  byId("documents-body").replaceChildren();
  byId("documents-empty").hidden = true;
  byId("documents-more").hidden = true;
  byId("documents-cited").hidden = true;
  byId("documents-cited").textContent = "";
  byId("documents-status").textContent = "";
  clearErrorIn(byId("documents-error"));
  byId("upload-list").replaceChildren();
  clearRecord();
  clearReports();
}

function selectTab(name) {
  tab = name;
  for (const button of tabs()) {
    const on = button.dataset.tab === name;
    button.setAttribute("aria-selected", String(on));
    button.tabIndex = on ? 0 : -1;
    byId(button.getAttribute("aria-controls") ?? "").hidden = !on;
  }
}

async function loadPatient(mine) {
  try {
    const { patient } = await api(`/api/v1/patients/${encodeURIComponent(mine.patientId)}`);
    if (current !== mine) return;
    mine.patient = patient;
    byId("patient-title").textContent = patientName(patient);
    const fields = {
      dateOfBirth: formatCalendarDate(patient.dateOfBirth) || "-",
      sex: patient.sex ? (SEX_NAMES[patient.sex] ?? patient.sex) : "-",
      mrn: patient.mrn ?? "-",
    };
    for (const dd of byId("patient-facts").querySelectorAll("[data-patient-field]")) {
      const key = /** @type {HTMLElement} */ (dd).dataset.patientField ?? "";
      dd.textContent = fields[/** @type {keyof typeof fields} */ (key)] ?? "";
    }
  } catch (caught) {
    if (current !== mine) return;
    byId("patient-title").textContent = "Patient not found";
    showErrorIn(
      byId("patient-error"),
      caught instanceof ApiError && caught.status === 404
        ? "There is no such patient in your clinic (it may have been deleted)."
        : caught,
    );
  }
}

// ---- documents ------------------------------------------------------------------------

/** @param {{ more?: boolean }} [options] */
async function loadDocuments({ more = false } = {}) {
  const mine = current;
  if (!mine) return;
  const error = byId("documents-error");
  clearErrorIn(error);
  const query = new URLSearchParams({ limit: String(DOCUMENT_PAGE) });
  if (more && mine.nextCursor) query.set("cursor", mine.nextCursor);
  try {
    const page = await api(`/api/v1/patients/${encodeURIComponent(mine.patientId)}/documents?${query}`);
    if (current !== mine) return;
    if (!more) {
      // A reload: the list is the server's; polls of documents no longer there stop.
      for (const [id, watch] of mine.watching) {
        if (!page.documents.some((d) => d.id === id)) {
          watch.stop();
          mine.watching.delete(id);
        }
      }
      mine.documents.clear();
    }
    for (const document of page.documents) mine.documents.set(document.id, document);
    mine.nextCursor = page.nextCursor;
    mine.loaded = true;
    renderDocuments();
    for (const document of page.documents) follow(document);
  } catch (caught) {
    if (current === mine) showErrorIn(error, caught);
  }
}

/** id -> file name, for the record's source links. */
function filenames() {
  return new Map([...(current?.documents.values() ?? [])].map((d) => [d.id, d.filename]));
}

/** Polls the document's job while it runs; its row (and any upload showing it) follow. */
function follow(document) {
  const mine = current;
  const job = document.latestJob;
  if (!mine || !job || isFinished(job.status)) return;
  const existing = mine.watching.get(document.id);
  if (existing?.jobId === job.id) return;
  existing?.stop();
  const stop = watchJob(job.id, (update) => {
    if (current !== mine) return;
    const doc = mine.documents.get(document.id);
    if (update.gone) {
      mine.watching.delete(document.id);
      void refreshDocument(document.id);
      return;
    }
    if (!doc || !update.job) return;
    doc.latestJob = { id: update.job.id, status: update.job.status, currentStep: update.job.currentStep };
    updateRowJob(document.id, update.job);
    if (isFinished(update.job.status)) {
      mine.watching.delete(document.id);
      markRecordStale();
      void refreshDocument(document.id).then(() => {
        if (current === mine && tab === "record") void loadRecord(mine.patientId, filenames());
      });
    }
  });
  mine.watching.set(document.id, { jobId: job.id, stop });
}

async function refreshDocument(documentId) {
  const mine = current;
  if (!mine) return;
  try {
    const { document } = await api(`/api/v1/documents/${encodeURIComponent(documentId)}`);
    if (current !== mine) return;
    mine.documents.set(document.id, document);
    renderDocuments();
    follow(document);
  } catch (caught) {
    if (current !== mine) return;
    if (caught instanceof ApiError && caught.status === 404) {
      mine.documents.delete(documentId);
      renderDocuments();
    } else showErrorIn(byId("documents-error"), caught);
  }
}

function renderDocuments() {
  if (!current) return;
  const docs = [...current.documents.values()].sort(
    (a, b) => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id),
  );
  const canWrite = can("patient.write");
  const rows = docs.map((doc) => {
    const row = document.createElement("tr");
    row.id = `document-${doc.id}`;
    row.dataset.documentId = doc.id;
    const name = document.createElement("th");
    name.scope = "row";
    name.className = "filename";
    name.textContent = doc.filename;
    const type = cell(
      MEDIA_TYPE_NAMES[/** @type {keyof typeof MEDIA_TYPE_NAMES} */ (doc.mediaType)] ?? doc.mediaType,
    );
    const size = cell(formatBytes(doc.sizeBytes));
    const added = cell(formatDateTime(doc.createdAt));
    const status = document.createElement("td");
    status.className = "status-cell";
    const badge = document.createElement("span");
    badge.className = `badge ${statusTone(doc.status)}`;
    badge.dataset.role = "status";
    badge.textContent =
      DOCUMENT_STATUS_NAMES[/** @type {keyof typeof DOCUMENT_STATUS_NAMES} */ (doc.status)] ?? doc.status;
    const progress = document.createElement("progress");
    progress.max = STEP_ORDER.length;
    progress.value = 0;
    progress.hidden = true;
    const line = document.createElement("span");
    line.className = "job-line";
    status.append(badge, " ", line, progress);
    const actions = document.createElement("td");
    actions.className = "row-actions";
    if (doc.status === "processed")
      actions.append(actionButton("view", "View", `View ${doc.filename} as read`));
    actions.append(actionButton("download", "Download", `Download ${doc.filename}`));
    if (canWrite && doc.status !== "quarantined") {
      const processButton = actionButton(
        "process",
        doc.latestJob ? "Process again" : "Process",
        `${doc.latestJob ? "Process again" : "Process"}: ${doc.filename}`,
      );
      actions.append(processButton);
    }
    if (canWrite) actions.append(actionButton("delete", "Delete", `Delete ${doc.filename}`, "danger"));
    if (doc.status === "quarantined") {
      /** @type {HTMLButtonElement} */ (actions.querySelector('[data-action="download"]')).disabled = true;
    }
    row.append(name, type, size, added, status, actions);
    return row;
  });
  byId("documents-body").replaceChildren(...rows);
  byId("documents-empty").hidden = rows.length > 0;
  byId("documents-more").hidden = current.nextCursor === null;
  for (const doc of docs) if (doc.latestJob) updateRowJob(doc.id, doc.latestJob);
}

function statusTone(status) {
  if (status === "processed") return "ok";
  if (status === "failed" || status === "quarantined") return "bad";
  return "";
}

function cell(text) {
  const td = document.createElement("td");
  td.textContent = text;
  return td;
}

function actionButton(action, text, label, tone = "secondary") {
  const button = document.createElement("button");
  button.type = "button";
  button.className = `${tone} small`;
  button.dataset.action = action;
  button.textContent = text;
  button.setAttribute("aria-label", label);
  return button;
}

/**
 * The status cell and the "Process again" button of one row, from a job: the full job while
 * it is followed, or the document's latestJob summary.
 */
function updateRowJob(documentId, job) {
  const row = /** @type {HTMLElement | null} */ (document.getElementById(`document-${documentId}`));
  if (!row) return;
  const progress = /** @type {HTMLProgressElement} */ (row.querySelector("progress"));
  const line = /** @type {HTMLElement} */ (row.querySelector(".job-line"));
  const active = !isFinished(job.status);
  const processButton = /** @type {HTMLButtonElement | null} */ (
    row.querySelector('[data-action="process"]')
  );
  if (processButton) processButton.disabled = active;
  if (Array.isArray(job.steps)) {
    const { done, total } = jobProgress(job);
    progress.max = total;
    progress.value = done;
    line.textContent = active || job.status === "failed" ? describeJob(job) : "";
  } else {
    // Only the summary (a fresh list): the step is known, its progress comes with the first poll.
    const at = STEP_ORDER.indexOf(job.currentStep ?? "");
    progress.value = Math.max(at, 0);
    line.textContent = active ? "Processing" : job.status === "failed" ? "Processing failed" : "";
  }
  progress.hidden = !active;
  progress.setAttribute("aria-label", line.textContent || "Processing");
  const badge = row.querySelector('[data-role="status"]');
  if (badge && active) badge.textContent = "Processing";
}

async function download(documentId, button) {
  const error = byId("documents-error");
  clearErrorIn(error);
  button.disabled = true;
  try {
    // The link lives a minute: long enough to start the download, useless if it leaks later.
    const link = await api(
      `/api/v1/documents/${encodeURIComponent(documentId)}/download-url?expires_in_seconds=60`,
    );
    const a = document.createElement("a");
    a.href = link.url;
    a.rel = "noopener noreferrer";
    a.download = link.downloadName;
    a.hidden = true;
    document.body.append(a);
    a.click();
    a.remove();
    byId("documents-status").textContent = "The download has started.";
  } catch (caught) {
    showErrorIn(error, caught);
  } finally {
    button.disabled = false;
  }
}

async function processAgain(documentId, button) {
  const mine = current;
  const doc = mine?.documents.get(documentId);
  if (!mine || !doc) return;
  const error = byId("documents-error");
  clearErrorIn(error);
  button.disabled = true;
  try {
    const started = await api(`/api/v1/documents/${encodeURIComponent(documentId)}/process`, {
      method: "POST",
      body: {},
    });
    if (current !== mine) return;
    doc.latestJob = { id: started.jobId, status: started.status, currentStep: null };
    byId("documents-status").textContent = started.created
      ? `Processing ${doc.filename} again.`
      : `${doc.filename} is already being processed.`;
    renderDocuments();
    follow(doc);
  } catch (caught) {
    button.disabled = false;
    showErrorIn(error, caught);
  }
}

async function removeDocument(documentId, button) {
  const mine = current;
  const doc = mine?.documents.get(documentId);
  if (!mine || !doc) return;
  const error = byId("documents-error");
  clearErrorIn(error);
  const confirmed = await confirmAction({
    title: "Delete this document?",
    message: `${doc.filename} and everything read from it will be removed from the patient's record. This cannot be undone.`,
    confirmLabel: "Delete document",
  });
  if (!confirmed || current !== mine) return;
  button.disabled = true;
  try {
    await api(`/api/v1/documents/${encodeURIComponent(documentId)}`, { method: "DELETE" });
    if (current !== mine) return;
    mine.watching.get(documentId)?.stop();
    mine.watching.delete(documentId);
    mine.documents.delete(documentId);
    renderDocuments();
    markRecordStale();
    const words = `Deleted ${doc.filename}.`;
    byId("documents-status").textContent = words;
    announce(words);
    byId("documents-title").focus();
  } catch (caught) {
    button.disabled = false;
    showErrorIn(error, caught);
  }
}

/**
 * A source link or a View button led here: the page in the document viewer (the original
 * beside the text read from it), the document's row marked.
 */
function showCited(documentId, page) {
  const notice = byId("documents-cited");
  for (const row of byId("documents-body").querySelectorAll("tr.cited")) row.classList.remove("cited");
  notice.hidden = true;
  const row = document.getElementById(`document-${documentId}`);
  const doc = current?.documents.get(documentId);
  if (!current || !row || !doc) {
    closeDocumentViewer();
    notice.textContent = "The cited document is no longer in this patient's documents.";
    notice.hidden = false;
    notice.focus();
    notice.scrollIntoView({ block: "center" });
    return;
  }
  row.classList.add("cited");
  void openDocumentViewer({
    patientId: current.patientId,
    documentId,
    page: page ?? 1,
    filename: doc.filename,
  });
}
