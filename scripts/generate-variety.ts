/**
 * npm run generate:variety -- --out DIR [--count N] [--first SEED] [--labs N] [--scans N]
 *
 * Writes generated clinic letters (test/clinical-variety) as <file>.txt, with --labs N that
 * many laboratory reports as text and as PDFs whose cells are placed by position, and with
 * --scans N that many letters and lab reports as degraded JPEG scans (Chromium), each with
 * <file>.truth.json beside it in the corpus's format, so the same tools read them as the corpus:
 *   npm run extract:corpus -- DIR --out PRED && node ../shared/corpus/score.mjs --truth DIR --pred PRED
 * Synthetic documents only; deterministic for the seeds.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { generateClinicalLetter } from "../test/clinical-variety/generate-clinical-letters";
import { generateLabReport } from "../test/clinical-variety/generate-lab-reports";
import { renderLabReportPdf } from "../test/clinical-variety/render-lab-report-pdf";
import { drawDegradation, renderScan } from "../test/clinical-variety/render-scan";
import { launchChromium } from "../test/helpers/browser";
import { runCli, UsageError } from "./lib/cli";

await runCli(async () => {
  const { values } = parseArgs({
    options: {
      out: { type: "string" },
      count: { type: "string" },
      first: { type: "string" },
      labs: { type: "string" },
      scans: { type: "string" },
    },
  });
  if (!values.out)
    throw new UsageError(
      "usage: npm run generate:variety -- --out DIR [--count N] [--first SEED] [--labs N] [--scans N]",
    );
  const count = Number(values.count ?? 100);
  const first = Number(values.first ?? 1);
  if (!Number.isInteger(count) || count < 0 || count > 100_000) throw new UsageError("--count: 0 to 100000");
  if (!Number.isInteger(first) || first < 0) throw new UsageError("--first: a seed from 0");
  const labs = Number(values.labs ?? 0);
  if (!Number.isInteger(labs) || labs < 0 || labs > 100_000) throw new UsageError("--labs: 0 to 100000");
  const scans = Number(values.scans ?? 0);
  if (!Number.isInteger(scans) || scans < 0 || scans > 10_000) throw new UsageError("--scans: 0 to 10000");
  const out = resolve(values.out);
  await mkdir(out, { recursive: true });
  /** A document and its truth beside it, as the corpus lays them out. */
  const writeDocument = async (file: string, bytes: string | Uint8Array, truth: object) => {
    await writeFile(join(out, file), bytes);
    await writeFile(join(out, `${file}.truth.json`), `${JSON.stringify(truth, null, 2)}\n`);
  };
  for (let seed = first; seed < first + count; seed++) {
    const doc = generateClinicalLetter(seed);
    await writeDocument(doc.file, doc.text, doc.truth);
    if ((seed - first + 1) % 50 === 0 || seed === first + count - 1)
      process.stderr.write(`\r  generated ${seed - first + 1}/${count}`);
  }
  process.stderr.write("\n");
  for (let seed = first; seed < first + labs; seed++) {
    const doc = generateLabReport(seed);
    await writeDocument(doc.file, doc.text, doc.truth);
    const pdf = doc.file.replace(/\.txt$/, ".pdf");
    await writeDocument(pdf, renderLabReportPdf(doc), { ...doc.truth, file: pdf, format: "pdf_text" });
    if ((seed - first + 1) % 50 === 0 || seed === first + labs - 1)
      process.stderr.write(`\r  generated ${seed - first + 1}/${labs} lab reports (text and PDF)`);
  }
  if (labs > 0) process.stderr.write("\n");
  if (scans > 0) {
    const browser = await launchChromium();
    try {
      for (let seed = first; seed < first + scans; seed++) {
        const degradation = drawDegradation(seed);
        for (const doc of [generateClinicalLetter(seed), generateLabReport(seed)]) {
          const file = doc.file.replace(/\.txt$/, ".jpg");
          await writeDocument(file, await renderScan(browser, doc, degradation, seed), {
            ...doc.truth,
            file,
            format: "image",
            degradation,
          });
        }
        process.stderr.write(`\r  scanned ${seed - first + 1}/${scans} letters and lab reports`);
      }
      process.stderr.write("\n");
    } finally {
      await browser.close();
    }
  }
  console.log(
    `wrote ${count} letters${labs > 0 ? `, ${labs} lab reports as text and PDF` : ""}${scans > 0 ? `, ${scans} letters and ${scans} lab reports as scans` : ""} and their truth to ${out}`,
  );
  return 0;
});
