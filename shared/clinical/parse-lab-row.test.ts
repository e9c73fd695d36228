import { describe, expect, it } from "vitest";
import { type DocLine, segmentDocument } from "./document-lines";
import { extractLabResults } from "./extract-lab-results";
import { parseLabRow } from "./parse-lab-row";

const row = (text: string, ocr = false) => parseLabRow(text, { ocr, allowMultipleValues: false });
const labs = (
  text: string,
  source: "text_layer" | "ocr" = "text_layer",
  date: string | null = "2024-03-14",
) =>
  extractLabResults(segmentDocument([{ pageNumber: 1, text, source }]) as DocLine[], { defaultDate: date });

describe("parseLabRow: values, flags, units, ranges", () => {
  it("table row with flag column", () => {
    const r = row("Glucose                     109            H              mg/dL               70-99");
    expect(r?.values[0]).toMatchObject({ value: 109, flag: "H" });
    expect(r?.unit).toEqual({ printed: "mg/dL", ucum: "mg/dL" });
    expect(r?.range).toMatchObject({ low: 70, high: 99, kind: "-" });
  });

  it("open ranges keep no bounds", () => {
    expect(row("HDL Cholesterol 38 L mg/dL >=40")?.range).toMatchObject({
      low: null,
      high: null,
      kind: ">=",
    });
    expect(row("Cholesterol, Total 212 H mg/dL <200")?.range).toMatchObject({ kind: "<" });
    expect(row("eGFR 36 mL/min/1.73m2 L (>60)")?.range).toMatchObject({ kind: ">" });
  });

  it("result lists: colon, dot leaders, brackets, flag after the range", () => {
    expect(row("Potassium ................... 5.9 mmol/L  H   (3.5 - 5.3)")).toMatchObject({
      values: [{ value: 5.9 }],
      trailingFlag: "H",
      range: { low: 3.5, high: 5.3 },
    });
    expect(row("Glucose (fasting): 7.2 mmol/L [3.9-5.5] H")).toMatchObject({
      values: [{ value: 7.2 }],
      trailingFlag: "H",
      range: { low: 3.9, high: 5.5 },
    });
    expect(row("Sodium: 140 mEq/L (Ref: 135-145)")).toMatchObject({
      values: [{ value: 140 }],
      range: { low: 135 },
    });
  });

  it("qualitative, ordinal and censored values stay strings", () => {
    expect(row("LEUKOCYTE ESTERASE 2+ A NEGATIVE")?.values[0]).toMatchObject({
      value: "2+",
      qualitative: true,
      flag: "A",
    });
    expect(row("Nitrite Positive A NEGATIVE")?.values[0]).toMatchObject({
      value: "Positive",
      qualitative: true,
    });
    expect(row("Ketones Not detected Not detected")?.values[0]).toMatchObject({ value: "Not detected" });
    expect(row("Troponin I <0.01 ng/mL 0.00-0.04")?.values[0]).toMatchObject({
      value: "<0.01",
      numeric: null,
    });
    expect(row("eGFR >90 mL/min/1.73m2 >=60")?.values[0]).toMatchObject({ value: ">90" });
  });

  it("glued flags and units", () => {
    expect(row("Glucose 276H mg/dL 70-99")?.values[0]).toMatchObject({ value: 276, flag: "H" });
    expect(row("Glucose 5.4mmol/L 3.9-5.5")?.unit).toMatchObject({ printed: "mmol/L", ucum: "mmol/L" });
  });

  it("rejects prose and headers", () => {
    expect(row("Potassium 4.8 mmol/L by 02/06/2024 (attached result) and later rechecked")).toBeNull();
    expect(row("Vitamin B12 deficiency: B12 168 pg/mL with MCV 101.2 fL")).toBeNull();
    expect(row("HEMOGLOBIN A1C")).toBeNull();
    expect(row("Test Result Flag Units Reference Range")).toBeNull();
  });

  it("repairs OCR digit damage only on OCR pages", () => {
    expect(row("CREATININE 1:05 mg/dL 0.70-1.30", true)?.values[0]?.value).toBe(1.05);
    expect(row("CREATININE 1:05 mg/dL 0.70-1.30", false)).toBeNull();
  });

  it("a scanned value with a bare trailing point lost its decimals and is not read", () => {
    expect(row("CALCIUM 9. mg/dL 8.6-10.3", true)).toBeNull();
    expect(row("CALCIUM 9.1 mg/dL 8.6-10.3", true)?.values[0]?.value).toBe(9.1);
  });
});

