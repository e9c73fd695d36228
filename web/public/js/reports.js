// The Reports tab: a patient's Client Health Reports (list, "Draft a new report" with the
// drafting job's progress) and one report open (#/patients/<id>/reports/<report id>): its
// sections with numbered source marks (a mark shows the exact source text beside the report),
// statements without a verified source flagged, editing a section with its save state and the
// conflict message when someone else saved first, the edit history, the AI draft as written,
// finalize and sign (the step-up dialog opens when the server asks), and amend.
//
// Nothing the server or a user wrote is parsed as HTML: claim text arrives as typed segments
// (bold, italics, code, http(s) links) that go in through textContent.
import { ApiError, api } from "./api.js";
import { confirmAction } from "./confirm.js";
import { announce, byId, clearErrorIn, copyText, formatDateTime, showErrorIn } from "./dom.js";
import { isFinished, watchJob } from "./jobs.js";
import { calendarCell, FLAG_NAMES, VITAL_NAMES } from "./patient-labels.js";
import { go } from "./patients.js";

const NARRATIVE = [
  ["summary", "Summary"],
  ["key_findings", "Key findings"],
  ["interpretation", "Interpretation"],
  ["data_gaps", "Data gaps"],
  ["follow_up_questions", "Follow-up questions"],
];
const STATUS_NAMES = {
  drafting: "Drafting",
  draft: "Draft",
  failed: "Drafting failed",
  finalized: "Finalized",
};
const SECTION_NAMES = Object.fromEntries([
  ...NARRATIVE,
  ["labs", "Lab results"],
  ["medications", "Medications"],
  ["diagnoses", "Diagnoses"],
  ["allergies", "Allergies"],
  ["vitals", "Vital signs"],
]);
const ASSERTION_NAMES = { present: "Present", negated: "Ruled out or denied", family: "Family history" };
const FALLBACK_REASONS = {
  ai_disabled: "AI processing is turned off for the clinic",
  external_not_allowed: "the clinic allows on-box processing only",
  processor_not_allowed: "the clinic does not allow this AI processor",
  processor_not_in_allowlist: "this deployment has no agreement with the AI processor",
  no_external_provider: "no external AI provider is configured",
  redaction_unavailable: "identifiers could not be removed first",
  provider_unavailable: "the AI provider was unavailable",
};

/** @type {{ can: (permission: string) => boolean }} */
let deps = { can: () => false };
/** @type {{ patientId: string, reportId: string | null, report: any, filenames: Map<string, string>,
 *   showDraft: boolean, editing: Set<string>, stopWatch: (() => void) | null, generation: number } | null} */
let state = null;
let generation = 0;

/** @param {{ can: (permission: string) => boolean }} options */
export function setUpReports(options) {
  deps = options;
  byId("report-draft").addEventListener("click", () => void requestDraft());
  byId("reports-reload").addEventListener("click", () => state && void loadList(state));
  byId("report-reload").addEventListener("click", () => state?.reportId && void loadReport(state));
  byId("report-show-draft").addEventListener("change", (event) => {
    if (!state) return;
    state.showDraft = /** @type {HTMLInputElement} */ (event.target).checked;
    renderReport(state);
  });
  byId("report-history-toggle").addEventListener("click", () => void toggleHistory());
  byId("report-finalize").addEventListener("click", () => void finalize());
  byId("report-amend").addEventListener("click", () => void amend());
  byId("report-pdf").addEventListener("click", () => void downloadPdf());
  byId("reports-fhir").addEventListener("click", () => void downloadFhir());
  byId("report-share").addEventListener("click", () => void openShareDialog());
  byId("share-form").addEventListener("submit", (event) => {
    event.preventDefault();
    void createShare();
  });
  byId("share-copy").addEventListener(
    "click",
    () =>
      void copyText(
        /** @type {HTMLInputElement} */ (byId("share-url")).value,
        byId("share-copy-status"),
        "link",
      ),
  );
  byId("share-close").addEventListener("click", () =>
    /** @type {HTMLDialogElement} */ (byId("share-dialog")).close(),
  );
  byId("share-list").addEventListener("click", (event) => {
    const button = event.target instanceof Element ? event.target.closest("button[data-revoke]") : null;
    if (button instanceof HTMLButtonElement) void revokeShare(button.dataset.revoke ?? "", button);
  });
  byId("report-sections").addEventListener("click", (event) => {
    const target = event.target instanceof Element ? event.target : null;
    const cite = target?.closest("button[data-cite]");
    if (cite instanceof HTMLButtonElement) return showSource(cite);
    const edit = target?.closest("button[data-edit]");
    if (edit instanceof HTMLButtonElement && state) {
      state.editing.add(edit.dataset.edit ?? "");
      renderReport(state);
      byId(`report-edit-${edit.dataset.edit}`).focus();
    }
  });
}

