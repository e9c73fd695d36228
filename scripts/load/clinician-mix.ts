/**
 * The load test's model of a clinic's working day, compressed: each simulated clinician signs
 * in once, then keeps doing what the UI does (list and search patients, open one, read the
 * record and the documents, now and then upload a page and follow its job until it is done),
 * with a short think time between actions. One loop per clinician, all at once, for the
 * duration. Every call is timed by name; every status is counted.
 *
 * Which statuses are acceptable is stated here, next to the limits that allow them: a 429 is an
 * error unless the route is one a documented limit covers (per-IP sign-in limit, 30/min), so a
 * fail-closed limiter refusing legitimate users under load shows up as errors, not as noise.
 */
import { seededRandom } from "../../shared/core/seeded-random";

export const CALLS = [
  "sign-in",
  "session",
  "patients.list",
  "patients.search",
  "patients.get",
  "record.read",
  "documents.list",
  "upload.presign",
  "upload.put",
  "upload.register",
  "job.poll",
] as const;
export type CallName = (typeof CALLS)[number];

/** Routes with a documented limit that may answer 429 to a legitimate client (doc/benchmarks.md "Load"). */
export const LIMITED_CALLS: ReadonlySet<CallName> = new Set(["sign-in"]);

/** Relative weights of the actions a signed-in clinician takes (uploads are rarer than reads). */
export const ACTION_WEIGHTS = {
  "patients.list": 25,
  "patients.search": 15,
  open_patient: 35,
  upload: 5,
  session: 10,
} as const;
type Action = keyof typeof ACTION_WEIGHTS;

export interface CallStats {
  latencies: number[];
  statuses: Map<number, number>;
  errors: number;
}

export interface LoadStats {
  calls: Map<CallName, CallStats>;
  /** Errors that were not an HTTP status (network failures, timeouts, bad bodies). */
  failures: Map<string, number>;
  startedAt: number;
  endedAt: number;
}

export function newStats(): LoadStats {
  return {
    calls: new Map(CALLS.map((c) => [c, { latencies: [], statuses: new Map(), errors: 0 }])),
    failures: new Map(),
    startedAt: Date.now(),
    endedAt: Date.now(),
  };
}

/** Whether a status is what a working product answers this call (2xx, or a documented 429). */
export function isAcceptable(call: CallName, status: number): boolean {
  if (status >= 200 && status < 300) return true;
  return status === 429 && LIMITED_CALLS.has(call);
}

export function record(stats: LoadStats, call: CallName, status: number, ms: number): void {
  const entry = stats.calls.get(call)!;
  entry.latencies.push(ms);
  entry.statuses.set(status, (entry.statuses.get(status) ?? 0) + 1);
  if (!isAcceptable(call, status)) entry.errors += 1;
}

export function recordFailure(stats: LoadStats, call: CallName, reason: string): void {
  const key = `${call}: ${reason}`;
  stats.failures.set(key, (stats.failures.get(key) ?? 0) + 1);
  stats.calls.get(call)!.errors += 1;
}

/** Two runs with one seed take the same actions (shared/core/seeded-random.ts). */
export { seededRandom };

export function pickAction(random: () => number): Action {
  const entries = Object.entries(ACTION_WEIGHTS) as [Action, number][];
  const total = entries.reduce((sum, [, w]) => sum + w, 0);
  let roll = random() * total;
  for (const [action, weight] of entries) {
    roll -= weight;
    if (roll < 0) return action;
  }
  return entries[entries.length - 1]![0];
}

export interface Clinician {
  email: string;
  password: string;
}

export interface MixTarget {
  origin: string;
  /** Patients of the load clinic the clinicians work on. */
  patientIds: readonly string[];
  /** A small text PDF each upload sends. */
  uploadBytes: Uint8Array;
  /** Think time between actions, drawn uniformly from [min, max] ms. */
  thinkMs: readonly [number, number];
  /** How often a clinician polls a job it started (the UI backs off from 1 s). */
  pollMs: number;
}

interface SignedIn {
  cookie: string;
  csrf: string;
}

const SESSION_COOKIE = /__Host-medchr_session=([^;]+)/;

