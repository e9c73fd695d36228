// The document viewer: one page of a document as uploaded (a PDF page drawn by pdf.js, an image)
// beside the text MedCHR read from it, with every extracted fact highlighted and listed.
// Reached by #/patients/<id>/documents/<document id>/page/<n> (a record or report source link,
// or a document row's View button). The original comes through a one-minute signed link
// (audited as document.download_url_issued) and stays in memory only while the document is
// open: closing the viewer drops it and revokes its object URL.
import { api } from "./api.js";
import { announce, byId, clearErrorIn, showErrorIn } from "./dom.js";
import { describeReview } from "./patient-labels.js";

const PDFJS = "/vendor/pdfjs/pdf.min.mjs";
const PDFJS_WORKER = "/vendor/pdfjs/pdf.worker.min.mjs";
const PDFJS_FONTS = "/vendor/pdfjs/standard_fonts/";
const PDFJS_WASM = "/vendor/pdfjs/wasm/";

export const FACT_KIND_NAMES = {
  lab: "Lab result",
  medication: "Medication",
  diagnosis: "Diagnosis",
  allergy: "Allergy",
  vital: "Vital sign",
};

const SOURCE_NAMES = {
  text_layer: "Read from the PDF's text layer.",
  ocr: "Read by OCR from the page image.",
  text_file: "The document is a text file: its text is the original.",
};

/**
 * @typedef {{ id: string, kind: keyof typeof FACT_KIND_NAMES, label: string, charStart: number,
 *   charEnd: number, negated: boolean, review?: string[] }} PageFact
 */

/**
 * The open document: its id, the bytes of the original once fetched (kept while paging), the
 * pdf.js document for a PDF, and a counter that makes a late answer for an earlier page a no-op.
 * @type {{ patientId: string, documentId: string, page: number, generation: number,
 *   original: Promise<{ kind: "pdf", pdf: any } | { kind: "image", url: string } | { kind: "none", reason: string }> | null,
 *   abort: AbortController } | null}
 */
let open = null;
let generation = 0;

/**
 * Splits a page's text at every fact boundary: each piece says which facts cover it, so
 * overlapping facts (a diagnosis inside a medication line) are all marked without nesting.
 * @param {string} text
 * @param {PageFact[]} facts
 * @returns {{ text: string, facts: PageFact[] }[]}
 */
export function segmentText(text, facts) {
  const cuts = new Set([0, text.length]);
  const spans = facts
    .map((f) => ({ fact: f, start: clamp(f.charStart, text.length), end: clamp(f.charEnd, text.length) }))
    .filter((s) => s.end > s.start);
  for (const s of spans) {
    cuts.add(s.start);
    cuts.add(s.end);
  }
  const points = [...cuts].sort((a, b) => a - b);
  const pieces = [];
  for (let i = 0; i + 1 < points.length; i++) {
    const start = /** @type {number} */ (points[i]);
    const end = /** @type {number} */ (points[i + 1]);
    if (end <= start) continue;
    pieces.push({
      text: text.slice(start, end),
      facts: spans.filter((s) => s.start <= start && s.end >= end).map((s) => s.fact),
    });
  }
  return pieces;
}

const clamp = (n, max) => Math.max(0, Math.min(Number.isFinite(n) ? n : 0, max));

export function setUpDocumentViewer() {
  byId("viewer-facts").addEventListener("click", (event) => {
    const button = /** @type {HTMLElement} */ (event.target).closest("button[data-fact]");
    if (button instanceof HTMLButtonElement) showFact(button.dataset.fact ?? "");
  });
}

/**
 * Shows a page of a document of the patient.
 * @param {{ patientId: string, documentId: string, page: number, filename: string | null }} target
 */