describe("extractLabResults", () => {
  it("computes H/L/N against the printed range and keeps printed value and unit", () => {
    const out = labs(
      "Hemoglobin 10.9 g/dL 12.0-15.5\nPlatelets 348 x10^3/uL 150-400\nHDL 38 mg/dL >=40\nTriglycerides 238 mg/dL <150",
    );
    expect(out.map((l) => [l.loinc, l.value, l.unit, l.flag, l.ref_low, l.ref_high])).toEqual([
      ["718-7", 10.9, "g/dL", "L", 12, 15.5],
      ["777-3", 348, "x10^3/uL", "N", 150, 400],
      ["2085-9", 38, "mg/dL", "L", null, null],
      ["2571-8", 238, "mg/dL", "H", null, null],
    ]);
  });

  it("normalises SI units but reports the printed ones", () => {
    const [glu, a1c] = labs("Glucose 7.2 mmol/L 3.9-5.5\nHbA1c 58 mmol/mol 20-42");
    expect(glu).toMatchObject({ value: 7.2, unit: "mmol/L", unit_normalized: "mg/dL" });
    expect(glu!.value_normalized).toBeCloseTo(129.7, 0);
    expect(a1c).toMatchObject({ loinc: "4548-4", unit: "mmol/mol", unit_normalized: "%" });
    expect(a1c!.value_normalized).toBeCloseTo(7.5, 1);
  });

  it("uses the urinalysis header to pick urine tests; qualitative rows get no flag", () => {
    const out = labs(
      "URINALYSIS, DIPSTICK\nGLUCOSE Negative NEGATIVE\nPROTEIN Trace A NEGATIVE\nPH 6.0 5.0-8.0\nCHEMISTRY\nGLUCOSE 92 mg/dL 70-99",
    );
    expect(out.map((l) => [l.loinc, l.value, l.flag])).toEqual([
      ["5792-7", "Negative", null],
      ["5804-0", "Trace", null],
      ["5803-2", 6, "N"],
      ["2345-7", 92, "N"],
    ]);
  });

  it("cumulative tables give one result per date column", () => {
    const text = [
      "Test              01/15/2024    04/16/2024    07/22/2024    Units     Ref Range",
      "Creatinine        1.45 H        1.52 H        1.38 H        mg/dL     0.70-1.30",
      "LDL Cholesterol   142 H                       98            mg/dL     <100",
    ].join("\n");
    const out = labs(text);
    expect(out.map((l) => [l.loinc, l.value, l.observed_at])).toEqual([
      ["2160-0", 1.45, "2024-01-15"],
      ["2160-0", 1.52, "2024-04-16"],
      ["2160-0", 1.38, "2024-07-22"],
      ["13457-7", 142, "2024-01-15"],
      ["13457-7", 98, "2024-07-22"],
    ]);
  });

  it("skips values quoted in narrative sections but keeps full result rows there", () => {
    const text = [
      "Hospital Course",
      "Creatinine 2.84 mg/dL on admission.",
      "Potassium 6.1 mmol/L",
      "Sodium 132 mmol/L 135-145",
      "Results",
      "Potassium 4.8 mmol/L 3.5-5.1",
    ].join("\n");
    expect(labs(text).map((l) => l.value)).toEqual([132, 4.8]);
  });

  it("drops scanned values a thousand times above the range, keeps real extremes and text layers", () => {
    const rows = "CREATININE 175925 H mg/dL 0.70-1.30\nCRP 312 H mg/L 0.0-5.0\nLIPASE 2900 H U/L 13-60";
    expect(labs(rows, "ocr").map((l) => [l.loinc, l.value])).toEqual([
      ["1988-5", 312],
      ["3040-3", 2900],
    ]);
    expect(labs(rows, "text_layer").map((l) => l.value)).toEqual([175925, 312, 2900]);
  });

  it("provenance points at the row in the page text", () => {
    const text = "Lipid Panel\nCholesterol, Total   212   H   mg/dL   <200";
    const [chol] = labs(text);
    expect(text.slice(chol!.provenance.start, chol!.provenance.end)).toBe(
      "Cholesterol, Total   212   H   mg/dL   <200",
    );
  });
});

