// Adding documents: files dropped on the drop zone or chosen with the picker go, each on its
// own, through the three steps of a presigned upload, then processing is followed:
//   1. POST .../documents/presign-upload {filename, contentType, size} -> a signed upload URL
//   2. PUT the bytes straight to storage (another origin; the bytes never pass through the API)
//      with XMLHttpRequest, for its upload progress events
//   3. POST .../documents/register-upload {uploadId}: the server checks the bytes and starts
//      processing; GET /api/v1/documents/{id} names the job (latestJob), polled by jobs.js.
// The page refuses early what the server would refuse anyway (type, size, a file that is not
// what its name says), so nobody waits for an upload that cannot succeed.
import { ApiError, api } from "./api.js";
import { announce, byId, describeError } from "./dom.js";
import { describeJob, isFinished, jobView, watchJob } from "./jobs.js";
import { formatBytes } from "./patient-labels.js";

/** The server's default MAX_UPLOAD_BYTES; the server's own limit is checked again at presign. */
export const MAX_UPLOAD_BYTES = 25 * 1024 * 1024;
/** Two files at a time: a clinic's uplink, not the page, is the bottleneck. */
const CONCURRENT_UPLOADS = 2;

const TYPE_BY_EXTENSION = {
  pdf: "application/pdf",
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  tif: "image/tiff",
  tiff: "image/tiff",
  txt: "text/plain",
};
const ALLOWED = new Set(Object.values(TYPE_BY_EXTENSION));
const TYPE_WORDS = {
  "application/pdf": "a PDF",
  "image/png": "a PNG image",
  "image/jpeg": "a JPEG image",
  "image/tiff": "a TIFF image",
  "text/plain": "plain text",
};

/** @type {{ patientId: () => string | null, registered: (document: any) => void }} */
let hooks = { patientId: () => null, registered: () => {} };
/** @type {Set<Upload>} */
const active = new Set();
/** @type {Upload[]} */
const waiting = [];
let running = 0;

/**
 * @param {{ patientId: () => string | null, registered: (document: any) => void }} callbacks
 *   patientId: the patient whose page is open; registered: a document was added (with latestJob)
 */
export function setUpUploads(callbacks) {
  hooks = callbacks;
  const input = /** @type {HTMLInputElement} */ (byId("upload-input"));
  input.addEventListener("change", () => {
    if (input.files) addFiles([...input.files]);
    input.value = "";
  });
  const zone = byId("dropzone");
  let depth = 0;
  zone.addEventListener("dragenter", (event) => {
    event.preventDefault();
    depth++;
    zone.classList.add("dragging");
  });
  zone.addEventListener("dragover", (event) => {
    event.preventDefault();
    if (event.dataTransfer) event.dataTransfer.dropEffect = "copy";
  });
  zone.addEventListener("dragleave", () => {
    depth = Math.max(depth - 1, 0);
    if (depth === 0) zone.classList.remove("dragging");
  });
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    depth = 0;
    zone.classList.remove("dragging");
    addFiles([...(event.dataTransfer?.files ?? [])]);
  });
  // A file dropped next to the zone must not replace the page with the file itself.
  for (const type of ["dragover", "drop"]) {
    window.addEventListener(type, (event) => {
      if (!zone.contains(/** @type {Node} */ (event.target))) event.preventDefault();
    });
  }
  byId("upload-list").addEventListener("click", (event) => {
    const button =
      event.target instanceof Element ? event.target.closest("button[data-upload-action]") : null;
    if (!(button instanceof HTMLButtonElement)) return;
    const item = button.closest("li");
    const upload = [...active, ...waiting].find((u) => u.item === item) ?? finished.get(item);
    const action = button.dataset.uploadAction;
    if (action === "cancel") upload?.cancel();
    else if (action === "dismiss") item?.remove();
    else if (action === "process" && upload) void upload.startProcessing(button);
  });
}

