import { describe, expect, it } from "vitest";
import { convertLabUnit, ifccToNgsp, ngspToIfcc } from "./convert-lab-unit";
import { lookupLabTest } from "./lookup-lab-test";
import { toUcum } from "./terminology/units";

const test = (name: string) => {
  const t = lookupLabTest(name);
  if (!t) throw new Error(`unknown test ${name}`);
  return t;
};

describe("convertLabUnit", () => {
  it.each([
    ["Glucose", 5.5, "mmol/L", 99.1, "mg/dL"],
    ["Cholesterol, Total", 5.17, "mmol/L", 199.9, "mg/dL"],
    ["LDL-C", 2.59, "mmol/L", 100.2, "mg/dL"],
    ["Triglycerides", 1.69, "mmol/L", 149.7, "mg/dL"],
    ["Creatinine", 88.4, "umol/L", 1.0, "mg/dL"],
    ["Creatinine", 150, "µmol/L", 1.697, "mg/dL"],
    ["Hemoglobin", 135, "g/L", 13.5, "g/dL"],
    ["Calcium", 2.5, "mmol/L", 10.02, "mg/dL"],
    ["Bilirubin, Total", 17.1, "umol/L", 1.0, "mg/dL"],
    ["25-OH Vitamin D", 75, "nmol/L", 30.05, "ng/mL"],
    ["Free T4", 12.87, "pmol/L", 1.0, "ng/dL"],
    ["WBC", 7.2, "x10^9/L", 7.2, "10*3/uL"],
    ["TSH", 2.1, "uIU/mL", 2.1, "m[IU]/L"],
  ])("%s %f %s -> %f %s", (name, value, unit, expected, canonical) => {
    const r = convertLabUnit(test(name), value, unit);
    expect(r.unit).toBe(canonical);
    expect(r.value).toBeCloseTo(expected, 1);
  });

  it("HbA1c IFCC mmol/mol <-> NGSP % uses the master equation", () => {
    expect(ifccToNgsp(48)).toBeCloseTo(6.54, 2);
    expect(ngspToIfcc(6.5)).toBeCloseTo(47.5, 1);
    const r = convertLabUnit(test("HbA1c"), 53, "mmol/mol");
    expect(r).toMatchObject({ unitUcum: "mmol/mol", unit: "%" });
    expect(r.value).toBeCloseTo(7.0, 1);
  });

  it("keeps canonical values and refuses unknown conversions", () => {
    expect(convertLabUnit(test("Sodium"), 140, "mEq/L")).toEqual({
      unitUcum: "meq/L",
      value: 140,
      unit: "mmol/L",
    });
    expect(convertLabUnit(test("Glucose"), 95, "mg/dL")).toEqual({
      unitUcum: "mg/dL",
      value: 95,
      unit: "mg/dL",
    });
    expect(convertLabUnit(test("Glucose"), 95, "furlongs")).toEqual({
      unitUcum: null,
      value: null,
      unit: "mg/dL",
    });
    expect(convertLabUnit(test("Glucose"), 95, "ng/mL").value).toBeNull();
  });
});

describe("toUcum", () => {
  it.each([
    ["K/uL", "10*3/uL"],
    ["x10^3/uL", "10*3/uL"],
    ["x10E3/uL", "10*3/uL"],
    ["10*9/L", "10*9/L"],
    ["x 10^9/L", "10*9/L"],
    ["M/uL", "10*6/uL"],
    ["mIU/L", "m[IU]/L"],
    ["µIU/mL", "u[IU]/mL"],
    ["mL/min/1.73m2", "mL/min/{1.73_m2}"],
    ["mL/min/1.73m²", "mL/min/{1.73_m2}"],
    ["mcg/dL", "ug/dL"],
    ["%", "%"],
  ])("%s -> %s", (printed, ucum) => {
    expect(toUcum(printed)).toBe(ucum);
  });
});
