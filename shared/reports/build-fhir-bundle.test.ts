/**
 * The FHIR export of lab results marked for review: preliminary with a note, never final; a
 * sound result stays final. The whole bundle is validated against the R4 schema in
 * reports.db.test.ts; here only the lab Observation's status.
 */
import { describe, expect, it } from "vitest";
import type { RecordLab } from "../records/build-patient-record";
import { buildFhirBundle } from "./build-fhir-bundle";

const lab = (over: Partial<RecordLab>): RecordLab => ({
  name: "Calcium",
  loinc: "17861-6",
  value: 9.5,
  unit: "mg/dL",
  unitUcum: "mg/dL",
  valueNormalized: 9.5,
  unitNormalized: "mg/dL",
  refLow: 8.5,
  refHigh: 10.5,
  refText: "8.5-10.5",
  flag: "N",
  observedAt: "2026-01-01",
  confidence: 0.95,
  review: [],
  provenance: [],
  ...over,
});

describe("buildFhirBundle: labs marked for review", () => {
  it("exports them as preliminary with the reasons, and sound ones as final", async () => {
    const bundle = (await buildFhirBundle({
      patient: {
        id: "0b7e4c52-3f7e-4b0a-9d55-2f3c1e0a9b11",
        givenName: "Synthetic",
        familyName: "Testpatient",
        dateOfBirth: null,
        sex: null,
        mrn: null,
      },
      record: {
        patientId: "0b7e4c52-3f7e-4b0a-9d55-2f3c1e0a9b11",
        documents: [],
        labs: [
          lab({}),
          lab({
            value: 95,
            valueNormalized: 95,
            flag: "H",
            confidence: 0.2,
            review: ["implausible_value", "decimal_suspect"],
          }),
        ],
        medications: [],
        diagnoses: [],
        allergies: [],
        vitals: [],
      },
      reports: [],
      now: new Date("2026-06-01T10:00:00Z"),
    })) as { entry: { resource: Record<string, any> }[] };
    const observations = bundle.entry.map((e) => e.resource).filter((r) => r.resourceType === "Observation");
    expect(observations.map((o) => [o.valueQuantity.value, o.status])).toEqual([
      [9.5, "final"],
      [95, "preliminary"],
    ]);
    expect(observations[1]!.note[0].text).toMatch(/implausible_value, decimal_suspect/);
    expect(observations[0]!.note).toBeUndefined();
  });
});