describe("parseLabRow: specimens and qualifiers around a name", () => {
  it("reads the test after a specimen word or prefix, and past a specimen after a comma or in brackets", () => {
    for (const printed of [
      "Serum sodium",
      "S-Sodium",
      "Sodium, serum",
      "Sodium - plasma",
      "Sodium (S)",
      "Sodium (serum):",
      "Na, S",
    ]) {
      const r = row(`${printed}   139   mmol/L   133-146`);
      expect(r?.name.candidates[0]?.loinc, printed).toBe("2951-2");
      expect(r?.values[0]?.value, printed).toBe(139);
      expect(r?.unit?.printed, printed).toBe("mmol/L");
    }
  });

  it("does not take a specimen letter in brackets for a unit (S is also siemens)", () => {
    expect(row("Potassium (S) 4.5 mmol/L (3.5 - 5.3)")?.unit?.printed).toBe("mmol/L");
  });

  it("keeps urine: it names another test", () => {
    const r = row("Urine sodium   39   mmol/L");
    expect(r?.name.candidates.map((c) => c.loinc) ?? []).not.toContain("2951-2");
  });
});

describe("extractLabResults: wrapped name cells", () => {
  it("joins a name that wrapped onto the next lines, keeps the row's position and skips the tail", () => {
    const text = [
      "Test            Result   Units   Reference range",
      "Alanine         32       U/L     7 - 56",
      "aminotransferase",
      "Thyroid         2.64     mU/L    0.27 - 4.20",
      "stimulating",
      "hormone",
      "Comment",
    ].join("\n");
    const out = labs(text);
    expect(out.map((l) => [l.name, l.loinc, l.value])).toEqual([
      ["Alanine aminotransferase", "1742-6", 32],
      ["Thyroid stimulating hormone", "3016-3", 2.64],
    ]);
    expect(text.slice(out[0]!.provenance.start, out[0]!.provenance.end)).toBe(
      "Alanine         32       U/L     7 - 56",
    );
  });

  it("does not join a following line that makes no known name", () => {
    expect(labs("Alanine         32       U/L     7 - 56\nplease repeat")).toEqual([]);
  });
});

describe("parseLabRow: a scan's lost punctuation", () => {
  it("reads two ascending numbers after the unit as the range on OCR pages only", () => {
    expect(row("ALP 19L U/L 44  147", true)?.range).toMatchObject({ low: 44, high: 147, kind: "-" });
    expect(row("ALP 19 L U/L 44  147", false)?.range ?? null).toBeNull();
    expect(row("ALP 19 U/L 147  44", true)?.range ?? null).toBeNull();
  });

  it("drops a speck read as a full stop after the unit, and puts back a slash too thin to read", () => {
    expect(row("Glucose 98 mg/dL. 70-99", true)?.unit?.printed).toBe("mg/dL");
    expect(row("ALP 77 UL 44-147", true)?.unit?.printed).toBe("U/L");
  });

  it("reads a cumulative row whose cells a scan damaged: '=13', '7.2\"', '3:5-5.0'", () => {
    const multi = (text: string) => parseLabRow(text, { ocr: true, allowMultipleValues: true });
    expect(multi("GGT   =13   42   10   U/L   8-61")?.values.map((v) => v.value)).toEqual([13, 42, 10]);
    expect(multi('Total protein   5.6   7.2"   g/dL   6.0-8.3')?.values.map((v) => v.value)).toEqual([
      5.6, 7.2,
    ]);
    const albumin = multi("Albumin   3.9   4.1   4.8   g/dL   3:5-5.0");
    expect(albumin?.values.map((v) => v.value)).toEqual([3.9, 4.1, 4.8]);
    expect(albumin?.range).toMatchObject({ low: 3.5, high: 5 });
    // Not on a text layer.
    expect(
      parseLabRow("Albumin   3.9   4.1   4.8   g/dL   3:5-5.0", { ocr: false, allowMultipleValues: true })
        ?.range ?? null,
    ).toBeNull();
  });
});

