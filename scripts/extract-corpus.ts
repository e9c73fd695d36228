/**
 * npm run extract:corpus -- <dir> --out <dir>
 *
 * Runs the engine over every document of a folder (pdf, png, jpg, jpeg, tif, tiff, txt; truth and
 * prediction JSON files are skipped), writes one .pred.json per document, shows a progress line on
 * stderr and prints timing per format (pdf_text, pdf_scan, pdf_mixed, image, text, derived from
 * where each page's text came from) and OCR seconds per page. One OCR engine is shared.
 */
import { readdir } from "node:fs/promises";
import { extname, join } from "node:path";
import { createNodeOcr, describeFormat, extractFile, writePrediction } from "./extract";
import { runCli, UsageError } from "./lib/cli";

const EXTENSIONS = new Set([".pdf", ".png", ".jpg", ".jpeg", ".tif", ".tiff", ".txt", ".text"]);

interface FormatStats {
  docs: number;
  pages: number;
  ocrPages: number;
  ocrMs: number;
  textMs: number;
  factsMs: number;
}

function parseArgs(argv: readonly string[]): { dir: string; out: string } {
  let dir: string | null = null;
  let out: string | null = null;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--out") out = argv[++i] ?? null;
    else if (a.startsWith("--")) throw new UsageError(`unknown option ${a}`);
    else if (dir === null) dir = a;
    else throw new UsageError(`unexpected argument ${a}`);
  }
  if (!dir || !out) throw new UsageError("usage: npm run extract:corpus -- <dir> --out <dir>");
  return { dir, out };
}

const secs = (ms: number, digits = 2) => (ms / 1000).toFixed(digits);

async function main(): Promise<number> {
  const { dir, out } = parseArgs(process.argv.slice(2));
  const files = (await readdir(dir)).filter((f) => EXTENSIONS.has(extname(f).toLowerCase())).sort();
  if (files.length === 0) throw new UsageError(`no documents in ${dir}`);
  const ocr = createNodeOcr();
  const stats = new Map<string, FormatStats>();
  const started = performance.now();
  const failures: string[] = [];
  try {
    for (const [i, file] of files.entries()) {
      const ocrMsBefore = ocr.stats.ms;
      const result = await extractFile(join(dir, file), ocr);
      const elapsed = secs(performance.now() - started, 1);
      process.stderr.write(`\r[${i + 1}/${files.length}] ${file.padEnd(28)} ${elapsed.padStart(7)} s `);
      if (!result.ok) {
        // Error codes only: messages are fixed strings, but nothing from the document is printed.
        failures.push(`${file}: ${result.error.code}`);
        continue;
      }
      const x = result.value;
      await writePrediction(file, out, x);
      const fmt = describeFormat(x);
      const s = stats.get(fmt) ?? { docs: 0, pages: 0, ocrPages: 0, ocrMs: 0, textMs: 0, factsMs: 0 };
      stats.set(fmt, s);
      s.docs++;
      s.pages += x.text.pages.length;
      s.ocrPages += x.ocrPages;
      s.ocrMs += ocr.stats.ms - ocrMsBefore;
      s.textMs += x.textMs;
      s.factsMs += x.factsMs;
    }
  } finally {
    ocr.dispose();
  }
  process.stderr.write("\n");
  for (const f of failures) console.error(`failed: ${f}`);
  console.log("format     docs  pages  ocr_pages  text_s  ocr_s  facts_s  s/doc  ocr_s/page");
  for (const [fmt, s] of [...stats.entries()].sort()) {
    console.log(
      `${fmt.padEnd(9)} ${String(s.docs).padStart(5)} ${String(s.pages).padStart(6)} ${String(s.ocrPages).padStart(10)} ` +
        `${secs(s.textMs).padStart(7)} ${secs(s.ocrMs).padStart(6)} ${secs(s.factsMs, 3).padStart(8)} ` +
        `${secs((s.textMs + s.factsMs) / Math.max(1, s.docs)).padStart(6)} ` +
        `${(s.ocrPages ? secs(s.ocrMs / s.ocrPages) : "-").padStart(11)}`,
    );
  }
  const total = performance.now() - started;
  console.log(
    `total ${files.length} documents in ${secs(total, 1)} s; OCR ${ocr.stats.pages} pages in ${secs(ocr.stats.ms, 1)} s = ` +
      `${ocr.stats.pages ? secs(ocr.stats.ms / ocr.stats.pages) : "-"} s/page (engine start-up excluded)`,
  );
  return failures.length > 0 ? 1 : 0;
}

await runCli(main);
