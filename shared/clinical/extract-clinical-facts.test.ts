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
