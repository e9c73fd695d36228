/**
 * Text extraction against the native tools (issue 5 acceptance), on the same files and pages:
 *
 *  1. text layer, pages per second: our code (extractDocumentText: unpdf/pdf.js in process,
 *     layout with column gaps) against `pdftotext -layout` (poppler, one process per file),
 *     on the corpus's text-layer PDFs file by file and on generated 10- and 100-page PDFs;
 *  2. OCR, seconds per page and accuracy: our engine (tesseract.js-core wasm in Node, one
 *     shared engine) against the `tesseract` command (Debian tesseract-ocr), run twice: as
 *     installed (`tesseract <image> -`: page segmentation 3, Debian's eng model, OpenMP
 *     threads) and with our settings (PSM 6, LSTM, our eng 4.0.0_best_int model, one thread),
 *     which compares wasm with native code on identical work. Every engine gets the same
 *     image bytes, page by page in turn, so a noisy spell on the shared machine hits all alike.
 *     - character error rate on pages whose exact text is known: the corpus's text-layer
 *       pages rasterised as the corpus scans were made (200 dpi greyscale, JPEG quality 70;
 *       truth = the page's text layer by pdftotext -layout) and generated pages (truth = the
 *       lines drawn). CER = Levenshtein distance / reference length after normalisation
 *       (NFKC, typographic quotes and dashes to ASCII, every whitespace run to one space);
 *     - on the corpus's own scans and photographs (no full-text truth): the share of the truth
 *       file's PHI strings found verbatim and of lab rows readable (name and value on one line).
 *
 * Needs poppler-utils (pdftotext, pdftoppm, pdfimages) and tesseract-ocr; the corpus cases
 * need ../shared/corpus (or MEDCHR_CORPUS) and are skipped with a note without it. Besides the
 * harness's JSON and text-layer chart, writes doc/bench/extraction-ocr-speed.svg,
 * extraction-ocr-cer.svg and extraction-ocr-recall.svg. Not run in CI.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { gunzipSync } from "node:zlib";
import { seededRandom } from "../../shared/core/seeded-random";
import { extractDocumentText } from "../../shared/text/extract-document-text";
import { loadNodeOcrAssets } from "../../shared/text/node-ocr-assets";
import { createOcrEngine, type OcrEngine } from "../../shared/text/ocr-engine";
import { encodeGreyJpeg } from "../../shared/text/testing/encode-test-jpeg";
import { encodeGreyPng } from "../../shared/text/testing/encode-test-png";
import { renderTestPage } from "../../shared/text/testing/render-test-page";
import { SYNTHETIC_LAB_LINES, syntheticLabPage } from "../../shared/text/testing/synthetic-lab-page";
import { buildTestPdf } from "../../test/fixtures/clinical/build-test-pdf";
import { REPO_ROOT } from "../lib/migrations-dir";
import { type BenchCase, type Benchmark, medianOf, toCase } from "./benchmark";
import { CHARTS_DIR, chartSubtitle, packageVersion } from "./lib/environment";
import { renderBarChart } from "./svg-chart";

const run = promisify(execFile);
const CORPUS_DIR = process.env.MEDCHR_CORPUS ?? join(REPO_ROOT, "..", "shared", "corpus");
/** Text-layer rounds; the median round counts. */
const TEXT_ROUNDS = 7;
/** Pages per round at least: a round of ~100 ms would measure the machine's noise, not the tools. */
const TEXT_MIN_PAGES_PER_ROUND = 200;
/** The corpus scans were made this way (corpus README): 200 dpi greyscale, JPEG quality 70. */
const RASTER_DPI = 200;
const RASTER_JPEG_QUALITY = 70;
/** The generated scanned pages: JPEG quality of a typical office scanner's default. */
const SYNTHETIC_SCAN_QUALITY = 75;
const MAX_BUFFER = 64 * 1024 * 1024;

// ------------------------------------------------------------------ synthetic documents

/** Generated documents are the same on every run. */
const prng = seededRandom;

interface LabDef {
  name: string;
  unit: string;
  low: number | null;
  high: number | null;
  decimals: number;
  /** Printed range for open ranges ("<200", ">=40"). */
  open?: string;
}

