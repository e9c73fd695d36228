import { describe, expect, it } from "vitest";
import type { Diagnosis, LabResult, Medication } from "../clinical/schema";
import {
  allergyDedupKey,
  diagnosisDedupKey,
  labDedupKey,
  medicationDedupKey,
  normaliseText,
  vitalDedupKey,
} from "./fact-dedup-key";

const at = { page: 1, start: 0, end: 5 };

function lab(overrides: Partial<LabResult> = {}): LabResult {
  return {
    name: "Glucose",
    loinc: "2345-7",
    value: 105,
    unit: "mg/dL",
    unit_ucum: "mg/dL",
    value_normalized: 105,
    unit_normalized: "mg/dL",
    ref_low: 70,
    ref_high: 99,
    ref_text: "70-99",
    flag: "H",
    observed_at: "2025-03-13",
    provenance: at,
    ...overrides,
  };
}

function dx(overrides: Partial<Diagnosis> = {}): Diagnosis {
  return {
    text: "Type 2 diabetes mellitus",
    icd10: "E11.9",
    icd10_source: "printed",
    negated: false,
    family_history: false,
    provenance: at,
    ...overrides,
  };
}

function med(overrides: Partial<Medication> = {}): Medication {
  return {
    name: "Glucophage",
    generic_name: "metformin",
    dose: "500 mg",
    route: "PO",
    frequency: "BID",
    provenance: at,
    ...overrides,
  };
}

describe("lab keys: LOINC (or name), observed date, value", () => {
  it("matches the same test, date and value printed differently", () => {
    const key = labDedupKey(lab());
    expect(key).toBe("lab|loinc:2345-7|2025-03-13|105 mg/dL");
    expect(
      labDedupKey(
        lab({ name: "GLUCOSE, FASTING", ref_text: "65-99", flag: null, provenance: { ...at, page: 3 } }),
      ),
    ).toBe(key);
    // Unit-conversion noise does not split equal values.
    expect(labDedupKey(lab({ value_normalized: 105.00000000001 }))).toBe(key);
  });

  it("separates another date, another value or another test", () => {
    const key = labDedupKey(lab());
    expect(labDedupKey(lab({ observed_at: "2025-03-14" }))).not.toBe(key);
    expect(labDedupKey(lab({ value: 106, value_normalized: 106 }))).not.toBe(key);
    expect(labDedupKey(lab({ loinc: "2339-0" }))).not.toBe(key);
  });

  it("falls back to the normalised name, and to the printed value and unit", () => {
    const unknown = lab({
      name: "  Mystery   Marker ",
      loinc: null,
      value: "Negative",
      value_normalized: null,
      unit_normalized: null,
      unit_ucum: null,
      unit: null,
    });
    expect(labDedupKey(unknown)).toBe("lab|name:mystery marker|2025-03-13|negative");
    expect(labDedupKey({ ...unknown, name: "MYSTERY MARKER" })).toBe(labDedupKey(unknown));
    expect(labDedupKey(lab({ value_normalized: null, value: 5.5, unit_ucum: "mmol/L" }))).toBe(
      "lab|loinc:2345-7|2025-03-13|5.5 mmol/L",
    );
    expect(labDedupKey(lab({ observed_at: null }))).toBe("lab|loinc:2345-7||105 mg/dL");
  });
});

describe("diagnosis keys: ICD-10 (or text), negated, family history", () => {
  it("merges on the code whatever the wording, never across negation or family history", () => {
    const key = diagnosisDedupKey(dx());
    expect(key).toBe("diagnosis|icd10:E11.9|affirmed|patient");
    expect(diagnosisDedupKey(dx({ text: "DM2", icd10_source: "terminology" }))).toBe(key);
    expect(diagnosisDedupKey(dx({ negated: true }))).toBe("diagnosis|icd10:E11.9|negated|patient");
    expect(diagnosisDedupKey(dx({ family_history: true }))).toBe("diagnosis|icd10:E11.9|affirmed|family");
  });

  it("uses lower-cased text without a code", () => {
    expect(diagnosisDedupKey(dx({ icd10: null, icd10_source: null, text: "Chest  Pain." }))).toBe(
      diagnosisDedupKey(dx({ icd10: null, icd10_source: null, text: "chest pain" })),
    );
  });
});

describe("medication, allergy and vital keys", () => {
  it("medications: generic name and dose, spacing ignored", () => {
    expect(medicationDedupKey(med())).toBe("medication|metformin|500mg");
    expect(
      medicationDedupKey(med({ name: "Metformin", dose: "500mg", route: null, frequency: "daily" })),
    ).toBe("medication|metformin|500mg");
    expect(medicationDedupKey(med({ dose: "1000 mg" }))).not.toBe(medicationDedupKey(med()));
    expect(medicationDedupKey(med({ generic_name: null, name: "Herbal Tea", dose: null }))).toBe(
      "medication|herbal tea|",
    );
  });

  it("allergies: substance only", () => {
    expect(allergyDedupKey({ substance: "Penicillin", reaction: "hives", provenance: at })).toBe(
      allergyDedupKey({ substance: "PENICILLIN ", reaction: null, provenance: at }),
    );
  });

  it("vitals: type, value, unit and the document's date", () => {
    const bp = { type: "bp" as const, value: "134/82", unit: "mmHg", provenance: at };
    expect(vitalDedupKey(bp, "2024-03-26")).toBe("vital|bp|134/82|mmhg|2024-03-26");
    expect(vitalDedupKey(bp, "2024-04-26")).not.toBe(vitalDedupKey(bp, "2024-03-26"));
  });

  it("caps free text so keys fit the 600-character column", () => {
    expect(normaliseText("x".repeat(1000))).toHaveLength(160);
    const long = "y ".repeat(2000);
    expect(
      labDedupKey(
        lab({ loinc: null, name: long, value: long, value_normalized: null, unit: long, unit_ucum: null }),
      ).length,
    ).toBeLessThanOrEqual(600);
    expect(diagnosisDedupKey(dx({ icd10: null, text: long })).length).toBeLessThanOrEqual(600);
    expect(
      medicationDedupKey(med({ generic_name: null, name: long, dose: long })).length,
    ).toBeLessThanOrEqual(600);
  });
});