/**
 * The tab opened: the list, and the report the address names (if any).
 * @param {string} patientId
 * @param {string | null} reportId
 * @param {Map<string, string>} filenames document id -> file name
 */
export async function openReports(patientId, reportId, filenames) {
  if (!state || state.patientId !== patientId) {
    closeReports();
    state = {
      patientId,
      reportId: null,
      report: null,
      filenames,
      showDraft: false,
      editing: new Set(),
      stopWatch: null,
      generation: ++generation,
    };
  }
  state.filenames = filenames;
  state.reportId = reportId;
  byId("report-draft").hidden = !deps.can("patient.write");
  // Enabled once the list has loaded: before that a draft request could not be followed here.
  /** @type {HTMLButtonElement} */ (byId("report-draft")).disabled = true;
  byId("reports-fhir").hidden = !deps.can("report.export");
  /** @type {HTMLAnchorElement} */ (byId("report-back")).href = `#/patients/${patientId}/reports`;
  byId("reports-card").hidden = reportId !== null;
  byId("report-card").hidden = reportId === null;
  if (reportId) {
    state.showDraft = false;
    state.editing.clear();
    /** @type {HTMLInputElement} */ (byId("report-show-draft")).checked = false;
    await loadReport(state);
    byId("report-title").focus();
  } else {
    const mine = state;
    await loadList(mine);
    if (state === mine) /** @type {HTMLButtonElement} */ (byId("report-draft")).disabled = false;
  }
}

/** The page closed (another patient or section): polls stop, late answers are dropped. */
export function closeReports() {
  /** @type {HTMLButtonElement} */ (byId("report-draft")).disabled = true;
  state?.stopWatch?.();
  state = null;
  generation++;
}

/** Signed out: nothing about any report stays on the page. */
export function clearReports() {
  closeReports();
  for (const id of ["reports-body", "report-sections", "report-history-list"]) byId(id).replaceChildren();
  for (const id of ["report-meta", "report-status", "report-draft-status", "report-status-badge"])
    byId(id).textContent = "";
  hideSource();
}

// ---- list -----------------------------------------------------------------------------

async function loadList(mine) {
  const error = byId("reports-error");
  clearErrorIn(error);
  try {
    const { reports } = await api(`/api/v1/patients/${encodeURIComponent(mine.patientId)}/reports`);
    if (state !== mine) return;
    byId("reports-body").replaceChildren(...reports.map((r) => listRow(mine.patientId, r)));
    byId("reports-empty").hidden = reports.length > 0;
    const drafting = reports.find((r) => r.status === "drafting" && r.jobId);
    if (drafting) follow(mine, drafting.jobId);
  } catch (caught) {
    if (state === mine) showErrorIn(error, caught);
  }
}

function listRow(patientId, report) {
  const row = document.createElement("tr");
  const created = document.createElement("td");
  created.textContent = formatDateTime(report.createdAt);
  const open = document.createElement("td");
  const link = document.createElement("a");
  link.href = `#/patients/${patientId}/reports/${report.id}`;
  link.textContent = report.status === "drafting" ? "View progress" : "Open";
  link.setAttribute("aria-label", `Open the report created ${formatDateTime(report.createdAt)}`);
  open.append(link);
  row.append(
    created,
    cell(STATUS_NAMES[report.status] ?? report.status),
    cell(report.amendsReportId ? `${report.reportVersion} (amendment)` : String(report.reportVersion)),
    cell(report.status === "draft" || report.status === "finalized" ? String(report.unsupportedCount) : "-"),
    cell(
      report.provider === "openai"
        ? "External AI (OpenAI)"
        : report.provider === "on-box"
          ? "On-box drafter"
          : "-",
    ),
    open,
  );
  return row;
}

