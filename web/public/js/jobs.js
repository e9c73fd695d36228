// Following a document's processing job (GET /api/v1/jobs/{id}): one poll loop per job,
// however many parts of the page show it (the upload's progress, the document's row).
// Every ~2 s while the job moves, slower while it stands still, much slower when the server
// cannot be reached or asks us to wait; never once the job is done or nobody is watching.
import { ApiError, api } from "./api.js";

/** Steps of a document.process job, in order, with the words the page uses for them. */
export const STEP_NAMES = {
  extract_text: "Reading the text",
  classify: "Recognising the document",
  extract_facts: "Finding results, medications and diagnoses",
  chunk: "Splitting into passages",
  embed: "Indexing for search",
  finalize: "Adding to the record",
};
export const STEP_ORDER = Object.keys(STEP_NAMES);

const TERMINAL = new Set(["succeeded", "failed", "cancelled"]);

/** Milliseconds: first poll, the pace while nothing changes, and the caps. */
export const POLL = {
  firstMs: 2000,
  /** Each unchanged answer stretches the wait by this factor, up to idleMaxMs. */
  idleFactor: 1.3,
  idleMaxMs: 10_000,
  /** Failures (network, 5xx, 429 without Retry-After) double the wait, up to this. */
  errorMaxMs: 60_000,
};

/**
 * @typedef {{ id: string, status: string, currentStep: string | null, error: { code: string, message: string } | null,
 *   steps: Array<{ step: string, status: string, ms: number | null, attempts: number }> }} Job
 * @typedef {(update: { job?: Job, problem?: unknown, gone?: boolean }) => void} JobListener
 */

/** @type {Map<string, { listeners: Set<JobListener>, timer: ReturnType<typeof setTimeout> | undefined, delay: number, last: string, last_job?: Job, stopped: boolean }>} */
const watched = new Map();

export function isFinished(status) {
  return TERMINAL.has(status);
}

/**
 * Calls `listener` with each new state of the job until it finishes (the last call carries
 * the finished job) or the returned function is called. A job already being watched is
 * not polled twice; a late listener gets the latest state at once.
 * @param {string} jobId
 * @param {JobListener} listener
 * @returns {() => void} stop listening
 */
export function watchJob(jobId, listener) {
  let entry = watched.get(jobId);
  if (!entry) {
    entry = { listeners: new Set(), timer: undefined, delay: POLL.firstMs, last: "", stopped: false };
    watched.set(jobId, entry);
    void poll(jobId, entry);
  } else if (entry.last_job) {
    const latest = entry.last_job;
    queueMicrotask(() => listener({ job: latest }));
  }
  entry.listeners.add(listener);
  const current = entry;
  return () => {
    current.listeners.delete(listener);
    if (current.listeners.size === 0) stop(jobId, current);
  };
}

/** Every poll ends (the patient page closed, sign-out). */
export function stopAllJobs() {
  for (const [jobId, entry] of watched) stop(jobId, entry);
}

function stop(jobId, entry) {
  entry.stopped = true;
  clearTimeout(entry.timer);
  if (watched.get(jobId) === entry) watched.delete(jobId);
}

async function poll(jobId, entry) {
  if (entry.stopped) return;
  let job;
  try {
    ({ job } = await api(`/api/v1/jobs/${encodeURIComponent(jobId)}`));
  } catch (error) {
    if (entry.stopped) return;
    if (error instanceof ApiError && (error.status === 404 || error.status === 401 || error.status === 403)) {
      // Gone (the document was deleted), or no longer ours to see: nothing more to wait for.
      for (const listener of entry.listeners) listener({ problem: error, gone: error.status === 404 });
      stop(jobId, entry);
      return;
    }
    for (const listener of entry.listeners) listener({ problem: error });
    const asked = error instanceof ApiError && error.retryAfterSeconds ? error.retryAfterSeconds * 1000 : 0;
    entry.delay = Math.min(Math.max(entry.delay * 2, asked), POLL.errorMaxMs);
    entry.timer = setTimeout(() => void poll(jobId, entry), entry.delay);
    return;
  }
  if (entry.stopped) return;
  const fingerprint = JSON.stringify([job.status, job.currentStep, job.steps.map((s) => s.status)]);
  const changed = fingerprint !== entry.last;
  entry.last = fingerprint;
  entry.last_job = job;
  if (changed) for (const listener of entry.listeners) listener({ job });
  if (isFinished(job.status)) {
    stop(jobId, entry);
    return;
  }
  entry.delay = changed ? POLL.firstMs : Math.min(Math.round(entry.delay * POLL.idleFactor), POLL.idleMaxMs);
  entry.timer = setTimeout(() => void poll(jobId, entry), entry.delay);
}