describe("parseLabRow and extractLabResults: a scan's fused and damaged cells", () => {
  const multi = (text: string, ocr = true) => parseLabRow(text, { ocr, allowMultipleValues: true });

  it("reads 'to' fused with its numbers ('3.0t020.0', '180t0900', 'Oto21') on OCR pages only", () => {
    expect(multi("Folic acid   5.9   14.8   ug/L   3.0t020.0")?.range).toMatchObject({ low: 3, high: 20 });
    expect(multi("B12   895   463   ng/L   180t0900")?.range).toMatchObject({ low: 180, high: 900 });
    expect(multi("Total bilirubin   10   8   umol/L   Oto21")?.range).toMatchObject({ low: 0, high: 21 });
    expect(multi("ALP   61   67   IU/L   30t0 130")?.range).toMatchObject({ low: 30, high: 130 });
    expect(multi("B12   895   463   ng/L   180t0900", false)?.range ?? null).toBeNull();
  });

  it("reads a flag glued with its asterisk ('58L*') and drops a rule read after a number ('104-')", () => {
    const protein = multi("Total protein   58L*   80   93 H*   g/L   60 to 80");
    expect(protein?.values.map((v) => [v.value, v.flag])).toEqual([
      [58, "L"],
      [80, null],
      [93, "H"],
    ]);
    expect(multi("Chloride   105   98   104-   mmol/L   98-107")?.values.map((v) => v.value)).toEqual([
      105, 98, 104,
    ]);
  });

  it("steps over one unreadable cell between a cumulative row's values, never over a unit", () => {
    const a1c = multi("HbA1c   21   15L   aL   25   mmol/mol   20-41");
    expect(a1c?.values.map((v) => v.value)).toEqual([21, 15, 25]);
    expect(a1c?.unit?.printed).toBe("mmol/mol");
    // A unit is not an unreadable cell: what follows it is the range, not a value.
    expect(multi("Sodium   139   mmol/L   133   146")?.values.map((v) => v.value)).toEqual([139]);
    // Not on a text layer.
    expect(multi("HbA1c   21   15L   aL   25   mmol/mol   20-41", false)?.values.map((v) => v.value)).toEqual(
      [21, 15],
    );
  });

  it("reads a lower-case l between capitals as a one on OCR pages ('AlC' is A1C, not ALC)", () => {
    expect(row("AlC   5.6   %   4.0-5.6", true)?.name.candidates.map((t) => t.loinc)).toContain("4548-4");
    expect(row("AlC   5.6   %   4.0-5.6", false)?.name.candidates.map((t) => t.loinc) ?? []).not.toContain(
      "4548-4",
    );
  });

  it("puts back a cumulative value's lost decimal point from its neighbours, and marks it", () => {
    const text = [
      "Test        11/30/2024   02/02/2025   03/26/2025   Units   Reference",
      "HGB         159          12.7 L       16.8         g/dL    13.5-17.5x",
      "MCH         282          29.8         31.5         pg      27.0-32.0",
      "CRP         3            120          45           mg/L    <5",
    ].join("\n");
    const out = labs(text, "ocr").map((l) => [l.loinc, l.value, l.review ?? []]);
    expect(out).toEqual([
      ["718-7", 15.9, ["decimal_restored"]],
      ["718-7", 12.7, []],
      ["718-7", 16.8, []],
      ["785-6", 28.2, ["decimal_restored"]],
      ["785-6", 29.8, []],
      ["785-6", 31.5, []],
      ["1988-5", 3, []],
      ["1988-5", 120, []],
      ["1988-5", 45, []],
    ]);
    // A text layer is printed as it is.
    expect(labs(text).find((l) => l.loinc === "718-7")?.value).toBe(159);
  });

  it("reads a scanned date header with one unreadable title beside known ones, not a banner", () => {
    const rows = (header: string) =>
      labs(`${header}\nSodium   135   139   mmol/L   133-146`, "ocr").map((l) => l.observed_at);
    expect(rows("Analyte   18/03/2025   05/05/2025   Units   sell .")).toEqual(["2025-03-18", "2025-05-05"]);
    expect(rows("Ward seen   18/03/2025   05/05/2025   Clinic")).toEqual(["2024-03-14"]);
  });
});
