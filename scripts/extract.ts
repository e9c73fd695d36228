/**
 * npm run extract -- <file> [--out DIR]
 *
 * Runs the ingestion engine on one local file (text layer / OCR, classification, on-box clinical
 * extraction) and writes <basename>.pred.json into DIR (default: beside the file), in the shape the
 * corpus scorer reads. Prints only counts and timings, never document content.
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { extractClinicalFacts } from "../shared/clinical/extract-clinical-facts";
import { type ClinicalExtraction, ClinicalExtractionSchema } from "../shared/clinical/schema";
import { extractDocumentText, lazyOcr } from "../shared/text/extract-document-text";
import { loadNodeOcrAssets } from "../shared/text/node-ocr-assets";
import { createOcrEngine, type OcrEngine } from "../shared/text/ocr-engine";
import type { ExtractedDocumentText, TextError } from "../shared/text/text-types";
import { runCli, UsageError } from "./lib/cli";

export interface FileExtraction {
  readonly text: ExtractedDocumentText;
  readonly facts: ClinicalExtraction;
  readonly textMs: number;
  readonly factsMs: number;
  readonly ocrPages: number;
}

export interface OcrProvider extends ReturnType<typeof lazyOcr> {
  /** OCR calls and wall time spent inside tesseract (image decoding included). */
  readonly stats: { pages: number; ms: number };
}

export function createNodeOcr(): OcrProvider {
  const stats = { pages: 0, ms: 0 };
  const inner = lazyOcr(async () => {
    const engine = await createOcrEngine(await loadNodeOcrAssets());
    if (!engine.ok) return engine;
    const timed: OcrEngine = {
      recognize: async (image, options) => {
        const t0 = performance.now();
        const r = await engine.value.recognize(image, options);
        stats.ms += performance.now() - t0;
        stats.pages++;
        return r;
      },
      dispose: () => engine.value.dispose(),
    };
    return { ok: true, value: timed };
  });
  return { ...inner, stats };
}

/** pdf_text / pdf_scan / pdf_mixed / image / text, from the format and where each page's text came from. */
export function describeFormat(x: FileExtraction): string {
  if (x.text.format === "text") return "text";
  if (x.text.format !== "pdf") return "image";
  const ocr = x.ocrPages;
  if (ocr === 0) return "pdf_text";
  return ocr === x.text.pages.length ? "pdf_scan" : "pdf_mixed";
}

export async function extractFile(
  path: string,
  ocr: OcrProvider,
): Promise<{ ok: true; value: FileExtraction } | { ok: false; error: TextError }> {
  const bytes = new Uint8Array(await readFile(path));
  const t0 = performance.now();
  const text = await extractDocumentText(bytes, { getOcr: ocr.get });
  const t1 = performance.now();
  if (!text.ok) return text;
  const facts = ClinicalExtractionSchema.parse(extractClinicalFacts(text.value.pages));
  const t2 = performance.now();
  return {
    ok: true,
    value: {
      text: text.value,
      facts,
      textMs: t1 - t0,
      factsMs: t2 - t1,
      ocrPages: text.value.pages.filter((p) => p.source === "ocr").length,
    },
  };
}

/**
 * Prediction file for score.mjs. `icd10` carries only printed codes (the corpus convention);
 * codes looked up from terminology go to `icd10_suggested`.
 */
export function toPrediction(x: FileExtraction): Record<string, unknown> {
  const f = x.facts;
  return {
    document_type: f.classification.document_type,
    service_date: f.classification.service_date,
    facility: f.classification.facility,
    classification_confidence: f.classification.confidence,
    pages: x.text.pages.length,
    page_sources: x.text.pages.map((p) => p.source),
    labs: f.labs.map((l) => ({
      name_as_printed: l.name,
      loinc: l.loinc,
      value: l.value,
      unit: l.unit,
      unit_ucum: l.unit_ucum,
      value_normalized: l.value_normalized,
      unit_normalized: l.unit_normalized,
      ref_low: l.ref_low,
      ref_high: l.ref_high,
      flag: l.flag,
      observed_at: l.observed_at,
      provenance: l.provenance,
    })),
    medications: f.medications.map((m) => ({
      name: m.name,
      generic_name: m.generic_name,
      dose: m.dose,
      route: m.route,
      frequency: m.frequency,
      provenance: m.provenance,
    })),
    diagnoses: f.diagnoses.map((d) => ({
      text: d.text,
      icd10: d.icd10_source === "printed" ? d.icd10 : null,
      icd10_suggested: d.icd10,
      negated: d.negated,
      family_history: d.family_history,
      provenance: d.provenance,
    })),
    allergies: f.allergies.map((a) => ({
      substance: a.substance,
      reaction: a.reaction,
      provenance: a.provenance,
    })),
    no_known_allergies: f.no_known_allergies,
    vitals: f.vitals.map((v) => ({ type: v.type, value: v.value, unit: v.unit, provenance: v.provenance })),
  };
}

export async function writePrediction(file: string, outDir: string, x: FileExtraction): Promise<string> {
  await mkdir(outDir, { recursive: true });
  const target = join(outDir, `${basename(file)}.pred.json`);
  await writeFile(target, `${JSON.stringify(toPrediction(x), null, 2)}\n`);
  return target;
}

function parseArgs(argv: readonly string[]): { file: string; out: string | null } {
  let file: string | null = null;
  let out: string | null = null;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--out") {
      out = argv[++i] ?? null;
      if (!out) throw new UsageError("--out needs a directory");
    } else if (a.startsWith("--")) throw new UsageError(`unknown option ${a}`);
    else if (file === null) file = a;
    else throw new UsageError(`unexpected argument ${a}`);
  }
  if (!file) throw new UsageError("usage: npm run extract -- <file> [--out DIR]");
  return { file, out };
}

async function main(): Promise<number> {
  const { file, out } = parseArgs(process.argv.slice(2));
  const ocr = createNodeOcr();
  try {
    const result = await extractFile(file, ocr);
    if (!result.ok) {
      console.error(`${basename(file)}: ${result.error.code}: ${result.error.message}`);
      return 1;
    }
    const x = result.value;
    const target = await writePrediction(file, out ?? dirname(resolve(file)), x);
    const f = x.facts;
    console.error(
      `${basename(file)}: ${f.classification.document_type} pages=${x.text.pages.length} ocr_pages=${x.ocrPages} ` +
        `labs=${f.labs.length} meds=${f.medications.length} dx=${f.diagnoses.length} allergies=${f.allergies.length} ` +
        `vitals=${f.vitals.length} text_ms=${x.textMs.toFixed(0)} facts_ms=${x.factsMs.toFixed(0)} -> ${target}`,
    );
    return 0;
  } finally {
    ocr.dispose();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  await runCli(main);
}