/** How far a job is, as steps done out of all (a running step counts half). */
export function jobProgress(job) {
  const total = STEP_ORDER.length;
  if (job.status === "succeeded") return { done: total, total };
  let done = 0;
  for (const step of job.steps) {
    if (step.status === "succeeded") done += 1;
    else if (step.status === "running" || step.status === "retrying") done += 0.5;
  }
  return { done, total };
}

/** One line saying where a job is, for a status cell or an announcement. */
export function describeJob(job) {
  if (job.status === "succeeded") return "Processed";
  if (job.status === "failed") return `Processing failed: ${job.error?.message ?? "unknown reason"}`;
  if (job.status === "cancelled") return "Processing was cancelled";
  if (job.status === "queued" && !job.steps.some((s) => s.status !== "pending"))
    return "Waiting to be processed";
  const at = STEP_ORDER.indexOf(job.currentStep ?? "");
  const step = job.steps.find((s) => s.step === job.currentStep);
  const retry = step && step.status === "retrying" ? " (retrying)" : "";
  return at >= 0
    ? `Processing: ${STEP_NAMES[/** @type {keyof typeof STEP_NAMES} */ (job.currentStep)]}${retry} (step ${at + 1} of ${STEP_ORDER.length})`
    : "Processing";
}

/** A <progress> and an ordered step list showing the job; update() re-renders both. */
export function jobView() {
  const box = document.createElement("div");
  box.className = "job";
  const bar = document.createElement("progress");
  bar.max = STEP_ORDER.length;
  bar.value = 0;
  const text = document.createElement("p");
  text.className = "job-text";
  const list = document.createElement("ol");
  list.className = "job-steps";
  const items = new Map();
  for (const step of STEP_ORDER) {
    const li = document.createElement("li");
    li.dataset.step = step;
    li.dataset.status = "pending";
    const name = document.createElement("span");
    name.textContent = STEP_NAMES[/** @type {keyof typeof STEP_NAMES} */ (step)];
    const state = document.createElement("span");
    state.className = "step-state";
    state.textContent = "waiting";
    li.append(name, " ", state);
    items.set(step, { li, state });
    list.append(li);
  }
  box.append(text, bar, list);
  const STATE_WORDS = {
    pending: "waiting",
    running: "in progress",
    retrying: "retrying",
    succeeded: "done",
    failed: "failed",
  };
  return {
    element: box,
    /** @param {Job} job */
    update(job) {
      const { done, total } = jobProgress(job);
      bar.value = done;
      bar.max = total;
      const line = describeJob(job);
      text.textContent = line;
      bar.setAttribute("aria-label", line);
      for (const step of job.steps) {
        const item = items.get(step.step);
        if (!item) continue;
        item.li.dataset.status = step.status;
        const word = STATE_WORDS[/** @type {keyof typeof STATE_WORDS} */ (step.status)] ?? step.status;
        item.state.textContent =
          step.status === "succeeded" && typeof step.ms === "number" ? `${word}, ${formatMs(step.ms)}` : word;
        if (job.currentStep === step.step && !isFinished(job.status))
          item.li.setAttribute("aria-current", "step");
        else item.li.removeAttribute("aria-current");
      }
      box.dataset.status = job.status;
    },
  };
}

function formatMs(ms) {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}