export async function openDocumentViewer(target) {
  const sameDocument = open && open.documentId === target.documentId && open.patientId === target.patientId;
  if (!sameDocument) closeDocumentViewer();
  const mine =
    sameDocument && open
      ? open
      : {
          patientId: target.patientId,
          documentId: target.documentId,
          page: target.page,
          generation: ++generation,
          original: null,
          abort: new AbortController(),
        };
  mine.page = target.page;
  const turn = ++mine.generation;
  open = mine;
  const section = byId("document-viewer");
  section.hidden = false;
  section.setAttribute("aria-busy", "true");
  clearErrorIn(byId("viewer-error"));
  byId("viewer-title").textContent = target.filename ?? "Document";
  byId("viewer-page-of").textContent = `Page ${target.page}`;
  setPager(mine, target.page, null);
  byId("viewer-text").replaceChildren();
  byId("viewer-facts").replaceChildren();
  byId("viewer-facts-empty").hidden = true;
  byId("viewer-source").textContent = "";
  byId("viewer-original").replaceChildren(hint("Loading the original page…"));

  let page;
  try {
    page = await api(
      `/api/v1/documents/${encodeURIComponent(mine.documentId)}/pages/${encodeURIComponent(String(target.page))}`,
    );
  } catch (caught) {
    if (open !== mine || mine.generation !== turn) return;
    section.removeAttribute("aria-busy");
    byId("viewer-original").replaceChildren();
    const pageCount = caught?.details?.pageCount;
    if (typeof pageCount === "number" && pageCount > 0) setPager(mine, target.page, pageCount);
    showErrorIn(byId("viewer-error"), caught);
    byId("viewer-title").focus();
    return;
  }
  if (open !== mine || mine.generation !== turn) return;
  byId("viewer-title").textContent = page.document.filename;
  byId("viewer-page-of").textContent = `Page ${page.page} of ${page.pageCount}`;
  setPager(mine, page.page, page.pageCount);
  byId("viewer-source").textContent =
    page.source === "ocr" && typeof page.ocrConfidence === "number"
      ? `${SOURCE_NAMES.ocr} OCR confidence ${Math.round(page.ocrConfidence)}%.`
      : (SOURCE_NAMES[page.source] ?? "");
  renderText(page.text, page.facts);
  renderFacts(page.facts);
  section.removeAttribute("aria-busy");
  byId("viewer-title").focus();
  section.scrollIntoView({ block: "start" });
  announce(`Page ${page.page} of ${page.pageCount}: ${page.facts.length} facts read.`);
  await renderOriginal(mine, turn, page);
}

function setPager(mine, page, pageCount) {
  const base = `#/patients/${mine.patientId}/documents/${mine.documentId}/page/`;
  const prev = /** @type {HTMLAnchorElement} */ (byId("viewer-prev"));
  const next = /** @type {HTMLAnchorElement} */ (byId("viewer-next"));
  prev.hidden = page <= 1;
  prev.href = `${base}${Math.max(1, page - 1)}`;
  next.hidden = pageCount === null || page >= pageCount;
  next.href = `${base}${page + 1}`;
  /** @type {HTMLAnchorElement} */ (byId("viewer-close")).href = `#/patients/${mine.patientId}`;
}

/** @param {string} text @param {PageFact[]} facts */
function renderText(text, facts) {
  const nodes = segmentText(text, facts).map((piece) => {
    if (piece.facts.length === 0) return document.createTextNode(piece.text);
    const mark = document.createElement("mark");
    const first = /** @type {PageFact} */ (piece.facts[0]);
    mark.className = `fact fact-${first.kind}${piece.facts.some((f) => f.negated) ? " fact-negated" : ""}${piece.facts.some((f) => (f.review ?? []).length > 0) ? " fact-review" : ""}`;
    mark.dataset.facts = piece.facts.map((f) => f.id).join(" ");
    mark.title = piece.facts.map((f) => `${FACT_KIND_NAMES[f.kind] ?? f.kind}: ${f.label}`).join("\n");
    mark.textContent = piece.text;
    return mark;
  });
  byId("viewer-text").replaceChildren(...nodes);
}

/** @param {PageFact[]} facts */
function renderFacts(facts) {
  const items = facts.map((fact) => {
    const li = document.createElement("li");
    li.className = "fact-item";
    const kind = document.createElement("span");
    kind.className = `fact-kind fact fact-${fact.kind}`;
    kind.textContent = FACT_KIND_NAMES[fact.kind] ?? fact.kind;
    const button = document.createElement("button");
    button.type = "button";
    button.className = "fact-link";
    button.dataset.fact = fact.id;
    button.textContent = fact.label;
    button.setAttribute(
      "aria-label",
      `${FACT_KIND_NAMES[fact.kind] ?? fact.kind}: ${fact.label}. Show in the text`,
    );
    li.append(kind, " ", button);
    if ((fact.review ?? []).length > 0) {
      const note = document.createElement("span");
      note.className = "review-note";
      note.textContent = describeReview(fact.review ?? []);
      li.append(note);
    }
    return li;
  });
  byId("viewer-facts").replaceChildren(...items);
  byId("viewer-facts-empty").hidden = items.length > 0;
}

function showFact(factId) {
  const marks = [...byId("viewer-text").querySelectorAll("mark.fact")].filter((m) =>
    /** @type {HTMLElement} */ (m.dataset.facts ?? "").split(" ").includes(factId),
  );
  for (const m of byId("viewer-text").querySelectorAll("mark.active")) m.classList.remove("active");
  for (const m of marks) m.classList.add("active");
  marks[0]?.scrollIntoView({ block: "center" });
}

// ---- the original ----------------------------------------------------------------------

