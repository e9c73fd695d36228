import { describe, expect, it } from "vitest";
import { buildLabTrends, trendDirection } from "./build-lab-trends";
import type { RecordLab } from "./build-patient-record";

const lab = (over: Partial<RecordLab>): RecordLab => ({
  name: "Potassium",
  loinc: "2823-3",
  value: 4.2,
  unit: "mmol/L",
  unitUcum: "mmol/L",
  valueNormalized: null,
  unitNormalized: null,
  refLow: 3.5,
  refHigh: 5.1,
  refText: null,
  flag: null,
  observedAt: "2026-01-01",
  confidence: 0.95,
  review: [],
  provenance: [],
  ...over,
});

describe("trendDirection", () => {
  const range = { low: 3.5, high: 5.1 };
  it.each([
    ["back into range from high", 5.9, 4.8, null, "improving"],
    ["out of range from inside", 4.5, 5.8, null, "worsening"],
    ["further below a low limit", 3.2, 2.9, null, "worsening"],
    ["inside the range both times", 3.9, 4.8, null, "stable"],
    ["a change within 5% of the range width", 5.9, 5.85, null, "stable"],
  ] as const)("%s", (_name, previous, latest, preference, expected) => {
    expect(trendDirection(previous, latest, range, preference)).toBe(expected);
  });
  it("uses the better side of a marker outside its range or without one", () => {
    expect(trendDirection(8.1, 7.2, { low: 4, high: 5.6 }, "lower")).toBe("improving");
    expect(trendDirection(45, 38, { low: null, high: null }, "higher")).toBe("worsening");
  });
  it("does not guess without a range or a better side", () => {
    expect(trendDirection(10, 20, { low: null, high: null }, null)).toBe("unknown");
  });
});

describe("buildLabTrends", () => {
  it("groups by LOINC in one unit, oldest first, skips undated and non-numeric results", () => {
    const trends = buildLabTrends({
      labs: [
        lab({ value: 5.9, observedAt: "2026-03-01", flag: "H" }),
        lab({ value: 4.4, observedAt: "2025-09-01" }),
        lab({ value: 4.0, observedAt: null }),
        lab({ name: "HbA1c", loinc: "4548-4", value: "pending", observedAt: "2026-03-01" }),
        // Glucose printed in mmol/L and normalised to mg/dL joins the mg/dL series.
        lab({
          name: "Glucose",
          loinc: "2345-7",
          value: 5.5,
          unit: "mmol/L",
          valueNormalized: 99,
          unitNormalized: "mg/dL",
          refLow: 3.9,
          refHigh: 5.5,
          observedAt: "2025-01-01",
        }),
        lab({
          name: "Glucose",
          loinc: "2345-7",
          value: 126,
          unit: "mg/dL",
          unitUcum: "mg/dL",
          refLow: 70,
          refHigh: 99,
          observedAt: "2026-01-01",
        }),
      ],
    });
    expect(trends.map((t) => [t.name, t.points.map((p) => p.value), t.direction, t.outOfRange])).toEqual([
      ["Glucose", [99, 126], "worsening", true],
      ["Potassium", [4.4, 5.9], "worsening", true],
    ]);
    expect(trends[0]!.unit).toBe("mg/dL");
    expect(trends[0]!.preference).toBe("lower");
  });
});

describe("buildLabTrends and numbers marked for review", () => {
  it("leaves a probably misread number off the chart, keeps one only flagged as inconsistent", () => {
    const trends = buildLabTrends({
      labs: [
        lab({ value: 4.2, observedAt: "2026-01-01" }),
        lab({ value: 42, observedAt: "2026-02-01", review: ["decimal_suspect"], confidence: 0.2 }),
        lab({
          value: 4.6,
          observedAt: "2026-03-01",
          flag: "L",
          review: ["flag_inconsistent"],
          confidence: 0.5,
        }),
      ],
    });
    expect(trends).toHaveLength(1);
    expect(trends[0]!.points.map((p) => p.value)).toEqual([4.2, 4.6]);
  });
});
