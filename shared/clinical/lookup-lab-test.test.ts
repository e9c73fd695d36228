import { describe, expect, it } from "vitest";
import { lookupLabTest, matchLabNameAt } from "./lookup-lab-test";
import { LAB_TESTS } from "./terminology/lab-tests";

/** LOINC check digit (mod 10, the Luhn scheme LOINC documents). */
function loincCheckDigit(body: string): number {
  let sum = 0;
  const digits = [...body].reverse().map(Number);
  digits.forEach((d, i) => {
    if (i % 2 === 0) {
      const x = d * 2;
      sum += Math.floor(x / 10) + (x % 10);
    } else sum += d;
  });
  return (10 - (sum % 10)) % 10;
}

describe("lab terminology table", () => {
  it("has at least 150 tests, unique LOINC codes with valid check digits", () => {
    expect(LAB_TESTS.length).toBeGreaterThanOrEqual(150);
    const codes = LAB_TESTS.map((t) => t.loinc);
    expect(new Set(codes).size).toBe(codes.length);
    for (const code of codes) {
      const [body, check] = code.split("-");
      expect(loincCheckDigit(body!), code).toBe(Number(check));
    }
  });

  it("the check digit helper itself rejects a wrong code", () => {
    expect(loincCheckDigit("2345")).toBe(7);
    expect(loincCheckDigit("2345")).not.toBe(8);
  });
});

describe("lookupLabTest: printed name variants", () => {
  it.each([
    ["HGB", "718-7"],
    ["Haemoglobin", "718-7"],
    ["HGB A1C", "4548-4"],
    ["Hemoglobin A1c", "4548-4"],
    ["Hemoglobin Alc", "4548-4"], // OCR: 1 -> l
    ["CO2, TOTAL", "2028-9"],
    ["C02, TOTAL", "2028-9"], // OCR: O -> 0
    ["Carbon Dioxide, Total", "2028-9"],
    ["25-OH VITAMIN D", "1989-3"],
    ["Vitamin D, 25-Hydroxy", "1989-3"],
    ["LDL-C (CALC)", "13457-7"],
    ["LDL Cholesterol (calc)", "13457-7"],
    ["% SATURATION", "2502-3"],
    ["EGFR (CKD-EPI 2021)", "33914-3"],
    ["ALK PHOS", "6768-6"],
    ["RDW-CV", "788-0"],
    ["Platelets", "777-3"],
    ["TSH", "3016-3"],
    ["HCG, QUALITATIVE", "2106-3"],
  ])("%s -> %s", (name, loinc) => {
    expect(lookupLabTest(name)?.loinc).toBe(loinc);
  });

  it("uses specimen context for names shared by serum and urine tests", () => {
    expect(lookupLabTest("Glucose")?.loinc).toBe("2345-7");
    expect(lookupLabTest("Glucose", { urine: true })?.loinc).toBe("5792-7");
    expect(lookupLabTest("Protein", { urine: true })?.loinc).toBe("5804-0");
  });

  it("matches the longest name at the start of a row and stops at the value", () => {
    const m = matchLabNameAt("Cholesterol, Total   212   H   mg/dL   <200");
    expect(m?.candidates[0]?.loinc).toBe("2093-3");
    expect(m?.end).toBe("Cholesterol, Total".length);
    expect(matchLabNameAt("Patient reports fatigue")).toBeNull();
  });
});