async function requestDraft() {
  if (!state) return;
  const mine = state;
  const button = /** @type {HTMLButtonElement} */ (byId("report-draft"));
  const status = byId("report-draft-status");
  clearErrorIn(byId("reports-error"));
  button.disabled = true;
  try {
    const started = await api(`/api/v1/patients/${encodeURIComponent(mine.patientId)}/reports`, {
      method: "POST",
      body: {},
    });
    if (state !== mine) return;
    status.textContent = started.created
      ? "Drafting the report..."
      : "A draft is already being written; following it.";
    announce(status.textContent);
    await loadList(mine);
    follow(mine, started.jobId);
  } catch (caught) {
    if (state !== mine) return;
    showErrorIn(
      byId("reports-error"),
      caught instanceof ApiError && caught.details?.reason === "record_empty"
        ? "There is nothing to draft from yet: add a document on the Documents tab and wait until it is processed."
        : caught,
    );
  } finally {
    button.disabled = false;
  }
}

/** Follows a drafting job; when it ends, the list (or the open report) shows the result. */
function follow(mine, jobId) {
  mine.stopWatch?.();
  mine.stopWatch = watchJob(jobId, ({ job }) => {
    if (state !== mine || !isFinished(job.status)) return;
    mine.stopWatch?.();
    mine.stopWatch = null;
    const words =
      job.status === "succeeded"
        ? "The draft is ready."
        : `Drafting failed: ${job.error?.message ?? "unknown error"}`;
    byId("report-draft-status").textContent = words;
    announce(words);
    if (mine.reportId) void loadReport(mine);
    else void loadList(mine);
  });
}

// ---- one report -----------------------------------------------------------------------

async function loadReport(mine) {
  const error = byId("report-error");
  clearErrorIn(error);
  const card = byId("report-card");
  card.setAttribute("aria-busy", "true");
  try {
    const { report } = await api(`/api/v1/reports/${encodeURIComponent(mine.reportId ?? "")}`);
    if (state !== mine) return;
    mine.report = report;
    renderReport(mine);
    if (report.status === "drafting" && report.jobId) follow(mine, report.jobId);
    if (!byId("report-history").hidden) await loadHistory(mine);
  } catch (caught) {
    if (state !== mine) return;
    showErrorIn(
      error,
      caught instanceof ApiError && caught.status === 404
        ? "There is no such report in your clinic."
        : caught,
    );
  } finally {
    card.removeAttribute("aria-busy");
  }
}