async function timed(
  stats: LoadStats,
  call: CallName,
  url: string,
  init: RequestInit,
): Promise<Response | null> {
  const started = performance.now();
  try {
    const res = await fetch(url, init);
    // The body is read inside the timing: a response is only done when it is all there.
    const body = await res.arrayBuffer();
    record(stats, call, res.status, performance.now() - started);
    return new Response(body.byteLength > 0 ? body : null, { status: res.status, headers: res.headers });
  } catch (error) {
    recordFailure(stats, call, error instanceof Error ? error.name : "error");
    return null;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One clinician's loop until `deadline` (ms since epoch). Job polls run beside the actions. */
export async function runClinician(
  target: MixTarget,
  clinician: Clinician,
  index: number,
  deadline: number,
  stats: LoadStats,
  seed: number,
): Promise<void> {
  const random = seededRandom(seed + index * 7919);
  const json = { "Content-Type": "application/json", Origin: target.origin };
  const login = await timed(stats, "sign-in", `${target.origin}/auth/login`, {
    method: "POST",
    headers: json,
    body: JSON.stringify({ email: clinician.email, password: clinician.password }),
  });
  const cookie = login?.headers.get("set-cookie")?.match(SESSION_COOKIE)?.[1];
  if (login?.status !== 200 || !cookie) return;
  const me: SignedIn = {
    cookie: `__Host-medchr_session=${cookie}`,
    csrf: ((await login.json()) as { csrfToken: string }).csrfToken,
  };
  const read = { Cookie: me.cookie };
  const write = { ...json, Cookie: me.cookie, "X-CSRF-Token": me.csrf };
  const polls: Promise<void>[] = [];
  const patient = () => target.patientIds[Math.floor(random() * target.patientIds.length)]!;

  while (Date.now() < deadline) {
    const action = pickAction(random);
    if (action === "session") {
      await timed(stats, "session", `${target.origin}/auth/session`, { headers: read });
    } else if (action === "patients.list") {
      await timed(stats, "patients.list", `${target.origin}/api/v1/patients?limit=25`, { headers: read });
    } else if (action === "patients.search") {
      const prefix = "Load";
      await timed(stats, "patients.search", `${target.origin}/api/v1/patients?q=${prefix}&limit=25`, {
        headers: read,
      });
    } else if (action === "open_patient") {
      const id = patient();
      await timed(stats, "patients.get", `${target.origin}/api/v1/patients/${id}`, { headers: read });
      await timed(stats, "record.read", `${target.origin}/api/v1/patients/${id}/record`, { headers: read });
      await timed(stats, "documents.list", `${target.origin}/api/v1/patients/${id}/documents`, {
        headers: read,
      });
    } else {
      const jobId = await upload(target, stats, patient(), write);
      if (jobId) polls.push(pollJob(target, stats, jobId, read, deadline));
    }
    const [min, max] = target.thinkMs;
    await sleep(min + random() * (max - min));
  }
  await Promise.all(polls);
}

async function upload(
  target: MixTarget,
  stats: LoadStats,
  patientId: string,
  write: Record<string, string>,
): Promise<string | null> {
  const presign = await timed(
    stats,
    "upload.presign",
    `${target.origin}/api/v1/patients/${patientId}/documents/presign-upload`,
    {
      method: "POST",
      headers: write,
      body: JSON.stringify({
        filename: "load.pdf",
        contentType: "application/pdf",
        size: target.uploadBytes.length,
      }),
    },
  );
  if (presign?.status !== 201) return null;
  const { uploadId, uploadUrl } = (await presign.json()) as { uploadId: string; uploadUrl: string };
  const put = await timed(stats, "upload.put", uploadUrl, {
    method: "PUT",
    headers: { "Content-Type": "application/pdf" },
    body: new Uint8Array(target.uploadBytes),
  });
  if (put?.status !== 200) return null;
  const registered = await timed(
    stats,
    "upload.register",
    `${target.origin}/api/v1/patients/${patientId}/documents/register-upload`,
    { method: "POST", headers: write, body: JSON.stringify({ uploadId }) },
  );
  if (registered?.status !== 201) return null;
  // Registering starts processing; the document (as the UI reads it next) names the job.
  const { document } = (await registered.json()) as { document: { id: string } };
  const shown = await timed(stats, "job.poll", `${target.origin}/api/v1/documents/${document.id}`, {
    headers: { Cookie: write.Cookie! },
  });
  if (shown?.status !== 200) return null;
  const view = (await shown.json()) as { document: { latestJob: { id: string } | null } };
  return view.document.latestJob?.id ?? null;
}

async function pollJob(
  target: MixTarget,
  stats: LoadStats,
  jobId: string,
  read: Record<string, string>,
  deadline: number,
): Promise<void> {
  // Polls stop at the deadline like the UI's stop when the page is left; a job still running
  // then is counted, not failed (the pipeline has the whole machine's other load to share).
  while (Date.now() < deadline) {
    await sleep(target.pollMs);
    const res = await timed(stats, "job.poll", `${target.origin}/api/v1/jobs/${jobId}`, { headers: read });
    if (res?.status !== 200) return;
    const { job } = (await res.json()) as { job: { status: string } };
    if (job.status === "succeeded" || job.status === "failed") {
      if (job.status === "failed") recordFailure(stats, "job.poll", "job failed");
      return;
    }
  }
}