const PANELS: ReadonlyArray<{ title: string; tests: readonly LabDef[] }> = [
  {
    title: "COMPREHENSIVE METABOLIC PANEL",
    tests: [
      { name: "Glucose", unit: "mg/dL", low: 70, high: 99, decimals: 0 },
      { name: "BUN", unit: "mg/dL", low: 7, high: 20, decimals: 0 },
      { name: "Creatinine", unit: "mg/dL", low: 0.6, high: 1.3, decimals: 2 },
      { name: "Sodium", unit: "mmol/L", low: 135, high: 145, decimals: 0 },
      { name: "Potassium", unit: "mmol/L", low: 3.5, high: 5.1, decimals: 1 },
      { name: "Chloride", unit: "mmol/L", low: 98, high: 107, decimals: 0 },
      { name: "CO2", unit: "mmol/L", low: 22, high: 29, decimals: 0 },
      { name: "Calcium", unit: "mg/dL", low: 8.6, high: 10.3, decimals: 1 },
      { name: "Total Protein", unit: "g/dL", low: 6.0, high: 8.3, decimals: 1 },
      { name: "Albumin", unit: "g/dL", low: 3.5, high: 5.0, decimals: 1 },
      { name: "Total Bilirubin", unit: "mg/dL", low: 0.1, high: 1.2, decimals: 1 },
      { name: "Alkaline Phosphatase", unit: "U/L", low: 44, high: 147, decimals: 0 },
      { name: "AST", unit: "U/L", low: 10, high: 40, decimals: 0 },
      { name: "ALT", unit: "U/L", low: 7, high: 56, decimals: 0 },
    ],
  },
  {
    title: "COMPLETE BLOOD COUNT",
    tests: [
      { name: "WBC", unit: "x10^3/uL", low: 4.0, high: 11.0, decimals: 1 },
      { name: "RBC", unit: "x10^6/uL", low: 4.2, high: 5.9, decimals: 2 },
      { name: "Hemoglobin", unit: "g/dL", low: 12.0, high: 16.0, decimals: 1 },
      { name: "Hematocrit", unit: "%", low: 36, high: 46, decimals: 1 },
      { name: "MCV", unit: "fL", low: 80, high: 100, decimals: 0 },
      { name: "Platelets", unit: "x10^3/uL", low: 150, high: 400, decimals: 0 },
    ],
  },
  {
    title: "LIPID PANEL",
    tests: [
      { name: "Total Cholesterol", unit: "mg/dL", low: null, high: 200, decimals: 0, open: "<200" },
      { name: "HDL Cholesterol", unit: "mg/dL", low: 40, high: null, decimals: 0, open: ">=40" },
      { name: "LDL Cholesterol", unit: "mg/dL", low: null, high: 100, decimals: 0, open: "<100" },
      { name: "Triglycerides", unit: "mg/dL", low: null, high: 150, decimals: 0, open: "<150" },
    ],
  },
  {
    title: "ENDOCRINE AND OTHER",
    tests: [
      { name: "Hemoglobin A1c", unit: "%", low: 4.0, high: 5.6, decimals: 1 },
      { name: "TSH", unit: "mIU/L", low: 0.4, high: 4.0, decimals: 2 },
      { name: "Free T4", unit: "ng/dL", low: 0.8, high: 1.8, decimals: 2 },
      { name: "Ferritin", unit: "ng/mL", low: 15, high: 150, decimals: 0 },
      { name: "Magnesium", unit: "mg/dL", low: 1.7, high: 2.2, decimals: 1 },
      { name: "Uric Acid", unit: "mg/dL", low: 3.5, high: 7.2, decimals: 1 },
    ],
  },
];

const PROBLEMS = [
  "Type 2 diabetes mellitus without complications (E11.9)",
  "Essential hypertension (I10)",
  "Hyperlipidemia, unspecified (E78.5)",
  "Hypothyroidism, unspecified (E03.9)",
  "Gastro-esophageal reflux disease (K21.9)",
  "Chronic kidney disease, stage 3a (N18.31)",
  "Iron deficiency anemia (D50.9)",
  "Vitamin D deficiency (E55.9)",
];
const MEDICATIONS = [
  "Metformin 500 mg PO twice daily",
  "Lisinopril 10 mg PO daily",
  "Atorvastatin 40 mg PO at bedtime",
  "Levothyroxine 75 mcg PO daily before breakfast",
  "Omeprazole 20 mg PO daily",
  "Ferrous sulfate 325 mg PO daily",
  "Cholecalciferol 2000 units PO daily",
  "Amlodipine 5 mg PO daily",
];
const ALLERGIES = ["Penicillin (rash)", "Sulfa drugs (hives)", "Codeine (nausea)", "Latex (itching)"];
const NEGATIVES = ["chest pain", "shortness of breath", "fever", "melena", "dysuria", "weight loss"];

/** Monospaced columns, at most 75 characters: fits a 200 dpi page of the test glyphs and Courier 10. */
const cols = (cells: ReadonlyArray<[string, number]>) =>
  cells
    .map(([text, width]) => text.padEnd(width))
    .join("")
    .trimEnd();

function header(title: string, page: number, pages: number, rnd: () => number): string[] {
  const mrn = `SYN-${String(100000 + Math.floor(rnd() * 899999))}`;
  return [
    cols([
      [title, 48],
      ["Report date: 03/14/2025", 27],
    ]),
    cols([
      ["1200 Harbor Road, Springfield", 48],
      ["Phone: 555-0142", 27],
    ]),
    cols([
      ["Patient: TESTPATIENT, SYNTHETIC", 36],
      ["DOB: 01/02/1960", 20],
      [`MRN: ${mrn}`, 19],
    ]),
    cols([
      ["Ordering provider: Dr. Example", 36],
      ["Collected: 03/13/2025", 25],
      [`Page ${page} of ${pages}`, 14],
    ]),
    "",
  ];
}

