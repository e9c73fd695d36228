// Administration > PHI egress log: one row per AI call the gateway made for the clinic,
// allowed or refused (which processor, what for, redacted or not, how many identifiers
// removed, how much text left), newest first, with filters and "Load more" over the API's
// cursor. The log holds ids, codes and counts only; the page turns the codes into plain
// words and sums the outcomes of the rows shown. Reading the log is itself audited by the
// API (llm.egress_read), so it is fetched only when the tab is opened or asked to.

import { PROCESSOR_NAMES } from "./admin-ai-policy.js";
import { badge, cell } from "./admin-common.js";
import { api } from "./api.js";
import { byId, clearErrorIn, formError, showErrorIn } from "./dom.js";
import { clearFieldErrors, fieldProblems, showFieldErrors } from "./fields.js";
import { nameFor } from "./labels.js";

const EGRESS = "/api/v1/admin/egress-events";
/** Rows per request; the API allows up to 200 (list-egress-events.ts EGRESS_PAGE_MAX). */
const PAGE_SIZE = 50;

export const PURPOSE_NAMES = {
  extraction: "Reading documents",
  embedding: "Search index",
  draft: "Report draft",
  question: "Question",
};

/** In the order the summary lists them: what left first, then what stayed. */
export const OUTCOME_NAMES = {
  sent: "Sent to the processor",
  on_box: "Answered on-box",
  failed: "Failed",
  refused: "Refused",
};
const OUTCOME_TONES = { sent: "", on_box: "ok", failed: "bad", refused: "muted" };

/** Why external processing was not used (shared/llm/llm-gateway.ts GATEWAY_REFUSAL_CODES). */
export const REASON_NAMES = {
  ai_disabled: "AI turned off for the clinic",
  external_not_allowed: "clinic allows on-box only",
  processor_not_allowed: "clinic does not allow this processor",
  processor_not_in_allowlist: "no BAA for this processor in this deployment",
  no_external_provider: "no external provider configured",
  redaction_unavailable: "identifiers could not be removed, so nothing was sent",
  provider_unavailable: "external provider failed; answered on-box",
};

const SVG = "http://www.w3.org/2000/svg";
/** Seconds matter here: one document's calls fall within the same minute. */
const timeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });
const numberFormat = new Intl.NumberFormat();

/** @type {any[]} the rows shown, newest first */
let events = [];
/** @type {string | null} */
let nextCursor = null;
/** @type {URLSearchParams} the filters the rows on screen answer ("Load more" keeps them) */
let shownQuery = new URLSearchParams();
let generation = 0;

const form = () => /** @type {HTMLFormElement} */ (byId("egress-filters"));
const select = (id) => /** @type {HTMLSelectElement} */ (byId(id));
const dateInput = (id) => /** @type {HTMLInputElement} */ (byId(id));

export function setUpEgress() {
  // The wide table scrolls sideways inside its region; a keyboard user must be able to focus
  // the region to scroll it (WCAG 2.1.1, axe scrollable-region-focusable). Set here because
  // the linter forbids tabindex on a non-interactive element in markup.
  byId("egress-table-region").tabIndex = 0;
  form().addEventListener("submit", (event) => {
    event.preventDefault();
    void search();
  });
  form().addEventListener("input", (event) => {
    if (event.target instanceof HTMLElement && event.target.hasAttribute("aria-invalid")) {
      clearFieldErrors(form());
    }
  });
  byId("egress-clear").addEventListener("click", () => {
    form().reset();
    clearFieldErrors(form());
    clearErrorIn(formError(form()));
    void search();
  });
  byId("egress-more").addEventListener("click", () => void load({ query: shownQuery, more: true }));
  byId("egress-reload").addEventListener("click", () => void load({ query: shownQuery }));
}

/** Opening the tab shows the newest events for the filters as they stand. */
export function showEgressPanel() {
  return search();
}

/** Nothing secret or pending here: the rows stay for when the tab is opened again. */
export function forgetEgressState() {}

