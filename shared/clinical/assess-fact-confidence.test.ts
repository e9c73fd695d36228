import { describe, expect, it } from "vitest";
import { assessClinicalFacts, isKnownAllergySubstance } from "./assess-fact-confidence";
import type { PageText } from "./document-lines";
import { extractClinicalFacts } from "./extract-clinical-facts";

const at = (page: number) => ({ page, start: 0, end: 4 });
const pages: PageText[] = [
  { pageNumber: 1, text: "typed", source: "text_layer" },
  { pageNumber: 2, text: "clear scan", source: "ocr", ocrConfidence: 88 },
  { pageNumber: 3, text: "hard scan", source: "ocr", ocrConfidence: 41 },
];
const med = (name: string, generic: string | null, page = 1) => ({
  name,
  generic_name: generic,
  dose: null,
  route: null,
  frequency: null,
  provenance: at(page),
});

describe("assessClinicalFacts", () => {
  it("trusts a known term on a text layer, less on a scan, and marks a hard scan", () => {
    const out = assessClinicalFacts(
      {
        medications: [
          med("Metformin", "metformin"),
          med("Metformin", "metformin", 2),
          med("Metformin", "metformin", 3),
        ],
        diagnoses: [],
        allergies: [],
        vitals: [],
      },
      pages,
    );
    expect(out.medications.map((m) => [m.confidence, m.review])).toEqual([
      [0.95, []],
      [0.88, []],
      [0.41, ["low_ocr_confidence"]],
    ]);
  });

  it("marks names no terminology knows, for each kind of fact", () => {
    const out = assessClinicalFacts(
      {
        medications: [med("Glucophage", null), med("Zorbleximab", null)],
        diagnoses: [
          {
            text: "Hypertension",
            icd10: "I10",
            icd10_source: "terminology",
            negated: false,
            family_history: false,
            provenance: at(1),
          },
          {
            text: "Wound care",
            icd10: null,
            icd10_source: null,
            negated: false,
            family_history: false,
            provenance: at(1),
          },
        ],
        allergies: [
          { substance: "Penicillin", reaction: "rash", provenance: at(1) },
          { substance: "Peanuts", reaction: null, provenance: at(1) },
          { substance: "Safety netting", reaction: null, provenance: at(3) },
        ],
        vitals: [{ type: "hr", value: "72", unit: "bpm", provenance: at(3) }],
      },
      pages,
    );
    // A brand the extractor left without a generic is still resolved from the drug table.
    expect(out.medications.map((m) => m.review)).toEqual([[], ["term_not_recognised"]]);
    expect(out.medications[1]!.confidence).toBe(0.5);
    expect(out.diagnoses.map((d) => d.review)).toEqual([[], ["term_not_recognised"]]);
    expect(out.allergies.map((a) => a.review)).toEqual([
      [],
      [],
      ["low_ocr_confidence", "term_not_recognised"],
    ]);
    expect(out.vitals.map((v) => [v.confidence, v.review])).toEqual([[0.41, ["low_ocr_confidence"]]]);
  });

  it("is what the on-box provider stores with every fact", () => {
    const text = [
      "Medications",
      "Metformin 500 mg twice daily",
      "",
      "Allergies",
      "Penicillin (rash)",
      "",
      "Problem list",
      "Type 2 diabetes mellitus",
    ].join("\n");
    const out = extractClinicalFacts([{ pageNumber: 1, text, source: "text_layer" }]);
    for (const fact of [...out.medications, ...out.allergies, ...out.diagnoses]) {
      expect(fact.confidence).toBe(0.95);
      expect(fact.review).toEqual([]);
    }
    expect(out.medications).toHaveLength(1);
    expect(out.allergies).toHaveLength(1);
    expect(out.diagnoses.length).toBeGreaterThan(0);
  });
});

describe("isKnownAllergySubstance", () => {
  it("knows drugs (generic and brand), classes and foods, singular or plural", () => {
    for (const s of ["Penicillin", "penicillins", "Amoxil", "Sulfonamides", "Peanuts", "peanut", "Latex"])
      expect(isKnownAllergySubstance(s), s).toBe(true);
    for (const s of ["Safety netting", "Things we discussed", "Asp"])
      expect(isKnownAllergySubstance(s), s).toBe(false);
  });
});