function labPageLines(page: number, pages: number, rnd: () => number): string[] {
  const lines = header("RIVERSIDE CLINICAL LABORATORY", page, pages, rnd);
  for (const panel of PANELS) {
    lines.push(
      panel.title,
      cols([
        ["TEST", 24],
        ["RESULT", 9],
        ["FLAG", 6],
        ["UNITS", 12],
        ["REFERENCE", 12],
      ]),
    );
    for (const t of panel.tests) {
      const lo = t.low ?? (t.high ?? 100) * 0.4;
      const hi = t.high ?? (t.low ?? 50) * 2.2;
      // Mostly in range, a few out of it on either side, as in real panels.
      const r = rnd();
      const v =
        r < 0.12 ? lo * (0.7 + rnd() * 0.25) : r > 0.85 ? hi * (1.05 + rnd() * 0.4) : lo + (hi - lo) * rnd();
      const value = v.toFixed(t.decimals);
      const n = Number(value);
      // "<200" is exceeded at 200; "4.0-11.0" only above 11.0.
      const high = t.high !== null && (t.open ? n >= t.high : n > t.high);
      const flag = t.low !== null && n < t.low ? "L" : high ? "H" : "";
      const range = t.open ?? `${t.low!.toFixed(t.decimals)}-${t.high!.toFixed(t.decimals)}`;
      lines.push(
        cols([
          [t.name, 24],
          [value, 9],
          [flag, 6],
          [t.unit, 12],
          [range, 12],
        ]),
      );
    }
    lines.push("");
  }
  lines.push("Comment: Fasting specimen. Results reviewed by laboratory director.");
  return lines;
}

function pick<T>(items: readonly T[], count: number, rnd: () => number): T[] {
  const pool = [...items];
  const out: T[] = [];
  while (out.length < count && pool.length > 0) out.push(pool.splice(Math.floor(rnd() * pool.length), 1)[0]!);
  return out;
}

function notePageLines(page: number, pages: number, rnd: () => number): string[] {
  const lines = header("RIVERSIDE FAMILY MEDICINE - CLINIC NOTE", page, pages, rnd);
  const problems = pick(PROBLEMS, 4, rnd);
  const meds = pick(MEDICATIONS, 5, rnd);
  const negatives = pick(NEGATIVES, 3, rnd);
  const sbp = 118 + Math.floor(rnd() * 30);
  const dbp = 70 + Math.floor(rnd() * 15);
  lines.push(
    "CHIEF COMPLAINT",
    "Follow-up of chronic conditions and review of recent laboratory results.",
    "",
    "HISTORY OF PRESENT ILLNESS",
    "The patient returns for a scheduled visit. Adherence to the medication",
    "list below is good and home glucose readings have been stable. She",
    `denies ${negatives[0]}, ${negatives[1]} and ${negatives[2]}. Sleep and appetite are`,
    "unchanged since the last visit. No new concerns were raised today.",
    "",
    "MEDICATIONS",
    ...meds.map((m) => `- ${m}`),
    "",
    "ALLERGIES",
    ...pick(ALLERGIES, 2, rnd).map((a) => `- ${a}`),
    "",
    "VITALS",
    `BP ${sbp}/${dbp} mmHg   HR ${62 + Math.floor(rnd() * 20)} bpm   Temp 36.8 C   SpO2 98%`,
    "",
    "ASSESSMENT AND PLAN",
    ...problems.map((p, i) => `${i + 1}. ${p}`),
    "Continue current medications. Repeat labs in three months.",
    "",
    "Electronically signed by Dr. Example, MD on 03/14/2025",
  );
  return lines;
}

/**
 * Lines of `count` report pages (lab pages and clinic-note pages alternating), fictional and
 * deterministic for a seed; at most 75 characters and 40 lines each.
 */
export function syntheticReportPages(count: number, seed = 5): string[][] {
  const rnd = prng(seed);
  return Array.from({ length: count }, (_, i) =>
    i % 2 === 0 ? labPageLines(i + 1, count, rnd) : notePageLines(i + 1, count, rnd),
  );
}

/** A text-layer PDF of those pages, Courier 10 pt on US Letter, as GNU Enscript prints. */
export function buildSyntheticTextPdf(pages: readonly (readonly string[])[]): Uint8Array {
  const n = pages.length;
  const objects: string[] = [
    "<< /Type /Catalog /Pages 2 0 R >>",
    `<< /Type /Pages /Kids [${pages.map((_, i) => `${4 + 2 * i} 0 R`).join(" ")}] /Count ${n} >>`,
    "<< /Type /Font /Subtype /Type1 /BaseFont /Courier /Encoding /WinAnsiEncoding >>",
  ];
  for (const lines of pages) {
    const content = [
      "BT",
      "/F1 10 Tf",
      "12 TL",
      "1 0 0 1 54 750 Tm",
      ...lines.map((l) => `(${l.replace(/([()\\])/g, "\\$1")}) '`),
      "ET",
    ].join("\n");
    const self = 4 + objects.length - 3;
    objects.push(
      `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents ${self + 1} 0 R /Resources << /Font << /F1 3 0 R >> >> >>`,
      `<< /Length ${content.length} >>\nstream\n${content}\nendstream`,
    );
  }
  return buildTestPdf(objects);
}

export interface ScannedPage {
  readonly lines: readonly string[];
  readonly jpeg: Uint8Array;
  readonly width: number;
  readonly height: number;
}

/** Each page drawn at 200 dpi with the test glyphs (Liberation Mono) and JPEG-encoded. */
export function scanSyntheticPages(pages: readonly (readonly string[])[]): ScannedPage[] {
  return pages.map((lines) => {
    const image = renderTestPage(lines);
    return {
      lines,
      jpeg: encodeGreyJpeg(image, SYNTHETIC_SCAN_QUALITY),
      width: image.width,
      height: image.height,
    };
  });
}