export function clearEgressPanel() {
  generation++;
  events = [];
  nextCursor = null;
  shownQuery = new URLSearchParams();
  form().reset();
  clearFieldErrors(form());
  clearErrorIn(formError(form()));
  clearErrorIn(byId("egress-error"));
  byId("egress-body").replaceChildren();
  byId("egress-bars").replaceChildren();
  byId("egress-summary").hidden = true;
  byId("egress-empty").hidden = true;
  byId("egress-empty").textContent = "";
  byId("egress-more").hidden = true;
  byId("egress-status").textContent = "";
}

/** The local day a date input names, as the instant it starts (or ends), ISO 8601. */
function dayBoundary(value, end) {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) return null;
  const [year, month, day] = value.split("-").map(Number);
  const date = end ? new Date(year, month - 1, day, 23, 59, 59, 999) : new Date(year, month - 1, day);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

/** The filters as query parameters, or null after naming the field to fix (nothing sent). */
function readFilters() {
  clearFieldErrors(form());
  clearErrorIn(formError(form()));
  const query = new URLSearchParams();
  for (const [name, id] of [
    ["processor", "egress-processor"],
    ["purpose", "egress-purpose"],
    ["outcome", "egress-outcome"],
  ]) {
    const value = select(id).value;
    if (value) query.set(name, value);
  }
  const from = dateInput("egress-from").value;
  const to = dateInput("egress-to").value;
  const fromIso = from ? dayBoundary(from, false) : null;
  const toIso = to ? dayBoundary(to, true) : null;
  const problems = [];
  if (from && !fromIso) problems.push({ field: "from", message: "is not a date" });
  if (to && !toIso) problems.push({ field: "to", message: "is not a date" });
  if (fromIso && toIso && fromIso > toIso) problems.push({ field: "from", message: "must not be after To" });
  if (problems.length > 0) {
    const { first } = showFieldErrors(form(), problems);
    showErrorIn(formError(form()), "Check the dates: the log was not searched.");
    first?.focus();
    return null;
  }
  if (fromIso) query.set("from", fromIso);
  if (toIso) query.set("to", toIso);
  return query;
}

async function search() {
  const query = readFilters();
  if (!query) return;
  await load({ query });
}

/**
 * @param {{ query: URLSearchParams, more?: boolean }} request
 */
async function load({ query, more = false }) {
  const error = byId("egress-error");
  clearErrorIn(error);
  const asked = ++generation;
  const params = new URLSearchParams(query);
  params.set("limit", String(PAGE_SIZE));
  if (more && nextCursor) params.set("cursor", nextCursor);
  const busy = /** @type {HTMLButtonElement} */ (byId(more ? "egress-more" : "egress-reload"));
  busy.disabled = true;
  try {
    const page = await api(`${EGRESS}?${params}`);
    if (asked !== generation) return;
    events = more ? [...events, ...page.events] : page.events;
    nextCursor = page.nextCursor;
    shownQuery = query;
    render({ filtered: [...query.keys()].length > 0 });
  } catch (caught) {
    if (asked !== generation) return;
    const problems = fieldProblems(caught);
    if (problems.length > 0) {
      // The rows on screen no longer answer the filters: better none than misleading ones.
      events = [];
      nextCursor = null;
      render({ filtered: true });
      const { first, unmatched } = showFieldErrors(form(), problems);
      showErrorIn(formError(form()), caught);
      if (unmatched.length > 0) showErrorIn(error, unmatched.join(" "));
      first?.focus();
    } else {
      showErrorIn(error, caught);
    }
  } finally {
    busy.disabled = false;
  }
}

/** @param {{ filtered: boolean }} state */
function render({ filtered }) {
  byId("egress-body").replaceChildren(...events.map(row));
  const empty = byId("egress-empty");
  empty.hidden = events.length > 0;
  empty.textContent =
    events.length > 0
      ? ""
      : filtered
        ? "No AI calls match these filters."
        : "No AI calls yet. Each document MedCHR reads, and each report it drafts, adds events here.";
  byId("egress-more").hidden = nextCursor === null;
  renderSummary();
  const count = events.length;
  byId("egress-status").textContent =
    count === 0
      ? ""
      : `Showing ${count === 1 ? "1 event" : `${numberFormat.format(count)} events`}${nextCursor ? "; older ones are available" : ""}.`;
}