function renderReport(mine) {
  const report = mine.report;
  if (!report) return;
  const badge = byId("report-status-badge");
  badge.textContent = STATUS_NAMES[report.status] ?? report.status;
  badge.className = `badge ${report.status === "finalized" ? "ok" : report.status === "failed" ? "bad" : "muted"}`;
  const p = report.provenance;
  const meta = [
    `Version ${report.reportVersion}${report.amendsReportId ? " (amendment)" : ""}`,
    `revision ${report.revision}`,
    p
      ? `drafted ${formatDateTime(p.draftedAt)} by ${p.provider === "openai" ? `external AI (${p.model})` : "the on-box drafter"}`
      : null,
    report.signature
      ? `signed ${formatDateTime(report.signature.signedAt)} by ${report.signature.signedByName ?? `user ${String(report.signature.signedBy).slice(0, 8)}`}`
      : null,
  ].filter(Boolean);
  byId("report-meta").textContent = `${meta.join(", ")}.`;

  const notices = [];
  if (report.status === "drafting")
    notices.push("The draft is being written. This page updates when it is ready.");
  if (report.status === "failed")
    notices.push(`Drafting failed (${report.error?.code ?? "error"}). Draft a new report from the list.`);
  if (p?.fallback) notices.push(`Drafted on-box because ${FALLBACK_REASONS[p.fallback] ?? p.fallback}.`);
  if (report.unsupportedCount > 0)
    notices.push(
      `${report.unsupportedCount} statement(s) have no verified source and are flagged: check them before finalizing.`,
    );
  if (report.signature)
    notices.push(`Finalized and signed. Content hash (SHA-256): ${report.signature.contentHash}.`);
  const notice = byId("report-notice");
  notice.textContent = notices.join(" ");
  notice.hidden = notices.length === 0;

  const editable = report.status === "draft" && deps.can("patient.write");
  byId("report-finalize").hidden = !(report.status === "draft" && deps.can("report.finalize"));
  byId("report-amend").hidden = !(report.status === "finalized" && deps.can("patient.write"));
  byId("report-pdf").hidden = !(report.status === "finalized" && deps.can("report.export"));
  byId("report-share").hidden = !(report.status === "finalized" && deps.can("report.share"));
  byId("report-show-draft").closest("label")?.toggleAttribute("hidden", !report.draft);

  const content = mine.showDraft ? report.draft : report.content;
  const rendered = mine.showDraft ? report.rendered?.draft : report.rendered?.content;
  const container = byId("report-sections");
  if (!content) {
    container.replaceChildren();
    return;
  }
  let mark = 0;
  const cites = (citations) => {
    const span = document.createElement("span");
    span.className = "cites";
    for (const c of citations) {
      mark += 1;
      const button = document.createElement("button");
      button.type = "button";
      button.className = "cite";
      button.dataset.cite = JSON.stringify(c);
      button.textContent = String(mark);
      button.setAttribute(
        "aria-label",
        `Source ${mark}: ${mine.filenames.get(c.documentId) ?? "document"}, page ${c.page}`,
      );
      span.append(button);
    }
    return span;
  };

  const blocks = [];
  for (const [section, title] of NARRATIVE) {
    const block = document.createElement("section");
    block.className = "report-section";
    block.setAttribute("aria-labelledby", `report-h-${section}`);
    const head = document.createElement("div");
    head.className = "title-row";
    const h = document.createElement("h3");
    h.id = `report-h-${section}`;
    h.textContent = title;
    head.append(h);
    const editing = editable && !mine.showDraft && mine.editing.has(section);
    if (editable && !mine.showDraft && !editing) {
      const edit = document.createElement("button");
      edit.type = "button";
      edit.className = "secondary small";
      edit.dataset.edit = section;
      edit.textContent = "Edit";
      edit.setAttribute("aria-label", `Edit ${title}`);
      head.append(edit);
    }
    block.append(head);
    const claims = content[section];
    if (editing) block.append(editForm(mine, section, title, claims));
    else if (claims.length === 0) block.append(hint("Nothing here."));
    else {
      const list = document.createElement("ul");
      list.className = "claims";
      claims.forEach((claim, i) => {
        const li = document.createElement("li");
        li.className = `claim support-${claim.support}`;
        const textSpan = document.createElement("span");
        textSpan.className = "claim-text";
        appendSegments(textSpan, rendered?.[section]?.[i] ?? [{ type: "text", text: claim.text }]);
        li.append(textSpan, " ", cites(claim.citations));
        if (claim.support === "unsupported") li.append(" ", pill("No verified source", "bad"));
        if (claim.support === "clinician") li.append(" ", pill("Written by a clinician", "muted"));
        list.append(li);
      });
      block.append(list);
    }
    blocks.push(block);
  }
  blocks.push(
    table("labs", ["Test", "Result", "Reference range", "Flag", "Date", "Source"], content.labs, (lab) => [
      `${lab.name}${lab.loinc ? ` (LOINC ${lab.loinc})` : ""}`,
      `${lab.value}${lab.unit ? ` ${lab.unit}` : ""}`,
      lab.refText ??
        (lab.refLow !== null || lab.refHigh !== null ? `${lab.refLow ?? ""}-${lab.refHigh ?? ""}` : "-"),
      lab.flag ? (FLAG_NAMES[lab.flag] ?? lab.flag) : "-",
      calendarCell(lab.observedAt),
      cites(lab.citations),
    ]),
    table("medications", ["Medication", "Dose", "Route", "Frequency", "Source"], content.medications, (m) => [
      m.name,
      m.dose ?? "-",
      m.route ?? "-",
      m.frequency ?? "-",
      cites(m.citations),
    ]),
    table("diagnoses", ["Diagnosis", "ICD-10-CM", "Status", "Source"], content.diagnoses, (d) => [
      d.text,
      d.icd10 ?? "-",
      ASSERTION_NAMES[d.assertion] ?? d.assertion,
      cites(d.citations),
    ]),
    table("allergies", ["Substance", "Reaction", "Source"], content.allergies, (a) => [
      a.substance,
      a.reaction ?? "-",
      cites(a.citations),
    ]),
    table("vitals", ["Measurement", "Value", "Date", "Source"], content.vitals, (v) => [
      VITAL_NAMES[v.type] ?? v.type,
      `${v.value}${v.unit ? ` ${v.unit}` : ""}`,
      calendarCell(v.observedAt),
      cites(v.citations),
    ]),
  );
  container.replaceChildren(...blocks);
}