/** A scanned PDF: one DCTDecode image filling each US Letter page, no text layer (as img2pdf makes). */
export function buildScannedPdf(pages: readonly ScannedPage[]): Uint8Array {
  const enc = new TextEncoder();
  const objects: (string | Uint8Array)[] = [
    "<< /Type /Catalog /Pages 2 0 R >>",
    `<< /Type /Pages /Kids [${pages.map((_, i) => `${3 + 3 * i} 0 R`).join(" ")}] /Count ${pages.length} >>`,
  ];
  const content = "q 612 0 0 792 0 0 cm /Im0 Do Q";
  pages.forEach((p, i) => {
    const self = 3 + 3 * i;
    const head = enc.encode(
      `<< /Type /XObject /Subtype /Image /Width ${p.width} /Height ${p.height} /ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /DCTDecode /Length ${p.jpeg.length} >>\nstream\n`,
    );
    const tail = enc.encode("\nendstream");
    const image = new Uint8Array(head.length + p.jpeg.length + tail.length);
    image.set(head, 0);
    image.set(p.jpeg, head.length);
    image.set(tail, head.length + p.jpeg.length);
    objects.push(
      `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents ${self + 1} 0 R /Resources << /XObject << /Im0 ${self + 2} 0 R >> >> >>`,
      `<< /Length ${content.length} >>\nstream\n${content}\nendstream`,
      image,
    );
  });
  return buildTestPdf(objects);
}

// ------------------------------------------------------------------ accuracy measures

/**
 * NFKC, typographic quotes/dashes/bullets to ASCII, rule lines dropped, whitespace runs to one
 * space. A printed "=====" or "-----" rule is a drawn line to the eye, and OCR rightly skips it:
 * counting its 80 characters as misses would measure the truth's typesetting, not the engine.
 */
export function normaliseForCer(text: string): string {
  return text
    .normalize("NFKC")
    .replace(/[\u2018\u2019\u201a\u2032]/g, "'")
    .replace(/[\u201c\u201d\u201e\u2033]/g, '"')
    .replace(/[\u2010-\u2015\u2212]/g, "-")
    .replace(/\u2022/g, "*")
    .replace(/([-=_~*.])\1{3,}/g, " ")
    .replace(/\s+/g, " ")
    .trim();
}

/** Edit distance (insertions, deletions, substitutions), two rows, common ends trimmed first. */
export function levenshtein(a: string, b: string): number {
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  const s = a.slice(start, endA);
  const t = b.slice(start, endB);
  if (s.length === 0) return t.length;
  if (t.length === 0) return s.length;
  let prev = new Uint32Array(t.length + 1);
  let cur = new Uint32Array(t.length + 1);
  for (let j = 0; j <= t.length; j++) prev[j] = j;
  for (let i = 1; i <= s.length; i++) {
    cur[0] = i;
    const c = s.charCodeAt(i - 1);
    for (let j = 1; j <= t.length; j++) {
      const sub = prev[j - 1]! + (c === t.charCodeAt(j - 1) ? 0 : 1);
      const del = prev[j]! + 1;
      const ins = cur[j - 1]! + 1;
      cur[j] = Math.min(sub, del, ins);
    }
    [prev, cur] = [cur, prev];
  }
  return prev[t.length]!;
}

interface TruthFile {
  file: string;
  format: string;
  pages: number;
  labs: Array<{ name_as_printed: string; value: number | string }>;
  phi: Array<{ type: string; text: string }>;
}

const squash = (s: string): string => s.replace(/\s+/g, " ").trim().toLowerCase();

/** A printed lab row is readable when one OCR line has its name and its value (numerically equal). */
function labRowRead(lines: readonly string[], name: string, value: number | string): boolean {
  const n = squash(name);
  return lines.some((line) => {
    const l = squash(line);
    const at = l.indexOf(n);
    if (at < 0) return false;
    const rest = l.slice(at + n.length);
    if (typeof value === "string") return rest.includes(squash(value));
    return (rest.match(/[<>]?-?\d+(?:\.\d+)?/g) ?? []).some(
      (tok) => Number(tok.replace(/^[<>]/, "")) === value,
    );
  });
}

// ------------------------------------------------------------------ engines

interface OcrRunner {
  readonly id: "ours" | "cli" | "cli-1t" | "cli-same";
  readonly label: string;
  recognize(path: string, bytes: Uint8Array): Promise<string>;
}

function oursRunner(engine: OcrEngine): OcrRunner {
  return {
    id: "ours",
    label: "ours (wasm, Node)",
    async recognize(_path, bytes) {
      const r = await engine.recognize(bytes);
      if (!r.ok) throw new Error(`our OCR failed: ${r.error.code}`);
      return r.value.text;
    },
  };
}

function cliRunners(tessdataDir: string): OcrRunner[] {
  const env1 = { ...process.env, OMP_THREAD_LIMIT: "1" };
  return [
    {
      id: "cli",
      label: "tesseract CLI",
      async recognize(path) {
        return (await run("tesseract", [path, "-"], { maxBuffer: MAX_BUFFER })).stdout;
      },
    },
    {
      // OpenMP threads spin while they wait for each other: on a loaded machine one thread is faster.
      id: "cli-1t",
      label: "tesseract CLI, 1 thread",
      async recognize(path) {
        return (await run("tesseract", [path, "-"], { maxBuffer: MAX_BUFFER, env: env1 })).stdout;
      },
    },
    {
      id: "cli-same",
      label: "CLI, our settings",
      async recognize(path) {
        const args = [path, "-", "--tessdata-dir", tessdataDir, "--oem", "1", "--psm", "6"];
        args.push("-c", "preserve_interword_spaces=1");
        return (await run("tesseract", args, { maxBuffer: MAX_BUFFER, env: env1 })).stdout;
      },
    },
  ];
}

