import { describe, expect, it } from "vitest";
import {
  clinicalExtractionTask,
  formatPagesForModel,
  groundClinicalExtraction,
} from "./clinical-extraction-task";
import type { PageText } from "./document-lines";
import { extractClinicalFacts } from "./extract-clinical-facts";
import type { ClinicalExtraction } from "./schema";

const PAGES: PageText[] = [
  {
    pageNumber: 1,
    source: "text_layer",
    text: [
      "Comprehensive Metabolic Panel   Collected 2026-03-02",
      "Glucose            105   mg/dL    70-99    H",
      "Creatinine         1.10  mg/dL    0.6-1.3",
      "Medications: metformin 500 mg twice daily",
      "Assessment: type 2 diabetes\nmellitus without complications",
    ].join("\n"),
  },
  { pageNumber: 2, source: "text_layer", text: "Allergies: penicillin (rash)\nBP 128/82" },
];

const empty: ClinicalExtraction = {
  provider: "llm:test",
  classification: { document_type: "lab_report", service_date: null, facility: null, confidence: 0.9 },
  labs: [],
  medications: [],
  diagnoses: [],
  allergies: [],
  no_known_allergies: false,
  vitals: [],
};
const lab = (name: string, value: number | string, page = 1, start = 0, end = 0) => ({
  name,
  loinc: null,
  value,
  unit: null,
  unit_ucum: null,
  value_normalized: null,
  unit_normalized: null,
  ref_low: null,
  ref_high: null,
  ref_text: null,
  flag: null,
  observed_at: null,
  provenance: { page, start, end },
});

describe("groundClinicalExtraction", () => {
  it("keeps facts found in the source, re-pointing a model's wrong offsets at the evidence", () => {
    const g = groundClinicalExtraction(
      {
        ...empty,
        labs: [lab("Glucose", 105, 2, 5, 9), lab("Creatinine", 1.1, 1, 0, 3)],
        medications: [
          {
            name: "metformin",
            generic_name: null,
            dose: null,
            route: null,
            frequency: null,
            provenance: { page: 1, start: 0, end: 1 },
          },
        ],
        diagnoses: [
          {
            text: "type 2 diabetes mellitus",
            icd10: null,
            icd10_source: null,
            negated: false,
            family_history: false,
            provenance: { page: 1, start: 0, end: 0 },
          },
        ],
        allergies: [{ substance: "penicillin", reaction: "rash", provenance: { page: 1, start: 0, end: 0 } }],
      },
      PAGES,
    );
    expect(g.dropped).toBe(0);
    const page1 = PAGES[0]!.text;
    const glucose = g.output.labs[0]!.provenance;
    expect(glucose.page).toBe(1);
    expect(page1.slice(glucose.start, glucose.end)).toMatch(/^Glucose\s+105$/);
    // "1.1" is printed "1.10": trailing zeros after the point are the same number.
    expect(page1.slice(g.output.labs[1]!.provenance.start, g.output.labs[1]!.provenance.end)).toMatch(
      /1\.10$/,
    );
    // A diagnosis wrapped across two lines is still found.
    const dx = g.output.diagnoses[0]!.provenance;
    expect(page1.slice(dx.start, dx.end)).toBe("type 2 diabetes\nmellitus");
    expect(g.output.allergies[0]!.provenance.page).toBe(2);
  });

  it("drops and counts invented facts: a value never printed, a drug not in the text, markup", () => {
    const g = groundClinicalExtraction(
      {
        ...empty,
        labs: [
          lab("Glucose", 150),
          lab("Creatinine", 11),
          lab("Potassium", 4.2),
          lab("<script>alert(1)</script>", 1),
        ],
        medications: [
          {
            name: "warfarin",
            generic_name: null,
            dose: null,
            route: null,
            frequency: null,
            provenance: { page: 1, start: 0, end: 1 },
          },
        ],
        classification: { ...empty.classification, facility: "Invented Hospital" },
      },
      PAGES,
    );
    expect(g.output.labs).toEqual([]);
    expect(g.output.medications).toEqual([]);
    expect(g.output.classification.facility).toBeNull();
    expect(g.dropped).toBe(6);
  });

  it("leaves the on-box rules' own citations as they are", () => {
    const facts = extractClinicalFacts(PAGES);
    const g = clinicalExtractionTask.ground(facts, PAGES);
    expect(g.dropped).toBe(0);
    expect(g.output).toEqual(facts);
  });

  it("fences each page for the model, numbered as stored", () => {
    expect(formatPagesForModel(PAGES)).toMatch(
      /^<page number="1">\nComprehensive[\s\S]*<\/page>\n<page number="2">\nAllergies/,
    );
  });
});