/** Segments of a claim's light markdown, as elements with text only. */
function appendSegments(parent, segments) {
  for (const s of segments) {
    if (s.type === "text") parent.append(s.text);
    else if (s.type === "link" && /^(https?:|mailto:)/i.test(s.href ?? "")) {
      const a = document.createElement("a");
      a.href = s.href;
      a.rel = "noopener noreferrer nofollow";
      a.textContent = s.text;
      parent.append(a);
    } else {
      const el = document.createElement(
        s.type === "strong" ? "strong" : s.type === "em" ? "em" : s.type === "code" ? "code" : "span",
      );
      el.textContent = s.text;
      parent.append(el);
    }
  }
}

function table(section, headers, rows, cells) {
  const block = document.createElement("section");
  block.className = "report-section";
  block.setAttribute("aria-labelledby", `report-h-${section}`);
  const h = document.createElement("h3");
  h.id = `report-h-${section}`;
  h.textContent = SECTION_NAMES[section];
  block.append(h);
  if (rows.length === 0) {
    block.append(hint("None found in the records."));
    return block;
  }
  const wrap = document.createElement("div");
  wrap.className = "table-wrap";
  const t = document.createElement("table");
  t.className = "data report-table";
  t.setAttribute("aria-labelledby", h.id);
  const head = document.createElement("thead");
  const tr = document.createElement("tr");
  for (const name of headers) {
    const th = document.createElement("th");
    th.scope = "col";
    th.textContent = name;
    tr.append(th);
  }
  head.append(tr);
  const body = document.createElement("tbody");
  for (const row of rows) {
    const r = document.createElement("tr");
    if (section === "diagnoses" && row.assertion !== "present") r.className = "negated";
    cells(row).forEach((value, i) => {
      const c = value instanceof HTMLTableCellElement ? value : document.createElement(i === 0 ? "th" : "td");
      if (i === 0 && c instanceof HTMLTableCellElement && c.tagName === "TH")
        /** @type {HTMLTableCellElement} */ (c).scope = "row";
      if (!(value instanceof HTMLTableCellElement)) {
        if (value instanceof Node) c.append(value);
        else c.textContent = String(value);
      }
      r.append(c);
    });
    body.append(r);
  }
  t.append(head, body);
  wrap.append(t);
  block.append(wrap);
  return block;
}

// ---- editing --------------------------------------------------------------------------