interface OcrPage {
  set: string;
  path: string;
  bytes: Uint8Array;
  truth: string | null;
  truthFile: TruthFile | null;
}

interface OcrTally {
  ms: number;
  pages: number;
  edits: number;
  refChars: number;
  pageCer: number[];
  phiFound: number;
  phiTotal: number;
  labFound: number;
  labTotal: number;
}

const emptyTally = (): OcrTally => ({
  ms: 0,
  pages: 0,
  edits: 0,
  refChars: 0,
  pageCer: [],
  phiFound: 0,
  phiTotal: 0,
  labFound: 0,
  labTotal: 0,
});

// ------------------------------------------------------------------ helpers

async function toolVersion(cmd: string, args: string[]): Promise<string> {
  try {
    const { stdout, stderr } = await run(cmd, args);
    return `${stdout}${stderr}`.split("\n")[0]!.trim();
  } catch (error) {
    throw new Error(
      `${cmd} is needed for this benchmark (Debian: apt-get install poppler-utils tesseract-ocr): ${(error as Error).message}`,
    );
  }
}

const round1 = (v: number) => Math.round(v * 10) / 10;
const round3 = (v: number) => Math.round(v * 1000) / 1000;
const pct = (num: number, den: number) => (den === 0 ? 0 : round1((100 * num) / den));

async function readTruths(): Promise<TruthFile[]> {
  const files = (await readdir(CORPUS_DIR)).filter((f) => f.endsWith(".truth.json")).sort();
  return Promise.all(
    files.map(async (f) => JSON.parse(await readFile(join(CORPUS_DIR, f), "utf8")) as TruthFile),
  );
}

/** Files written by pdftoppm/pdfimages for one prefix, in page order ("-1", "-01", "-001-000"). */
async function outputsOf(dir: string, prefix: string, ext: string): Promise<string[]> {
  return (await readdir(dir))
    .filter((f) => f.startsWith(`${prefix}-`) && f.endsWith(ext))
    .sort((a, b) => a.localeCompare(b, "en", { numeric: true }))
    .map((f) => join(dir, f));
}

async function timeTextLayer(
  label: Pick<BenchCase, "name" | "group" | "panel">,
  files: ReadonlyArray<{ path: string; bytes: Uint8Array; pages: number }>,
  engine: "ours" | "pdftotext",
): Promise<BenchCase> {
  const perPass = files.reduce((n, f) => n + f.pages, 0);
  const passes = Math.ceil(TEXT_MIN_PAGES_PER_ROUND / perPass);
  return medianOf(TEXT_ROUNDS, async () => {
    const t0 = performance.now();
    for (let pass = 0; pass < passes; pass++) {
      for (const f of files) {
        if (engine === "ours") {
          const r = await extractDocumentText(f.bytes);
          if (
            !r.ok ||
            r.value.pages.length !== f.pages ||
            r.value.pages.some((p) => p.source !== "text_layer")
          ) {
            throw new Error(`text layer of ${f.path} not read`);
          }
        } else {
          const { stdout } = await run("pdftotext", ["-layout", f.path, "-"], { maxBuffer: MAX_BUFFER });
          // pdftotext ends every page with a form feed.
          if ((stdout.match(/\f/g) ?? []).length !== f.pages)
            throw new Error(`pdftotext read ${f.path} short`);
        }
      }
    }
    return toCase(label, perPass * passes, performance.now() - t0);
  });
}

// ------------------------------------------------------------------ the benchmark