function row(event) {
  const tr = document.createElement("tr");
  tr.dataset.eventId = event.id;
  tr.dataset.purpose = event.purpose;
  tr.dataset.outcome = event.outcome;

  const time = document.createElement("td");
  const stamp = document.createElement("time");
  stamp.dateTime = event.occurredAt;
  const when = new Date(event.occurredAt);
  stamp.textContent = Number.isNaN(when.getTime()) ? "unknown" : timeFormat.format(when);
  time.append(stamp);

  const outcome = document.createElement("td");
  outcome.append(
    badge(nameFor(OUTCOME_NAMES, event.outcome), /** @type {any} */ (OUTCOME_TONES[event.outcome] ?? "")),
  );

  const model = document.createElement("td");
  const modelCode = document.createElement("code");
  modelCode.textContent = event.model;
  model.append(modelCode);

  tr.append(
    time,
    cell(nameFor(PROCESSOR_NAMES, event.processor)),
    cell(nameFor(PURPOSE_NAMES, event.purpose)),
    outcome,
    cell(event.redactionApplied ? "Yes" : "No"),
    numberCell(event.identifiersRemoved),
    numberCell(event.charsSent),
    model,
    cell(event.reason === null ? "None" : nameFor(REASON_NAMES, event.reason)),
    idCell(event.patientId, "patient"),
    idCell(event.documentId, "document"),
    numberCell(event.latencyMs, " ms"),
  );
  return tr;
}

function numberCell(value, unit = "") {
  const td = cell(`${numberFormat.format(value)}${unit}`);
  td.className = "number";
  return td;
}

/**
 * The first 8 characters of a UUID: enough to tell rows apart and to find the record;
 * the whole id is in the tooltip and read out to screen readers.
 */
function idCell(id, kind) {
  if (id === null) return cell("None");
  const td = document.createElement("td");
  const code = document.createElement("code");
  code.textContent = id.slice(0, 8);
  code.title = id;
  code.setAttribute("aria-label", `${kind} ${id}`);
  code.dataset.id = id;
  td.append(code);
  return td;
}

/** Counts by outcome of the rows shown, each with a bar relative to all of them. */
function renderSummary() {
  const counts = Object.fromEntries(Object.keys(OUTCOME_NAMES).map((outcome) => [outcome, 0]));
  for (const event of events) counts[event.outcome] = (counts[event.outcome] ?? 0) + 1;
  const total = events.length;
  byId("egress-summary").hidden = total === 0;
  byId("egress-bars").replaceChildren(
    ...Object.entries(counts).map(([outcome, count]) => {
      const item = document.createElement("li");
      item.dataset.outcome = outcome;
      const label = document.createElement("span");
      label.className = "bar-label";
      label.textContent = nameFor(OUTCOME_NAMES, outcome);
      const value = document.createElement("span");
      value.className = "bar-count";
      value.textContent = numberFormat.format(count);
      item.append(label, bar(total === 0 ? 0 : count / total, outcome), value);
      return item;
    }),
  );
}

/**
 * A bar as SVG: its width is an attribute, not inline CSS, so the page's style-src 'self'
 * needs no exception. Decorative: the count next to it says the same in words.
 */
function bar(share, outcome) {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("class", "outcome-bar");
  svg.setAttribute("viewBox", "0 0 100 10");
  svg.setAttribute("preserveAspectRatio", "none");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  const track = document.createElementNS(SVG, "rect");
  track.setAttribute("class", "bar-track");
  track.setAttribute("width", "100");
  track.setAttribute("height", "10");
  const fill = document.createElementNS(SVG, "rect");
  fill.setAttribute("class", `bar-fill ${outcome}`);
  // A count above zero stays visible however many rows there are.
  fill.setAttribute("width", String(share === 0 ? 0 : Math.max(1, Math.round(share * 100))));
  fill.setAttribute("height", "10");
  svg.append(track, fill);
  return svg;
}
