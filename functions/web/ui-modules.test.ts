/**
 * The browser modules the web function serves (web/public/js), where their logic does not
 * need a page: the job poller's pace (every ~2 s while a job moves, slower while it stands
 * still, backing off on failures, stopping when done or unwatched), the patient routes
 * (ids only), and the upload's early checks that mirror the server's. The page itself is
 * tested in Chromium (test/e2e/patients-ui.e2e.test.ts).
 */
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";

// Plain browser JavaScript without type declarations: loaded by URL, typed loosely here.
// biome-ignore lint/suspicious/noExplicitAny: untyped browser modules
type Module = any;
const load = (name: string): Promise<Module> =>
  import(new URL(`../../web/public/js/${name}`, import.meta.url).href);

let jobs: Module;
let patients: Module;
let upload: Module;
let viewer: Module;

beforeAll(async () => {
  [jobs, patients, upload, viewer] = await Promise.all([
    load("jobs.js"),
    load("patients.js"),
    load("upload.js"),
    load("document-viewer.js"),
  ]);
});

describe("the document viewer's highlighting", () => {
  const fact = (id: string, charStart: number, charEnd: number, kind = "lab") => ({
    id,
    kind,
    label: id,
    charStart,
    charEnd,
    negated: false,
  });

  it("cuts the text at every fact boundary and keeps all of it, in order", () => {
    const text = "Glucose 105 mg/dL H. Metformin 500 mg.";
    const pieces = viewer.segmentText(text, [fact("g", 0, 19), fact("m", 21, 37, "medication")]);
    expect(pieces.map((p: Module) => p.text).join("")).toBe(text);
    expect(pieces.map((p: Module) => [p.text, p.facts.map((f: Module) => f.id)])).toEqual([
      ["Glucose 105 mg/dL H", ["g"]],
      [". ", []],
      ["Metformin 500 mg", ["m"]],
      [".", []],
    ]);
  });

  it("marks overlapping facts on the shared piece without losing either", () => {
    const pieces = viewer.segmentText("abcdefghij", [fact("outer", 0, 8), fact("inner", 3, 5)]);
    expect(pieces.map((p: Module) => [p.text, p.facts.map((f: Module) => f.id)])).toEqual([
      ["abc", ["outer"]],
      ["de", ["outer", "inner"]],
      ["fgh", ["outer"]],
      ["ij", []],
    ]);
  });

  it("clamps spans outside the text and drops empty ones", () => {
    const pieces = viewer.segmentText("short", [
      fact("past", 3, 99),
      fact("empty", 2, 2),
      fact("neg", -4, 1),
    ]);
    expect(pieces.map((p: Module) => [p.text, p.facts.map((f: Module) => f.id)])).toEqual([
      ["s", ["neg"]],
      ["ho", []],
      ["rt", ["past"]],
    ]);
    expect(viewer.segmentText("", [fact("x", 0, 3)])).toEqual([]);
  });
});

const ID = "0b7e4c52-3f7e-4b0a-9d55-2f3c1e0a9b11";
const DOC = "5d1c2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f";

describe("patient routes", () => {
  it("reads the id-only routes", () => {
    const { parseRoute } = patients;
    expect(parseRoute("#/patients")).toEqual({ name: "list" });
    expect(parseRoute("#/patients/")).toEqual({ name: "list" });
    expect(parseRoute("#/patients/new")).toEqual({ name: "new" });
    expect(parseRoute(`#/patients/${ID}`)).toEqual({ name: "patient", patientId: ID, tab: "documents" });
    expect(parseRoute(`#/patients/${ID.toUpperCase()}/record`)).toEqual({
      name: "patient",
      patientId: ID,
      tab: "record",
    });
    expect(parseRoute(`#/patients/${ID}/edit`)).toEqual({ name: "edit", patientId: ID });
    expect(parseRoute(`#/patients/${ID}/documents`)).toEqual({
      name: "patient",
      patientId: ID,
      tab: "documents",
    });
    expect(parseRoute(`#/patients/${ID}/documents/${DOC}/page/3`)).toEqual({
      name: "patient",
      patientId: ID,
      tab: "documents",
      documentId: DOC,
      page: 3,
    });
  });

  it("refuses anything else: names, search terms, partial ids, other sections", () => {
    const { parseRoute } = patients;
    for (const hash of [
      "",
      "#",
      "#/account",
      "#/patients?q=smith",
      "#/patients/smith",
      `#/patients/${ID}?mrn=1`,
      `#/patients/${ID.slice(0, 35)}`,
      `#/patients/${ID}/notes`,
      `#/patients/${ID}/documents/${DOC}/page/x`,
      `#/patients/${ID}/documents/${DOC}/page/123456`,
      `#/patients/new/${ID}`,
      `#/patients/${ID}/record/${DOC}`,
      `#/patients/${ID}/edit/${DOC}`,
      `#/patients/${ID}/documents/page/1`,
    ]) {
      expect(parseRoute(hash), hash).toBeNull();
    }
  });
});