const benchmark: Benchmark = {
  name: "extraction",
  title: "Text extraction vs pdftotext and tesseract, same files",
  async run() {
    const versions = {
      pdftotext: await toolVersion("pdftotext", ["-v"]),
      tesseract: await toolVersion("tesseract", ["--version"]),
    };
    await toolVersion("pdftoppm", ["-v"]);
    await toolVersion("pdfimages", ["-v"]);
    const haveCorpus = existsSync(join(CORPUS_DIR, "score.mjs"));
    const notes: string[] = [];
    const setup: Record<string, string | number> = {
      unpdf: packageVersion("unpdf"),
      "tesseract.js-core": packageVersion("tesseract.js-core"),
      "@tesseract.js-data/eng": packageVersion("@tesseract.js-data/eng"),
      pdftotext: versions.pdftotext,
      tesseractCli: versions.tesseract,
      textRounds: TEXT_ROUNDS,
    };
    if (!haveCorpus) notes.push(`No corpus at ${CORPUS_DIR}: corpus cases skipped (set MEDCHR_CORPUS).`);
    const tmp = await mkdtemp(join(tmpdir(), "medchr-bench-extraction-"));
    let engine: OcrEngine | null = null;
    try {
      // -------------------------------------------------------------- text layer
      const truths = haveCorpus ? await readTruths() : [];
      const corpusText = await Promise.all(
        truths
          .filter((t) => t.format === "pdf_text")
          .map(async (t) => {
            const path = join(CORPUS_DIR, t.file);
            return { path, bytes: new Uint8Array(await readFile(path)), pages: t.pages };
          }),
      );
      const synthetic: Array<{ path: string; bytes: Uint8Array; pages: number }> = [];
      for (const pages of [10, 100]) {
        const bytes = buildSyntheticTextPdf(syntheticReportPages(pages, pages));
        const path = join(tmp, `synthetic-${pages}.pdf`);
        await writeFile(path, bytes);
        synthetic.push({ path, bytes, pages });
      }
      const textSets = [
        ...(corpusText.length > 0
          ? [
              {
                panel: `corpus text-layer PDFs, file by file (${corpusText.length} files, ${corpusText.reduce((n, f) => n + f.pages, 0)} pages)`,
                files: corpusText,
              },
            ]
          : []),
        ...synthetic.map((s) => ({ panel: `generated ${s.pages}-page PDF (Courier, one file)`, files: [s] })),
      ];
      // Warm-up: pdf.js's first document loads its worker code and fonts' metrics.
      for (const set of textSets) {
        for (const f of set.files) await extractDocumentText(f.bytes);
      }
      const cases: BenchCase[] = [];
      for (const set of textSets) {
        const ours = await timeTextLayer(
          { name: "ours: unpdf (pdf.js)", group: "ours (in process)", panel: set.panel },
          set.files,
          "ours",
        );
        const native = await timeTextLayer(
          { name: "pdftotext -layout", group: "pdftotext (a process per file)", panel: set.panel },
          set.files,
          "pdftotext",
        );
        cases.push(ours, native);
        console.info(
          `  ${set.panel}: ours ${ours.perSecond} pages/s, pdftotext ${native.perSecond} pages/s (median of ${TEXT_ROUNDS})`,
        );
      }
      // How far our text layer is from pdftotext's, character for character, on the corpus.
      if (corpusText.length > 0) {
        let edits = 0;
        let chars = 0;
        for (const f of corpusText) {
          const ours = await extractDocumentText(f.bytes);
          if (!ours.ok) throw new Error(`text layer of ${f.path} not read`);
          const theirs = (await run("pdftotext", ["-layout", f.path, "-"], { maxBuffer: MAX_BUFFER })).stdout;
          const ref = normaliseForCer(theirs);
          edits += levenshtein(normaliseForCer(ours.value.pages.map((p) => p.text).join("\n")), ref);
          chars += ref.length;
        }
        setup["text layer: ours vs pdftotext CER %"] = round3((100 * edits) / chars);
        notes.push(
          `Text layer fidelity: our page text differs from pdftotext -layout's by ${round3((100 * edits) / chars)} % of characters (Levenshtein after whitespace normalisation) on the corpus's text-layer PDFs.`,
        );
      }

      // -------------------------------------------------------------- OCR pages
      const ocrPages: OcrPage[] = [];
      // Generated pages with exact truth: the lab page the OCR tests use (PNG) and three
      // report pages like the ingestion benchmark's scan (JPEG).
      const labPng = await encodeGreyPng(syntheticLabPage());
      const generated = [
        { lines: SYNTHETIC_LAB_LINES as readonly string[], bytes: labPng, ext: "png" },
        ...scanSyntheticPages(syntheticReportPages(3, 3)).map((p) => ({
          lines: p.lines,
          bytes: p.jpeg,
          ext: "jpg",
        })),
      ];
      for (const [i, g] of generated.entries()) {
        const path = join(tmp, `generated-${i + 1}.${g.ext}`);
        await writeFile(path, g.bytes);
        ocrPages.push({ set: "generated", path, bytes: g.bytes, truth: g.lines.join("\n"), truthFile: null });
      }
      if (haveCorpus) {
        // Corpus text-layer pages rasterised as the corpus scans were; truth = their text layer.
        const rasterDir = join(tmp, "raster");
        await mkdir(rasterDir);
        for (const t of truths.filter((x) => x.format === "pdf_text")) {
          const src = join(CORPUS_DIR, t.file);
          const prefix = t.file.replace(/\.pdf$/, "");
          await run("pdftoppm", [
            "-r",
            String(RASTER_DPI),
            "-gray",
            "-jpeg",
            "-jpegopt",
            `quality=${RASTER_JPEG_QUALITY}`,
            src,
            join(rasterDir, prefix),
          ]);
          const images = await outputsOf(rasterDir, prefix, ".jpg");
          if (images.length !== t.pages) throw new Error(`pdftoppm made ${images.length} pages of ${t.file}`);
          for (const [i, path] of images.entries()) {
            const truth = (
              await run("pdftotext", ["-layout", "-f", String(i + 1), "-l", String(i + 1), src, "-"], {
                maxBuffer: MAX_BUFFER,
              })
            ).stdout;
            ocrPages.push({
              set: "rasterised",
              path,
              bytes: new Uint8Array(await readFile(path)),
              truth,
              truthFile: null,
            });
          }
        }
        // The corpus's own scans and photographs: images as they are, scanned PDFs' embedded JPEGs.
        const scanDir = join(tmp, "scans");
        await mkdir(scanDir);
        for (const t of truths.filter((x) => ["image", "pdf_scan", "pdf_mixed"].includes(x.format))) {
          const src = join(CORPUS_DIR, t.file);
          let paths: string[];
          if (t.format === "image") paths = [src];
          else {
            const prefix = t.file.replace(/\.pdf$/, "");
            await run("pdfimages", ["-j", src, join(scanDir, prefix)]);
            paths = await outputsOf(scanDir, prefix, ".jpg");
            if (paths.length === 0) throw new Error(`no JPEG page image in ${t.file}`);
          }
          // One page image per document here: the truth's strings are all on it. A mixed PDF's
          // truth also covers its text-layer pages, so it is timed but not scored.
          if (paths.length !== 1) throw new Error(`${t.file}: ${paths.length} page images, expected one`);
          ocrPages.push({
            set: "corpus",
            path: paths[0]!,
            bytes: new Uint8Array(await readFile(paths[0]!)),
            truth: null,
            truthFile: t.format === "pdf_mixed" ? null : t,
          });
        }
      }

      // Our traineddata, unpacked for the CLI's like-for-like run.
      const tessdata = join(tmp, "tessdata");
      await mkdir(tessdata);
      const dataDir = join(REPO_ROOT, "node_modules", "@tesseract.js-data", "eng", "4.0.0_best_int");
      await writeFile(
        join(tessdata, "eng.traineddata"),
        gunzipSync(await readFile(join(dataDir, "eng.traineddata.gz"))),
      );

      const startT0 = performance.now();
      const created = await createOcrEngine(await loadNodeOcrAssets());
      if (!created.ok) throw new Error(`our OCR engine did not start: ${created.error.code}`);
      engine = created.value;
      const engineStartMs = performance.now() - startT0;
      const runners = [oursRunner(engine), ...cliRunners(tessdata)];

      // What one tesseract process costs before any page: start-up and model load, on a blank image.
      const blank = join(tmp, "blank.png");
      await writeFile(blank, await encodeGreyPng(renderTestPage([], { width: 64, height: 64 })));
      const startups: Record<string, number> = {};
      for (const r of runners.filter((x) => x.id !== "ours")) {
        const samples: number[] = [];
        for (let i = 0; i < 5; i++) {
          const t0 = performance.now();
          await r.recognize(blank, new Uint8Array());
          samples.push(performance.now() - t0);
        }
        startups[r.id] = Math.round(samples.sort((a, b) => a - b)[2]!);
      }
      // Warm-up for our engine (first recognise grows the wasm memory).
      await engine.recognize(generated[0]!.bytes);

      const sets = [...new Set(ocrPages.map((p) => p.set))];
      const tallies = new Map<string, OcrTally>();
      const tally = (set: string, id: string) => {
        const key = `${set}|${id}`;
        let t = tallies.get(key);
        if (!t) {
          t = emptyTally();
          tallies.set(key, t);
        }
        return t;
      };
      const started = performance.now();
      for (const [n, page] of ocrPages.entries()) {
        for (const r of runners) {
          const t0 = performance.now();
          const text = await r.recognize(page.path, page.bytes);
          const ms = performance.now() - t0;
          const t = tally(page.set, r.id);
          t.ms += ms;
          t.pages++;
          if (page.truth !== null) {
            const ref = normaliseForCer(page.truth);
            const edits = levenshtein(normaliseForCer(text), ref);
            t.edits += edits;
            t.refChars += ref.length;
            t.pageCer.push(edits / Math.max(1, ref.length));
          }
          if (page.truthFile) {
            const flat = squash(text);
            const lines = text.split("\n");
            for (const p of page.truthFile.phi) {
              t.phiTotal++;
              if (flat.includes(squash(p.text))) t.phiFound++;
            }
            for (const l of page.truthFile.labs) {
              t.labTotal++;
              if (labRowRead(lines, l.name_as_printed, l.value)) t.labFound++;
            }
          }
        }
        process.stderr.write(
          `\r  OCR page ${n + 1}/${ocrPages.length} (${page.set}) ${((performance.now() - started) / 1000).toFixed(0)} s `,
        );
      }
      process.stderr.write("\n");

      // -------------------------------------------------------------- report
      const setTitle: Record<string, string> = {
        generated: `generated pages (${ocrPages.filter((p) => p.set === "generated").length})`,
        rasterised: `corpus text pages rasterised (${ocrPages.filter((p) => p.set === "rasterised").length})`,
        corpus: `corpus scans and photos (${ocrPages.filter((p) => p.set === "corpus").length})`,
      };
      const speedPanels = sets.map((set) => ({
        title: setTitle[set]!,
        bars: runners.map((r) => {
          const t = tally(set, r.id);
          return { label: r.label, value: t.ms / t.pages, group: r.id === "ours" ? "ours" : r.label };
        }),
      }));
      const cerPanels = sets
        .filter((set) => set !== "corpus")
        .map((set) => ({
          title: setTitle[set]!,
          bars: runners.map((r) => {
            const t = tally(set, r.id);
            return {
              label: r.label,
              value: (1000 * t.edits) / t.refChars,
              group: r.id === "ours" ? "ours" : r.label,
            };
          }),
        }));
      const recallPanels = sets.includes("corpus")
        ? [
            {
              title: "corpus scans: PHI strings read verbatim",
              bars: runners.map((r) => {
                const t = tally("corpus", r.id);
                return {
                  label: r.label,
                  value: pct(t.phiFound, t.phiTotal),
                  group: r.id === "ours" ? "ours" : r.label,
                };
              }),
            },
            {
              title: "corpus scans: lab rows readable (name and value on one line)",
              bars: runners.map((r) => {
                const t = tally("corpus", r.id);
                return {
                  label: r.label,
                  value: pct(t.labFound, t.labTotal),
                  group: r.id === "ours" ? "ours" : r.label,
                };
              }),
            },
          ]
        : [];
      for (const set of sets) {
        for (const r of runners) {
          const t = tally(set, r.id);
          const sPerPage = round3(t.ms / t.pages / 1000);
          const line = [`${set} ${r.id}: ${sPerPage} s/page over ${t.pages} pages`];
          setup[`ocr ${set} ${r.id} s/page`] = sPerPage;
          if (t.refChars > 0) {
            const cer = round3((100 * t.edits) / t.refChars);
            const sorted = [...t.pageCer].sort((a, b) => a - b);
            const median = round3(100 * sorted[Math.floor(sorted.length / 2)]!);
            setup[`ocr ${set} ${r.id} CER %`] = cer;
            setup[`ocr ${set} ${r.id} median page CER %`] = median;
            line.push(`CER ${cer} % (${t.edits} edits / ${t.refChars} chars; median page ${median} %)`);
          }
          if (t.phiTotal > 0) {
            setup[`ocr ${set} ${r.id} PHI verbatim`] = `${t.phiFound}/${t.phiTotal}`;
            setup[`ocr ${set} ${r.id} lab rows`] = `${t.labFound}/${t.labTotal}`;
            line.push(
              `PHI verbatim ${t.phiFound}/${t.phiTotal} = ${pct(t.phiFound, t.phiTotal)} %, lab rows ${t.labFound}/${t.labTotal} = ${pct(t.labFound, t.labTotal)} %`,
            );
          }
          console.info(`  ${line.join("; ")}`);
          notes.push(`OCR ${line.join("; ")}.`);
        }
      }
      setup["ours engine start-up ms (wasm compile + model load)"] = Math.round(engineStartMs);
      for (const [id, ms] of Object.entries(startups)) setup[`${id} process start-up ms (blank image)`] = ms;
      notes.push(
        `OCR engines: ours = tesseract.js-core ${packageVersion("tesseract.js-core")} SIMD LSTM build in Node, one engine for all pages, PSM 6, eng 4.0.0_best_int, one thread (engine start ${Math.round(engineStartMs)} ms once, not counted per page); "tesseract CLI" = \`tesseract <image> -\` as installed (${versions.tesseract}, PSM 3, Debian eng 4.1.0 model, OpenMP threads), "1 thread" = the same with OMP_THREAD_LIMIT=1, "CLI, our settings" = \`--psm 6 --oem 1 -c preserve_interword_spaces=1\` with our best_int model, OMP_THREAD_LIMIT=1. CLI times include one process per page: ${Object.entries(
          startups,
        )
          .map(([id, ms]) => `${id} ${ms} ms`)
          .join(", ")} of start-up and model load on a blank image.`,
        "CER = Levenshtein distance / reference length after NFKC, ASCII quotes and dashes, rule lines (runs of 4+ of - = _ ~ * .) removed, and every whitespace run collapsed to one space (so layout spacing and line breaks do not count, reading order does). Rasterised pages: pdftoppm -r 200 -gray -jpeg -jpegopt quality=70, truth = pdftotext -layout of the same page; generated pages: the drawn lines.",
        "Corpus scans have no full-text truth: PHI = the truth file's PHI strings found verbatim (case-insensitive, whitespace-normalised), lab rows = the truth's printed lab name and value on one OCR line. PSM 3 (the CLI default) may read a table's columns as separate blocks: the characters are right but out of row order, which costs it lab rows here and edits in CER.",
        "The machine is shared (2 cores, other engineers' jobs running): absolute times move by 10-20 % between runs; the engines were run page by page in turn so they saw the same load.",
      );

      const subtitle = chartSubtitle("extraction");
      await mkdir(CHARTS_DIR, { recursive: true });
      await writeFile(
        join(CHARTS_DIR, "extraction-ocr-speed.svg"),
        renderBarChart({
          title: "OCR: milliseconds per page, same images (lower is better)",
          subtitle,
          unit: "ms/page",
          panels: speedPanels,
        }),
      );
      await writeFile(
        join(CHARTS_DIR, "extraction-ocr-cer.svg"),
        renderBarChart({
          title: "OCR: character errors per 1,000 characters (lower is better)",
          subtitle,
          unit: "per 1,000",
          panels: cerPanels,
        }),
      );
      if (recallPanels.length > 0) {
        await writeFile(
          join(CHARTS_DIR, "extraction-ocr-recall.svg"),
          renderBarChart({
            title: "OCR on corpus scans: truth strings read (higher is better)",
            subtitle,
            unit: "%",
            panels: recallPanels,
          }),
        );
      }
      console.info(
        "  wrote doc/bench/extraction-ocr-speed.svg, extraction-ocr-cer.svg, extraction-ocr-recall.svg",
      );
      notes.unshift(
        `Text layer: ours = extractDocumentText (unpdf/pdf.js in this process: parse, text items, layout with column gaps, text-or-scan decision per page); pdftotext = \`pdftotext -layout <file> -\`, one process per file (what calling the native tool costs). Each round reads the set repeatedly, at least ${TEXT_MIN_PAGES_PER_ROUND} pages; median of ${TEXT_ROUNDS} rounds after a warm-up.`,
      );
      return { unit: "pages", cases, notes, setup };
    } finally {
      engine?.dispose();
      await rm(tmp, { recursive: true, force: true });
    }
  },
};

export default benchmark;
