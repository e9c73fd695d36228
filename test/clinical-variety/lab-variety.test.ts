/**
 * The on-box lab extraction scored on generated laboratory reports at fixed seeds (issue 11):
 * tables with their columns in several orders, inline ranges, cumulative tables with the dates
 * after or before the unit and range columns, wrapped name cells, specimens and qualifiers
 * around names, UK and US laboratories; as plain text and as PDFs whose cells are placed by
 * position only. A result counts when its LOINC code, value and collection date are right.
 * The floors are what the mechanisms reach today; scores by variant are printed for
 * doc/benchmarks.md.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { extractClinicalFacts } from "../../shared/clinical/extract-clinical-facts";
import type { ClinicalExtraction } from "../../shared/clinical/schema";
import { extractDocumentText } from "../../shared/text/extract-document-text";
import { type GeneratedLabReport, generateLabReport } from "./generate-lab-reports";
import { renderLabReportPdf } from "./render-lab-report-pdf";
import { addTally, emptyTally, f1Of, scoreLabs, type Tally } from "./score-extraction";

const TEXT_SEEDS = Array.from({ length: 300 }, (_, i) => i + 1);
const PDF_SEEDS = TEXT_SEEDS.slice(0, 120);

interface Scored {
  all: Tally;
  byVariant: Map<string, Tally>;
  typeRight: number;
  dateRight: number;
  spansOff: string[];
  count: number;
}

function score(
  docs: readonly { doc: GeneratedLabReport; pages: string[]; prediction: ClinicalExtraction }[],
): Scored {
  const out: Scored = {
    all: emptyTally(),
    byVariant: new Map(),
    typeRight: 0,
    dateRight: 0,
    spansOff: [],
    count: 0,
  };
  for (const { doc, pages, prediction } of docs) {
    out.count++;
    const t = scoreLabs(prediction, doc.truth.labs);
    addTally(out.all, t);
    for (const [k, v] of Object.entries(doc.truth.variant)) {
      const key = `${k}=${v}`;
      if (!out.byVariant.has(key)) out.byVariant.set(key, emptyTally());
      addTally(out.byVariant.get(key)!, t);
    }
    if (prediction.classification.document_type === "lab_report") out.typeRight++;
    if (prediction.classification.service_date === doc.truth.service_date) out.dateRight++;
    // Provenance: each result's span is on its page and holds the number that was read.
    for (const lab of prediction.labs) {
      const page = pages[lab.provenance.page - 1] ?? "";
      const span = page.slice(lab.provenance.start, lab.provenance.end);
      if (
        typeof lab.value === "number" &&
        !span.replace(/,/g, "").includes(String(lab.value).replace(/^0\./, "."))
      )
        out.spansOff.push(`${doc.file} ${lab.name} ${lab.value} in "${span}"`);
    }
  }
  return out;
}

function report(label: string, s: Scored): string {
  const f = f1Of(s.all);
  const rows = [...s.byVariant]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(
      ([v, t]) =>
        `  ${v.padEnd(30)} F1 ${f1Of(t).f1.toFixed(3)} (P ${f1Of(t).precision.toFixed(3)} R ${f1Of(t).recall.toFixed(3)})`,
    );
  return `${label}: labs F1 ${f.f1.toFixed(3)} (P ${f.precision.toFixed(3)} R ${f.recall.toFixed(3)}), type ${s.typeRight}/${s.count}, service date ${s.dateRight}/${s.count}\n${rows.join("\n")}`;
}

function expectFloors(s: Scored) {
  expect(f1Of(s.all).f1).toBeGreaterThanOrEqual(0.98);
  // Every layout, flag style, name style and locale holds, not only the average.
  for (const [variant, t] of s.byVariant) expect(f1Of(t).f1, variant).toBeGreaterThanOrEqual(0.95);
  expect(s.typeRight).toBe(s.count);
  expect(s.dateRight / s.count).toBeGreaterThanOrEqual(0.99);
  expect(s.spansOff).toEqual([]);
}

describe("generated laboratory reports as text (300 at fixed seeds)", () => {
  const docs = TEXT_SEEDS.map(generateLabReport).map((doc) => ({
    doc,
    pages: [doc.text],
    prediction: extractClinicalFacts([{ pageNumber: 1, text: doc.text, source: "text_layer" }]),
  }));
  const scored = score(docs);

  it("reads every result with its code, value and collection date, whatever the layout and names", () => {
    console.log(report(`generated lab reports, ${docs.length} as text`, scored));
    expectFloors(scored);
  });

  it("covers every layout, flag style, name style and both locales", () => {
    const variants = new Set(scored.byVariant.keys());
    for (const l of ["table", "inline", "cumulative", "cumulative-units-first", "wrapped"])
      expect(variants).toContain(`layout=${l}`);
    for (const f of ["letter", "word", "parenthesised", "bracketed", "starred", "none"])
      expect(variants).toContain(`flags=${f}`);
    for (const n of ["usual", "specimen", "capitals"]) expect(variants).toContain(`names=${n}`);
    for (const l of ["uk", "us"]) expect(variants).toContain(`locale=${l}`);
  });

  it("reads a wrapped name cell as the whole name and keeps the row's own position", () => {
    const wrapped = docs.find(
      ({ doc }) =>
        doc.truth.variant.layout === "wrapped" &&
        /^Alanine {2,}.*\n(?:aminotransferase|transaminase)$/m.test(doc.text),
    );
    expect(wrapped).toBeDefined();
    const alt = wrapped!.prediction.labs.find((l) => l.loinc === "1742-6");
    expect(alt?.name).toMatch(/^Alanine (?:aminotransferase|transaminase)$/);
    const line = wrapped!.doc.text.slice(alt!.provenance.start, alt!.provenance.end);
    expect(line.startsWith("Alanine")).toBe(true);
    expect(line).not.toContain("\n");
  });

  it("is the same report for the same seed", () => {
    expect(generateLabReport(5)).toEqual(generateLabReport(5));
    expect(generateLabReport(5).text).not.toBe(generateLabReport(6).text);
  });
});

describe("the same reports as PDFs whose table cells are placed by position only (120)", () => {
  let scored: Scored;
  beforeAll(async () => {
    const docs = [];
    for (const seed of PDF_SEEDS) {
      const doc = generateLabReport(seed);
      const text = await extractDocumentText(renderLabReportPdf(doc));
      if (!text.ok) throw new Error(`${doc.file}: ${text.error.code}`);
      const pages = text.value.pages.map((p) => ({
        pageNumber: p.pageNumber,
        text: p.text,
        source: "text_layer" as const,
      }));
      docs.push({ doc, pages: pages.map((p) => p.text), prediction: extractClinicalFacts(pages) });
    }
    scored = score(docs);
    console.log(report(`generated lab reports, ${docs.length} as PDFs`, scored));
  }, 120_000);

  it("lines the cells up under their column titles, an empty cell included", () => {
    expectFloors(scored);
  });
});
