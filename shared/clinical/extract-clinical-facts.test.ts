import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { extractDocumentText } from "../text/extract-document-text";
import { extractClinicalFacts } from "./extract-clinical-facts";
import { ClinicalExtractionSchema } from "./schema";

const CORPUS = "/work/shared/corpus";

async function pagesOf(file: string) {
  const r = await extractDocumentText(new Uint8Array(readFileSync(`${CORPUS}/${file}`)));
  if (!r.ok) throw new Error(r.error.code);
  return r.value.pages;
}

describe("extractClinicalFacts on a two-page text-layer clinic note", () => {
  it("produces a schema-valid extraction with cited facts", async () => {
    const pages = await pagesOf("dev-027.pdf");
    const facts = extractClinicalFacts(pages);
    expect(ClinicalExtractionSchema.safeParse(facts).success).toBe(true);
    expect(facts.classification).toMatchObject({ document_type: "clinic_note", service_date: "2024-03-26" });
    expect(facts.medications.map((m) => m.name)).toEqual([
      "Metformin",
      "Empagliflozin",
      "Lisinopril",
      "Atorvastatin",
    ]);
    expect(facts.allergies.map((a) => [a.substance, a.reaction])).toEqual([
      ["Codeine", "nausea and vomiting"],
    ]);
    const coded = facts.diagnoses.filter((d) => d.icd10_source === "printed").map((d) => d.icd10);
    expect(coded).toEqual(["E11.65", "I10", "E78.5", "E66.9"]);
    expect(facts.diagnoses.find((d) => d.text === "chest pain")?.negated).toBe(true);
    expect(facts.vitals.find((v) => v.type === "bp")).toMatchObject({ value: "134/82", unit: "mmHg" });
    // Narrative A1c values ("improved from 8.6% to 7.1%") are not lab results.
    expect(facts.labs).toEqual([]);
    // Every citation points at the cited words on the cited page.
    const at = (p: { page: number; start: number; end: number }) =>
      pages[p.page - 1]!.text.slice(p.start, p.end);
    // Wrapped lines are joined with one space in the fact text; the cited span keeps the newline.
    for (const d of facts.diagnoses) expect(at(d.provenance).replace(/\s+/g, " ")).toBe(d.text);
    for (const m of facts.medications) expect(at(m.provenance).startsWith(m.name)).toBe(true);
    for (const a of facts.allergies) expect(at(a.provenance)).toContain(a.substance);
  });

  it("lab report rows carry LOINC, printed units, flags and the collection date", async () => {
    const facts = extractClinicalFacts(await pagesOf("dev-011.pdf"));
    expect(facts.classification.document_type).toBe("lab_report");
    expect(facts.labs.map((l) => [l.name, l.loinc, l.value, l.flag, l.observed_at])).toEqual([
      ["SPECIFIC GRAVITY", "5811-5", 1.021, "N", "2024-05-06"],
      ["PH", "5803-2", 6, "N", "2024-05-06"],
      ["PROTEIN", "5804-0", "Trace", null, "2024-05-06"],
      ["GLUCOSE", "5792-7", "Negative", null, "2024-05-06"],
      ["KETONES", "5797-6", "Negative", null, "2024-05-06"],
      ["OCCULT BLOOD", "5794-3", "1+", null, "2024-05-06"],
      ["LEUKOCYTE ESTERASE", "5799-2", "2+", null, "2024-05-06"],
      ["NITRITE", "5802-4", "Positive", null, "2024-05-06"],
      ["HCG, QUALITATIVE", "2106-3", "Negative", null, "2024-05-06"],
    ]);
  });

  it("the schema rejects malformed provider output", () => {
    const bad = {
      provider: "x",
      classification: { document_type: "letter", service_date: "03/04/2024", facility: null, confidence: 2 },
      labs: [],
      medications: [],
      diagnoses: [
        {
          text: "",
          icd10: "bad",
          icd10_source: null,
          negated: "no",
          family_history: false,
          provenance: { page: 0, start: 5, end: 1 },
        },
      ],
      allergies: [],
      no_known_allergies: false,
      vitals: [],
    };
    const r = ClinicalExtractionSchema.safeParse(bad);
    expect(r.success).toBe(false);
    if (!r.success) expect(r.error.issues.length).toBeGreaterThanOrEqual(6);
  });
});

describe("extractClinicalFacts: dates in the document's own order", () => {
  it("dates a UK laboratory report's results day-first", () => {
    const text = [
      "Department of Clinical Biochemistry",
      "Blood Sciences Report",
      "Collected: 03/04/2025 08:10",
      "Sodium 139 mmol/L (133-146)",
      "Potassium 4.2 mmol/L (3.5-5.3)",
      "Haemoglobin 128 g/L (115-165)",
      "Requested by GP, Northgate Surgery",
    ].join("\n");
    const facts = extractClinicalFacts([{ pageNumber: 1, text, source: "text_layer" }]);
    expect(facts.classification).toMatchObject({ document_type: "lab_report", service_date: "2025-04-03" });
    expect(facts.labs.length).toBeGreaterThanOrEqual(3);
    for (const lab of facts.labs) expect(lab.observed_at).toBe("2025-04-03");
  });
});

describe("extractClinicalFacts: a cumulative table with units and ranges before the dated results", () => {
  it("reads one result per date, each with the row's unit and range and its own date", () => {
    const text = [
      "CUMULATIVE REPORT - CLINICAL BIOCHEMISTRY",
      "Test            Units    Ref range    03/01/2025   15/06/2025   20/09/2025",
      "Sodium          mmol/L   133-146      139          141          137",
      "Potassium       mmol/L   3.5-5.3      4.1          5.6 H        4.4",
      "Creatinine      umol/L   59-104       88                        121 H",
    ].join("\n");
    const facts = extractClinicalFacts([{ pageNumber: 1, text, source: "text_layer" }]);
    const rows = facts.labs.map((l) => [
      l.name,
      l.value,
      l.unit,
      l.ref_low,
      l.ref_high,
      l.flag,
      l.observed_at,
    ]);
    expect(rows).toEqual([
      ["Sodium", 139, "mmol/L", 133, 146, "N", "2025-01-03"],
      ["Sodium", 141, "mmol/L", 133, 146, "N", "2025-06-15"],
      ["Sodium", 137, "mmol/L", 133, 146, "N", "2025-09-20"],
      ["Potassium", 4.1, "mmol/L", 3.5, 5.3, "N", "2025-01-03"],
      ["Potassium", 5.6, "mmol/L", 3.5, 5.3, "H", "2025-06-15"],
      ["Potassium", 4.4, "mmol/L", 3.5, 5.3, "N", "2025-09-20"],
      // A blank cell: the value goes to the date it stands under.
      ["Creatinine", 88, "umol/L", 59, 104, "N", "2025-01-03"],
      ["Creatinine", 121, "umol/L", 59, 104, "H", "2025-09-20"],
    ]);
    for (const lab of facts.labs) {
      expect(lab.provenance.end).toBeLessThanOrEqual(text.length);
      expect(text.slice(lab.provenance.start, lab.provenance.end)).toMatch(new RegExp(`^${lab.name}`));
    }
  });
});