function editForm(mine, section, title, claims) {
  const form = document.createElement("form");
  form.className = "report-edit";
  form.noValidate = true;
  const label = document.createElement("label");
  label.htmlFor = `report-edit-${section}`;
  label.textContent = `${title}: one statement per line`;
  const area = document.createElement("textarea");
  area.id = `report-edit-${section}`;
  area.rows = Math.max(4, claims.length + 2);
  area.maxLength = 20000;
  area.value = claims.map((c) => c.text).join("\n");
  const help = document.createElement("p");
  help.className = "hint";
  help.textContent =
    "Statements you leave unchanged keep their sources. New or reworded ones are marked as written by you.";
  const status = document.createElement("p");
  status.className = "ok-text";
  status.setAttribute("role", "status");
  const error = document.createElement("p");
  error.className = "error";
  error.setAttribute("role", "alert");
  error.hidden = true;
  const save = document.createElement("button");
  save.type = "submit";
  save.className = "primary";
  save.textContent = "Save";
  const cancel = document.createElement("button");
  cancel.type = "button";
  cancel.className = "secondary";
  cancel.textContent = "Cancel";
  cancel.addEventListener("click", () => {
    mine.editing.delete(section);
    renderReport(mine);
  });
  const actions = document.createElement("p");
  actions.className = "actions";
  actions.append(save, cancel);
  form.append(label, area, help, actions, status, error);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    void saveSection(mine, section, area, save, status, error);
  });
  return form;
}

async function saveSection(mine, section, area, save, status, error) {
  const previous = new Map(mine.report.content[section].map((c) => [c.text.trim(), c]));
  const value = area.value
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "")
    .map((text) => previous.get(text) ?? { text, support: "clinician", citations: [] });
  error.hidden = true;
  save.disabled = true;
  status.textContent = "Saving...";
  try {
    await api(`/api/v1/reports/${encodeURIComponent(mine.reportId)}`, {
      method: "PATCH",
      body: { revision: mine.report.revision, section, value },
    });
    if (state !== mine) return;
    mine.editing.delete(section);
    byId("report-status").textContent = `${SECTION_NAMES[section]} saved.`;
    announce(byId("report-status").textContent);
    await loadReport(mine);
  } catch (caught) {
    if (state !== mine) return;
    status.textContent = "";
    const stale = caught instanceof ApiError && caught.details?.reason === "stale_revision";
    showErrorIn(
      error,
      stale
        ? "Someone else saved this report after you opened it, so your change was not saved. Copy your text, choose Reload to see their version, then edit again."
        : caught,
    );
  } finally {
    save.disabled = false;
  }
}

// ---- sources --------------------------------------------------------------------------

function showSource(button) {
  if (!state?.report) return;
  const c = JSON.parse(button.dataset.cite ?? "{}");
  const source = state.report.sources?.[c.chunkId];
  const where = byId("report-source-where");
  where.textContent = `${state.filenames.get(c.documentId) ?? "Document"}, page ${c.page}`;
  where.hidden = false;
  byId("report-source-hint").hidden = true;
  const pre = byId("report-source-text");
  pre.hidden = false;
  if (source) {
    const start = Math.max(0, c.charStart - source.charStart);
    const end = Math.min(source.text.length, c.charEnd - source.charStart);
    const mark = document.createElement("mark");
    mark.textContent = source.text.slice(start, end);
    pre.replaceChildren(source.text.slice(0, start), mark, source.text.slice(end));
  } else {
    // The document was processed again since: its old text is no longer current.
    const mark = document.createElement("mark");
    mark.textContent = c.quote;
    pre.replaceChildren("Quoted (the document has been processed again since): ", mark);
  }
  const open = /** @type {HTMLAnchorElement} */ (byId("report-source-open"));
  open.href = `#/patients/${state.patientId}/documents/${c.documentId}/page/${c.page}`;
  open.hidden = false;
  for (const b of byId("report-sections").querySelectorAll("button.cite[aria-pressed]"))
    b.removeAttribute("aria-pressed");
  button.setAttribute("aria-pressed", "true");
  byId("report-source").focus();
}

function hideSource() {
  byId("report-source-where").hidden = true;
  byId("report-source-text").hidden = true;
  byId("report-source-text").replaceChildren();
  byId("report-source-open").hidden = true;
  byId("report-source-hint").hidden = false;
}

// ---- history, finalize, amend ---------------------------------------------------------

async function toggleHistory() {
  const panel = byId("report-history");
  const toggle = byId("report-history-toggle");
  panel.hidden = !panel.hidden;
  toggle.setAttribute("aria-expanded", String(!panel.hidden));
  if (!panel.hidden && state) await loadHistory(state);
}

