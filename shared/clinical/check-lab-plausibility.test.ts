/**
 * Numbers checked for plausibility (issue 11): a lost decimal point, a value no living patient
 * has, a flag that disagrees, an unsure OCR page; a result that passes keeps a high confidence.
 */
import { describe, expect, it } from "vitest";
import { checkLabPlausibility, REVIEW_REASONS } from "./check-lab-plausibility";
import { extractClinicalFacts } from "./extract-clinical-facts";
import { LAB_LIMITS } from "./terminology/lab-limits";
import { LAB_TESTS } from "./terminology/lab-tests";

const text = { ocr: false, ocrConfidence: null };
const potassium = (value: number, flag: "H" | "L" | "N" | null = null) => ({
  loinc: "2823-3",
  value,
  value_normalized: value,
  ref_low: 3.5,
  ref_high: 5.1,
  flag,
});

describe("checkLabPlausibility", () => {
  it("passes a sound result with a high confidence", () => {
    expect(checkLabPlausibility(potassium(4.2, "N"), text)).toEqual({ confidence: 0.95, review: [] });
    expect(checkLabPlausibility(potassium(6.1, "H"), text).review).toEqual([]);
  });

  it("marks a lost decimal point (42 for 4.2) and a value no living patient has", () => {
    expect(checkLabPlausibility(potassium(42), text)).toEqual({
      confidence: 0.2,
      review: ["implausible_value", "decimal_suspect"],
    });
    const glucose = {
      loinc: "2345-7",
      value: 9500,
      value_normalized: 9500,
      ref_low: 70,
      ref_high: 99,
      flag: "H" as const,
    };
    expect(checkLabPlausibility(glucose, text).review).toContain("implausible_value");
  });

  it("marks a flag that disagrees with the value", () => {
    expect(checkLabPlausibility(potassium(3.1, "H"), text)).toMatchObject({
      review: ["flag_inconsistent"],
      confidence: 0.5,
    });
    expect(checkLabPlausibility(potassium(9.5, "N"), text).review).toContain("flag_inconsistent");
  });

  it("lowers the confidence of OCR readings, and asks for review where OCR was unsure", () => {
    expect(checkLabPlausibility(potassium(4.2), { ocr: true, ocrConfidence: 88 })).toEqual({
      confidence: 0.88,
      review: [],
    });
    expect(checkLabPlausibility(potassium(4.2), { ocr: true, ocrConfidence: 41 })).toEqual({
      confidence: 0.41,
      review: ["low_ocr_confidence"],
    });
  });

  it("leaves text results and results without a range alone", () => {
    expect(
      checkLabPlausibility({ ...potassium(0), value: "Negative", value_normalized: null }, text).review,
    ).toEqual([]);
    expect(
      checkLabPlausibility({ ...potassium(4.4), ref_low: null, ref_high: null, flag: "H" }, text).review,
    ).toEqual([]);
  });
});

describe("plausibility in the extraction", () => {
  it("marks a decimal point restored from the range on an OCR page for review, with its provenance", () => {
    const page =
      "LABORATORY REPORT\nCollected: 2025-03-01\nSodium 140 mmol/L 135-145\nPotassium 42 mmol/L 3.5-5.1\n";
    const facts = extractClinicalFacts([{ pageNumber: 1, text: page, source: "ocr", ocrConfidence: 82 }]);
    const k = facts.labs.find((l) => l.loinc === "2823-3")!;
    expect(k).toMatchObject({ value: 4.2, confidence: 0.5, review: ["decimal_restored"] });
    expect(page.slice(k.provenance.start, k.provenance.end)).toContain("Potassium 42");
    const na = facts.labs.find((l) => l.loinc === "2951-2")!;
    expect(na).toMatchObject({ confidence: 0.82, review: [] });
  });
});

describe("the limits table (data)", () => {
  it("names only tests the lab table knows, with min below max", () => {
    const known = new Set(LAB_TESTS.map((t) => t.loinc));
    for (const [loinc, limits] of Object.entries(LAB_LIMITS)) {
      expect(known.has(loinc), loinc).toBe(true);
      expect(limits.min).toBeLessThan(limits.max);
    }
    expect(REVIEW_REASONS).toHaveLength(6);
  });

  it("marks a misread number on a text-layer page (no repair there) and keeps it", () => {
    const page = "LABORATORY REPORT\nCollected: 2025-03-01\nPotassium 42 mmol/L 3.5-5.1\n";
    const facts = extractClinicalFacts([{ pageNumber: 1, text: page, source: "text_layer" }]);
    expect(facts.labs[0]).toMatchObject({
      value: 42,
      confidence: 0.2,
      review: ["implausible_value", "decimal_suspect"],
    });
  });
});