describe("the upload's early checks (the server checks again)", () => {
  const file = (bytes: number[] | string, name: string, type = "") =>
    new File([typeof bytes === "string" ? bytes : new Uint8Array(bytes)], name, { type });
  const PDF = [0x25, 0x50, 0x44, 0x46, 0x2d, 0x31, 0x2e, 0x34];
  const PNG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0];

  it("takes the type from the file, else from the extension, and only the allowed ones", () => {
    const { declaredTypeOf } = upload;
    expect(declaredTypeOf(file(PDF, "a.bin", "application/pdf"))).toBe("application/pdf");
    expect(declaredTypeOf(file(PDF, "scan.TIF"))).toBe("image/tiff");
    expect(declaredTypeOf(file("x", "note.txt"))).toBe("text/plain");
    expect(declaredTypeOf(file("x", "page.html", "text/html"))).toBeNull();
    expect(declaredTypeOf(file("x", "image.svg", "image/svg+xml"))).toBeNull();
    expect(declaredTypeOf(file("x", "noextension"))).toBeNull();
  });

  it("accepts what the server would, and says why it refuses the rest", async () => {
    const { checkFile, MAX_UPLOAD_BYTES } = upload;
    expect(await checkFile(file(PDF, "labs.pdf", "application/pdf"))).toBeNull();
    expect(await checkFile(file(PNG, "photo.png"))).toBeNull();
    expect(await checkFile(file("Glucose 105 mg/dL\n", "note.txt"))).toBeNull();
    expect(await checkFile(file(PNG, "scan.pdf", "application/pdf"))).toBe(
      "The file is a PNG image, not a PDF. Rename it, or choose the right file.",
    );
    expect(await checkFile(file(PDF, "scan.png"))).toBe(
      "The file is a PDF, not a PNG image. Rename it, or choose the right file.",
    );
    expect(await checkFile(file("hello", "fake.pdf"))).toBe("The file is not a PDF.");
    expect(await checkFile(file(PDF, "labs.txt"))).toBe(
      "The file is a PDF, not plain text. Rename it, or choose the right file.",
    );
    expect(await checkFile(file("\uFEFF  <svg onload=alert(1)>", "x.txt"))).toBe(
      "The file looks like a web page or markup, not plain text.",
    );
    expect(await checkFile(file([], "empty.pdf"))).toBe("The file is empty.");
    expect(await checkFile(file("x", "page.html", "text/html"))).toMatch(
      /^This type of file is not accepted/,
    );
    const big = new File([new Uint8Array(MAX_UPLOAD_BYTES + 1)], "big.pdf", { type: "application/pdf" });
    expect(await checkFile(big)).toBe("The file (25.0 MB) is over the 25.0 MB limit.");
    const atLimit = new File([new Uint8Array(PDF), new Uint8Array(MAX_UPLOAD_BYTES - PDF.length)], "max.pdf");
    expect(await checkFile(atLimit)).toBeNull();
  });
});