async function loadHistory(mine) {
  try {
    const { edits } = await api(`/api/v1/reports/${encodeURIComponent(mine.reportId)}/history`);
    if (state !== mine) return;
    byId("report-history-list").replaceChildren(
      ...edits
        .slice()
        .reverse()
        .map((e) => {
          const li = document.createElement("li");
          const head = document.createElement("p");
          head.textContent = `${formatDateTime(e.editedAt)}: ${SECTION_NAMES[e.section] ?? e.section} edited (revision ${e.revision}) by ${e.editedByName ?? `user ${String(e.editedBy).slice(0, 8)}`}`;
          const details = document.createElement("details");
          const summary = document.createElement("summary");
          summary.textContent = "Before and after";
          const before = document.createElement("pre");
          before.className = "source-text";
          before.textContent = `Before:\n${describeValue(e.before)}`;
          const after = document.createElement("pre");
          after.className = "source-text";
          after.textContent = `After:\n${describeValue(e.after)}`;
          details.append(summary, before, after);
          li.append(head, details);
          return li;
        }),
    );
    byId("report-history-empty").hidden = edits.length > 0;
  } catch (caught) {
    if (state === mine) showErrorIn(byId("report-error"), caught);
  }
}

function describeValue(value) {
  if (!Array.isArray(value) || value.length === 0) return "(empty)";
  return value
    .map((item) => `- ${item.text ?? item.name ?? item.substance ?? JSON.stringify(item)}`)
    .join("\n");
}

async function finalize() {
  if (!state?.report) return;
  const mine = state;
  const unsupported = mine.report.unsupportedCount;
  const confirmed = await confirmAction({
    title: "Finalize and sign this report?",
    message: `You sign revision ${mine.report.revision} as you see it now. It cannot be edited afterwards (an amendment makes a new version).${unsupported > 0 ? ` ${unsupported} statement(s) still have no verified source.` : ""}`,
    confirmLabel: "Finalize and sign",
  });
  if (!confirmed || state !== mine) return;
  const button = /** @type {HTMLButtonElement} */ (byId("report-finalize"));
  button.disabled = true;
  try {
    await api(`/api/v1/reports/${encodeURIComponent(mine.reportId)}/finalize`, {
      method: "POST",
      body: { revision: mine.report.revision },
    });
    if (state !== mine) return;
    byId("report-status").textContent = "The report is finalized and signed.";
    announce(byId("report-status").textContent);
    await loadReport(mine);
  } catch (caught) {
    if (state !== mine) return;
    showErrorIn(
      byId("report-error"),
      caught instanceof ApiError && caught.details?.reason === "stale_revision"
        ? "Someone else changed the report since you opened it. Reload, review their change, then finalize."
        : caught,
    );
  } finally {
    button.disabled = false;
  }
}

async function amend() {
  if (!state?.report) return;
  const mine = state;
  try {
    const { report } = await api(`/api/v1/reports/${encodeURIComponent(mine.reportId)}/amend`, {
      method: "POST",
      body: {},
    });
    if (state !== mine) return;
    go(`#/patients/${mine.patientId}/reports/${report.id}`);
  } catch (caught) {
    if (state === mine) showErrorIn(byId("report-error"), caught);
  }
}

// ---- exports and sharing ----------------------------------------------------------------

/** Saves a Blob under a file name (ids only in names: they end up in download folders). */
function save(blob, name) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  a.hidden = true;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

async function downloadPdf() {
  if (!state?.reportId) return;
  const mine = state;
  try {
    const blob = await api(`/api/v1/reports/${encodeURIComponent(mine.reportId)}/pdf`, { blob: true });
    if (state !== mine) return;
    save(blob, `client-health-report-${mine.reportId}.pdf`);
    byId("report-status").textContent = "PDF downloaded.";
  } catch (caught) {
    if (state === mine) showErrorIn(byId("report-error"), caught);
  }
}