/** @type {WeakMap<Element, Upload>} uploads that are done but still on the page */
const finished = new WeakMap();

/** Sign-out or the session ended: every transfer stops and the list empties. */
export function abortUploads() {
  for (const upload of [...active, ...waiting]) upload.cancel({ quiet: true });
  waiting.length = 0;
  byId("upload-list").replaceChildren();
}

/** @param {File[]} files */
export function addFiles(files) {
  const patientId = hooks.patientId();
  if (!patientId || files.length === 0) return;
  for (const file of files) {
    const upload = new Upload(file, patientId);
    byId("upload-list").append(upload.item);
    waiting.push(upload);
  }
  announce(files.length === 1 ? `Adding ${files[0]?.name}.` : `Adding ${files.length} files.`);
  pump();
}

function pump() {
  while (running < CONCURRENT_UPLOADS && waiting.length > 0) {
    const upload = /** @type {Upload} */ (waiting.shift());
    running++;
    active.add(upload);
    void upload.run().finally(() => {
      running--;
      active.delete(upload);
      finished.set(upload.item, upload);
      pump();
    });
  }
}

/** The type the file claims (by its type, else its name's extension); null when not allowed. */
export function declaredTypeOf(file) {
  if (ALLOWED.has(file.type)) return file.type;
  const extension = /\.([A-Za-z0-9]{1,5})$/.exec(file.name)?.[1]?.toLowerCase() ?? "";
  return TYPE_BY_EXTENSION[/** @type {keyof typeof TYPE_BY_EXTENSION} */ (extension)] ?? null;
}

const startsWith = (bytes, signature) => signature.every((b, i) => bytes[i] === b);

/** What the first bytes say the file is, as the server decides it; "text" when none matches. */
export function sniff(bytes) {
  if (startsWith(bytes, [0x25, 0x50, 0x44, 0x46, 0x2d])) return "application/pdf";
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return "image/png";
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return "image/jpeg";
  if (startsWith(bytes, [0x49, 0x49, 0x2a, 0x00]) || startsWith(bytes, [0x4d, 0x4d, 0x00, 0x2a]))
    return "image/tiff";
  return "text";
}

/**
 * The reason the server would refuse this file, found before uploading it; null when it looks
 * acceptable (the server checks everything again, and more).
 * @param {File} file
 * @returns {Promise<string | null>}
 */
export async function checkFile(file) {
  const declared = declaredTypeOf(file);
  if (!declared) return "This type of file is not accepted. Use PDF, PNG, JPEG, TIFF or plain text.";
  if (file.size === 0) return "The file is empty.";
  if (file.size > MAX_UPLOAD_BYTES) {
    return `The file (${formatBytes(file.size)}) is over the ${formatBytes(MAX_UPLOAD_BYTES)} limit.`;
  }
  const head = new Uint8Array(await file.slice(0, 1024).arrayBuffer());
  const found = sniff(head);
  if (declared === "text/plain") {
    if (found !== "text")
      return `The file is ${TYPE_WORDS[found]}, not plain text. Rename it, or choose the right file.`;
    // Markup claiming to be text is refused by the server: it could become script if served as HTML.
    const start = new TextDecoder("utf-8", { fatal: false }).decode(head).replace(/^\uFEFF?\s*/, "");
    if (start.startsWith("<")) return "The file looks like a web page or markup, not plain text.";
    return null;
  }
  if (found !== declared) {
    return found === "text"
      ? `The file is not ${TYPE_WORDS[declared]}.`
      : `The file is ${TYPE_WORDS[found]}, not ${TYPE_WORDS[declared]}. Rename it, or choose the right file.`;
  }
  return null;
}