describe("following a job", () => {
  type Step = { step: string; status: string; ms: number | null; attempts: number };
  const STEPS = ["extract_text", "classify", "extract_facts", "chunk", "embed", "finalize"];
  const job = (status: string, current: string | null, done: number): Record<string, unknown> => ({
    id: ID,
    status,
    currentStep: current,
    error: status === "failed" ? { code: "corrupt_pdf", message: "The PDF could not be read." } : null,
    steps: STEPS.map(
      (step, i): Step => ({
        step,
        status: i < done ? "succeeded" : step === current && status === "running" ? "running" : "pending",
        ms: i < done ? 10 : null,
        attempts: i <= done ? 1 : 0,
      }),
    ),
  });

  /** Answers for GET /api/v1/jobs/{id}, one per call (the last repeats); each call's time is kept. */
  let answers: Array<Record<string, unknown> | number | { status: number; retryAfter: number }>;
  let calls: number[];
  let start: number;

  beforeEach(() => {
    vi.useFakeTimers();
    start = Date.now();
    answers = [];
    calls = [];
    vi.stubGlobal(
      "fetch",
      vi.fn(async (path: string) => {
        expect(path).toBe(`/api/v1/jobs/${ID}`);
        calls.push(Date.now() - start);
        const answer = answers.length > 1 ? answers.shift()! : answers[0]!;
        if (typeof answer === "number" || "retryAfter" in answer) {
          const status = typeof answer === "number" ? answer : Number(answer.status);
          const headers =
            typeof answer === "number" ? undefined : { "Retry-After": String(answer.retryAfter) };
          const code = status === 404 ? "not_found" : status === 429 ? "rate_limited" : "unavailable";
          return new Response(JSON.stringify({ error: { code, message: "x", requestId: "r" } }), {
            status,
            ...(headers ? { headers } : {}),
          });
        }
        return new Response(JSON.stringify({ job: answer }), { status: 200 });
      }),
    );
  });
  afterEach(() => {
    jobs.stopAllJobs();
    vi.useRealTimers();
    vi.unstubAllGlobals();
  });

  it("polls at once, every 2 s while the job moves, and stops when it succeeded", async () => {
    answers = [
      job("running", "extract_text", 0),
      job("running", "classify", 1),
      job("running", "chunk", 3),
      job("succeeded", "finalize", 6),
    ];
    const seen: string[] = [];
    jobs.watchJob(ID, (u: { job?: { status: string; currentStep: string } }) =>
      seen.push(`${u.job?.status}:${u.job?.currentStep}`),
    );
    await vi.advanceTimersByTimeAsync(30_000);
    expect(calls).toEqual([0, 2000, 4000, 6000]);
    expect(seen).toEqual(["running:extract_text", "running:classify", "running:chunk", "succeeded:finalize"]);
  });

  it("slows down while nothing changes (up to 10 s) and speeds up again on a change", async () => {
    const still = job("running", "extract_facts", 2);
    answers = [
      still,
      still,
      still,
      still,
      still,
      still,
      still,
      still,
      still,
      still,
      job("running", "chunk", 3),
      job("succeeded", "finalize", 6),
    ];
    jobs.watchJob(ID, () => {});
    await vi.advanceTimersByTimeAsync(120_000);
    const waits = calls.slice(1).map((t, i) => t - calls[i]!);
    // 2 s after the first answer, then x1.3 per unchanged answer, capped at 10 s, then 2 s after the change.
    expect(waits.slice(0, 8)).toEqual([2000, 2600, 3380, 4394, 5712, 7426, 9654, 10000]);
    expect(waits.at(-1)).toBe(2000);
    expect(calls).toHaveLength(12);
  });

  it("backs off on failures, honours Retry-After, and carries on when the server is back", async () => {
    answers = [503, 503, 503, job("succeeded", "finalize", 6)];
    const updates: unknown[] = [];
    jobs.watchJob(ID, (u: unknown) => updates.push(u));
    await vi.advanceTimersByTimeAsync(120_000);
    const waits = calls.slice(1).map((t, i) => t - calls[i]!);
    expect(waits).toEqual([4000, 8000, 16000]);
    expect(updates).toHaveLength(4);
    expect((updates.at(-1) as { job: { status: string } }).job.status).toBe("succeeded");

    // Rate limited: the server's Retry-After wins over a shorter backoff.
    jobs.stopAllJobs();
    calls = [];
    start = Date.now();
    answers = [{ status: 429, retryAfter: 20 }, job("succeeded", "finalize", 6)];
    jobs.watchJob(ID, () => {});
    await vi.advanceTimersByTimeAsync(60_000);
    expect(calls).toEqual([0, 20_000]);
  });

  it("stops for good when the job is gone (404), and when nobody watches any more", async () => {
    answers = [404];
    const gone = vi.fn();
    jobs.watchJob(ID, gone);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(calls).toEqual([0]);
    expect(gone).toHaveBeenCalledWith(expect.objectContaining({ gone: true }));

    calls = [];
    answers = [job("running", "classify", 1)];
    start = Date.now();
    const stop = jobs.watchJob(ID, () => {});
    await vi.advanceTimersByTimeAsync(5000);
    const before = calls.length;
    expect(before).toBeGreaterThanOrEqual(2);
    stop();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(calls).toHaveLength(before);
  });

  it("shares one poll between watchers of the same job, and keeps it while one still watches", async () => {
    answers = [job("running", "classify", 1)];
    const a = vi.fn();
    const b = vi.fn();
    const stopA = jobs.watchJob(ID, a);
    await vi.advanceTimersByTimeAsync(0);
    jobs.watchJob(ID, b);
    await vi.advanceTimersByTimeAsync(0);
    // The late watcher gets the latest state at once, without a request of its own.
    expect(b).toHaveBeenCalledTimes(1);
    expect(calls).toEqual([0]);
    stopA();
    await vi.advanceTimersByTimeAsync(2000);
    expect(calls).toEqual([0, 2000]);
  });

  it("describes where a job is and how far it got", () => {
    expect(jobs.describeJob(job("running", "extract_facts", 2))).toBe(
      "Processing: Finding results, medications and diagnoses (step 3 of 6)",
    );
    expect(jobs.jobProgress(job("running", "extract_facts", 2))).toEqual({ done: 2.5, total: 6 });
    expect(jobs.describeJob(job("queued", null, 0))).toBe("Waiting to be processed");
    expect(jobs.describeJob(job("succeeded", "finalize", 6))).toBe("Processed");
    expect(jobs.jobProgress(job("succeeded", "finalize", 6))).toEqual({ done: 6, total: 6 });
    expect(jobs.describeJob(job("failed", "extract_text", 0))).toBe(
      "Processing failed: The PDF could not be read.",
    );
  });
});