async function downloadFhir() {
  if (!state) return;
  const mine = state;
  try {
    const blob = await api(`/api/v1/patients/${encodeURIComponent(mine.patientId)}/fhir`, { blob: true });
    if (state !== mine) return;
    save(blob, `patient-${mine.patientId}-fhir.json`);
    byId("report-draft-status").textContent = "FHIR R4 Bundle downloaded.";
  } catch (caught) {
    if (state === mine) showErrorIn(byId("reports-error"), caught);
  }
}

async function openShareDialog() {
  if (!state?.reportId) return;
  const dialog = /** @type {HTMLDialogElement} */ (byId("share-dialog"));
  byId("share-new").hidden = true;
  /** @type {HTMLInputElement} */ (byId("share-url")).value = "";
  byId("share-copy-status").textContent = "";
  clearErrorIn(byId("share-error"));
  dialog.showModal();
  byId("share-title").focus();
  await loadShares(state);
}

async function loadShares(mine) {
  try {
    const { shares } = await api(`/api/v1/reports/${encodeURIComponent(mine.reportId)}/shares`);
    if (state !== mine) return;
    const now = Date.now();
    byId("share-list").replaceChildren(
      ...shares.map((share) => {
        const li = document.createElement("li");
        const live = !share.revokedAt && Date.parse(share.expiresAt) > now;
        const words = share.revokedAt
          ? `Withdrawn ${formatDateTime(share.revokedAt)}`
          : live
            ? `Valid until ${formatDateTime(share.expiresAt)}`
            : `Expired ${formatDateTime(share.expiresAt)}`;
        li.append(
          `Created ${formatDateTime(share.createdAt)}. ${words}. Opened ${share.viewCount} time(s). `,
        );
        if (live) {
          const revoke = document.createElement("button");
          revoke.type = "button";
          revoke.className = "danger small";
          revoke.dataset.revoke = share.id;
          revoke.textContent = "Withdraw";
          revoke.setAttribute("aria-label", `Withdraw the link created ${formatDateTime(share.createdAt)}`);
          li.append(revoke);
        }
        return li;
      }),
    );
    byId("share-list-empty").hidden = shares.length > 0;
  } catch (caught) {
    if (state === mine) showErrorIn(byId("share-error"), caught);
  }
}

async function createShare() {
  if (!state?.reportId) return;
  const mine = state;
  const button = /** @type {HTMLButtonElement} */ (byId("share-create"));
  button.disabled = true;
  clearErrorIn(byId("share-error"));
  try {
    const days = Number(/** @type {HTMLSelectElement} */ (byId("share-days")).value);
    const made = await api(`/api/v1/reports/${encodeURIComponent(mine.reportId)}/share`, {
      method: "POST",
      body: { expiresInDays: days },
    });
    if (state !== mine) return;
    const input = /** @type {HTMLInputElement} */ (byId("share-url"));
    input.value = made.url ?? new URL(made.path, location.origin).toString();
    byId("share-new").hidden = false;
    input.focus();
    input.select();
    announce("Link created. It is shown only now.");
    await loadShares(mine);
  } catch (caught) {
    if (state === mine) showErrorIn(byId("share-error"), caught);
  } finally {
    button.disabled = false;
  }
}

async function revokeShare(shareId, button) {
  if (!state?.reportId) return;
  const mine = state;
  button.disabled = true;
  try {
    await api(
      `/api/v1/reports/${encodeURIComponent(mine.reportId)}/shares/${encodeURIComponent(shareId)}/revoke`,
      {
        method: "POST",
        body: {},
      },
    );
    if (state !== mine) return;
    announce("Link withdrawn.");
    await loadShares(mine);
    byId("share-title").focus();
  } catch (caught) {
    button.disabled = false;
    if (state === mine) showErrorIn(byId("share-error"), caught);
  }
}

// ---- small helpers --------------------------------------------------------------------

function cell(value) {
  const td = document.createElement("td");
  td.textContent = value;
  return td;
}

function hint(text) {
  const p = document.createElement("p");
  p.className = "hint";
  p.textContent = text;
  return p;
}

function pill(text, kind) {
  const span = document.createElement("span");
  span.className = `badge ${kind}`;
  span.textContent = text;
  return span;
}