class Upload {
  /**
   * @param {File} file
   * @param {string} patientId
   */
  constructor(file, patientId) {
    this.file = file;
    this.patientId = patientId;
    this.cancelled = false;
    /** @type {XMLHttpRequest | null} */
    this.xhr = null;
    /** @type {string | null} */
    this.documentId = null;
    /** @type {(() => void) | null} */
    this.stopWatching = null;
    this.item = document.createElement("li");
    this.item.className = "upload";
    this.item.dataset.state = "waiting";
    const title = document.createElement("p");
    title.className = "upload-title";
    const name = document.createElement("strong");
    name.textContent = file.name;
    const size = document.createElement("span");
    size.className = "hint";
    size.textContent = ` ${formatBytes(file.size)}`;
    title.append(name, size);
    this.status = document.createElement("p");
    this.status.className = "upload-status";
    this.status.textContent = "Waiting";
    this.bar = document.createElement("progress");
    this.bar.max = 100;
    this.bar.value = 0;
    this.bar.setAttribute("aria-label", `Upload of ${file.name}`);
    this.actions = document.createElement("p");
    this.actions.className = "actions";
    this.item.append(title, this.status, this.bar, this.actions);
    this.setButtons(["cancel"]);
  }

  /** @param {Array<"cancel" | "dismiss" | "process">} which */
  setButtons(which) {
    const words = { cancel: "Cancel", dismiss: "Dismiss", process: "Start processing" };
    this.actions.replaceChildren(
      ...which.map((action) => {
        const button = document.createElement("button");
        button.type = "button";
        button.className = "secondary small";
        button.dataset.uploadAction = action;
        button.textContent = words[action];
        button.setAttribute("aria-label", `${words[action]}: ${this.file.name}`);
        return button;
      }),
    );
  }

  /**
   * @param {string} state waiting | checking | uploading | registering | processing | done | not-processed | failed | cancelled
   * @param {string} text
   */
  show(state, text) {
    this.item.dataset.state = state;
    this.status.textContent = text;
  }

  fail(text, { announceIt = true } = {}) {
    this.show("failed", text);
    this.bar.hidden = true;
    this.setButtons(["dismiss"]);
    if (announceIt) announce(`${this.file.name}: ${text}`);
  }

  /** @param {{ quiet?: boolean }} [options] */
  cancel({ quiet = false } = {}) {
    if (this.documentId) return; // registered: it is a document now, deleted from the list
    this.cancelled = true;
    this.xhr?.abort();
    const at = waiting.indexOf(this);
    if (at >= 0) waiting.splice(at, 1);
    this.show("cancelled", "Cancelled; nothing was added.");
    this.bar.hidden = true;
    this.setButtons(["dismiss"]);
    if (!quiet) announce(`Cancelled ${this.file.name}.`);
  }

  async run() {
    if (this.cancelled) return;
    this.show("checking", "Checking the file");
    const problem = await checkFile(this.file);
    if (this.cancelled) return;
    if (problem) return this.fail(problem);

    const base = `/api/v1/patients/${encodeURIComponent(this.patientId)}/documents`;
    let presigned;
    try {
      presigned = await api(`${base}/presign-upload`, {
        method: "POST",
        body: { filename: this.file.name, contentType: declaredTypeOf(this.file), size: this.file.size },
      });
    } catch (error) {
      if (!this.cancelled) this.fail(refusalText(error));
      return;
    }
    if (this.cancelled) return;

    this.show("uploading", "Uploading: 0%");
    try {
      await this.put(presigned.uploadUrl, presigned.uploadHeaders);
    } catch (error) {
      if (!this.cancelled) this.fail(error instanceof Error ? error.message : "The upload failed.");
      return;
    }
    if (this.cancelled) return;

    this.show("registering", "Checking the uploaded file");
    this.bar.removeAttribute("value"); // indeterminate while the server checks the bytes
    let registered;
    try {
      ({ document: registered } = await api(`${base}/register-upload`, {
        method: "POST",
        body: { uploadId: presigned.uploadId },
      }));
    } catch (error) {
      this.fail(refusalText(error));
      return;
    }
    this.documentId = registered.id;
    this.bar.hidden = true;
    // Registration started processing; the document names its job.
    let document = registered;
    try {
      ({ document } = await api(`/api/v1/documents/${encodeURIComponent(registered.id)}`));
    } catch {
      // The upload is done either way; the list's reload will show its state.
    }
    hooks.registered(document);
    this.follow(document.latestJob);
  }