async function renderOriginal(mine, turn, page) {
  const target = byId("viewer-original");
  const mediaType = page.document.mediaType;
  if (mediaType === "text/plain") {
    target.replaceChildren(
      hint("The original is a text file: the extracted text beside is the file itself."),
    );
    return;
  }
  if (mediaType === "image/tiff") {
    target.replaceChildren(hint("Browsers cannot show TIFF images: download the file to see the original."));
    return;
  }
  try {
    mine.original ??= loadOriginal(mine, mediaType);
    const original = await mine.original;
    if (open !== mine || mine.generation !== turn) return;
    if (original.kind === "image") {
      const img = document.createElement("img");
      img.src = original.url;
      img.alt = `Page ${page.page} of ${page.document.filename} as uploaded`;
      target.replaceChildren(img);
      return;
    }
    if (original.kind === "pdf") {
      if (page.page > original.pdf.numPages) {
        target.replaceChildren(hint("The uploaded file has no such page."));
        return;
      }
      const pdfPage = await original.pdf.getPage(page.page);
      if (open !== mine || mine.generation !== turn) return;
      const canvas = document.createElement("canvas");
      canvas.setAttribute("role", "img");
      canvas.setAttribute("aria-label", `Page ${page.page} of ${page.document.filename} as uploaded`);
      const width = Math.max(320, target.clientWidth || 560);
      const base = pdfPage.getViewport({ scale: 1 });
      const ratio = window.devicePixelRatio || 1;
      const viewport = pdfPage.getViewport({ scale: (width / base.width) * ratio });
      canvas.width = Math.floor(viewport.width);
      canvas.height = Math.floor(viewport.height);
      canvas.style.width = `${Math.floor(viewport.width / ratio)}px`;
      await pdfPage.render({ canvas, canvasContext: canvas.getContext("2d"), viewport }).promise;
      if (open !== mine || mine.generation !== turn) return;
      canvas.dataset.rendered = "true";
      target.replaceChildren(canvas);
      return;
    }
    target.replaceChildren(hint(original.reason));
  } catch (caught) {
    if (open !== mine) return;
    mine.original = null;
    target.replaceChildren(hint("The original page could not be shown. Download the file to see it."));
    if (caught?.name !== "AbortError") showErrorIn(byId("viewer-error"), caught);
  }
}

/** Fetches the uploaded bytes through a one-minute signed link and opens them. */
async function loadOriginal(mine, mediaType) {
  const link = await api(
    `/api/v1/documents/${encodeURIComponent(mine.documentId)}/download-url?expires_in_seconds=60`,
  );
  const response = await fetch(link.url, {
    signal: mine.abort.signal,
    credentials: "omit",
    cache: "no-store",
    referrerPolicy: "no-referrer",
  });
  if (!response.ok) throw new Error("The original could not be fetched.");
  const bytes = new Uint8Array(await response.arrayBuffer());
  if (mediaType === "application/pdf") {
    const pdfjs = await import(PDFJS);
    pdfjs.GlobalWorkerOptions.workerSrc = PDFJS_WORKER;
    const pdf = await pdfjs.getDocument({
      data: bytes,
      standardFontDataUrl: PDFJS_FONTS,
      wasmUrl: PDFJS_WASM,
      // Untrusted files: no eval-compiled fonts, no scripting, no XFA forms, nothing fetched by the PDF.
      isEvalSupported: false,
      enableXfa: false,
      stopAtErrors: false,
    }).promise;
    return { kind: /** @type {const} */ ("pdf"), pdf };
  }
  if (mediaType === "image/png" || mediaType === "image/jpeg") {
    const url = URL.createObjectURL(new Blob([bytes], { type: mediaType }));
    return { kind: /** @type {const} */ ("image"), url };
  }
  return { kind: /** @type {const} */ ("none"), reason: "This file type cannot be shown here." };
}

function hint(text) {
  const p = document.createElement("p");
  p.className = "hint";
  p.textContent = text;
  return p;
}

/** Closes the viewer: nothing of the document stays in the page. */
export function closeDocumentViewer() {
  const closing = open;
  open = null;
  if (closing) {
    closing.abort.abort();
    closing.original
      ?.then((o) => {
        if (o.kind === "image") URL.revokeObjectURL(o.url);
        if (o.kind === "pdf") o.pdf.destroy();
      })
      .catch(() => {});
  }
  const section = document.getElementById("document-viewer");
  if (!section) return;
  section.hidden = true;
  section.removeAttribute("aria-busy");
  byId("viewer-text").replaceChildren();
  byId("viewer-facts").replaceChildren();
  byId("viewer-original").replaceChildren();
  byId("viewer-source").textContent = "";
  byId("viewer-title").textContent = "Document";
  clearErrorIn(byId("viewer-error"));
}