  /** @param {{ id: string, status: string } | null} job */
  follow(job) {
    if (!job) {
      this.show("done", "Uploaded. Processing has not started.");
      this.setButtons(["process", "dismiss"]);
      announce(`Uploaded ${this.file.name}; processing has not started.`);
      return;
    }
    // The job view below says how processing goes; this line keeps saying how the upload went.
    this.show("processing", "Uploaded and checked.");
    announce(`Uploaded ${this.file.name}. Processing has started.`);
    this.setButtons(["dismiss"]);
    const view = jobView();
    this.item.querySelector(".job")?.remove();
    this.item.insertBefore(view.element, this.actions);
    this.stopWatching?.();
    this.stopWatching = watchJob(job.id, (update) => {
      if (update.problem) {
        if (update.gone) this.show("failed", "The document was deleted.");
        return;
      }
      if (!update.job) return;
      view.update(update.job);
      const done = isFinished(update.job.status);
      this.item.dataset.state = done
        ? update.job.status === "succeeded"
          ? "done"
          : "not-processed"
        : "processing";
      if (done) {
        this.stopWatching = null;
        announce(`${this.file.name}: ${describeJob(update.job)}.`);
      }
    });
  }

  /** POST .../process for an upload whose processing did not start on its own. */
  async startProcessing(button) {
    if (!this.documentId) return;
    button.disabled = true;
    try {
      const started = await api(`/api/v1/documents/${encodeURIComponent(this.documentId)}/process`, {
        method: "POST",
        body: {},
      });
      this.follow({ id: started.jobId, status: started.status });
    } catch (error) {
      button.disabled = false;
      this.show("done", `Processing could not be started: ${describeError(error)}`);
    }
  }

  /**
   * PUTs the file to the signed URL. Resolves once storage stored it; rejects with a message
   * for the page otherwise.
   * @param {string} url
   * @param {Record<string, string>} headers
   */
  put(url, headers) {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      this.xhr = xhr;
      xhr.open("PUT", url);
      for (const [name, value] of Object.entries(headers ?? {})) xhr.setRequestHeader(name, value);
      xhr.upload.addEventListener("progress", (event) => {
        if (!event.lengthComputable) return;
        const percent = Math.floor((event.loaded / event.total) * 100);
        this.bar.value = percent;
        this.status.textContent = `Uploading: ${percent}%`;
      });
      xhr.addEventListener("load", () => {
        this.xhr = null;
        if (xhr.status >= 200 && xhr.status < 300) {
          this.bar.value = 100;
          resolve(undefined);
        } else {
          reject(new Error(`Storage did not accept the file (HTTP ${xhr.status}). Try again.`));
        }
      });
      xhr.addEventListener("error", () => {
        this.xhr = null;
        reject(new Error("The upload was interrupted: storage could not be reached. Try again."));
      });
      xhr.addEventListener("abort", () => {
        this.xhr = null;
        reject(new Error("Cancelled."));
      });
      xhr.send(this.file);
    });
  }
}

/** The server's refusal in the page's words: its message names the check that failed. */
function refusalText(error) {
  if (error instanceof ApiError && error.code === "validation_failed") {
    const fields = /** @type {any} */ (error.details)?.fields;
    if (Array.isArray(fields) && fields.length > 0) {
      const parts = fields.map((f) => `${f.field} ${f.message}`);
      return `Refused: ${parts.join("; ")}.${error.requestId ? ` Reference: ${error.requestId}` : ""}`;
    }
  }
  return describeError(error);
}
