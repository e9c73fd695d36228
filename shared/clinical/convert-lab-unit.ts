/**
 * Unit normalisation for lab results: printed unit -> UCUM, and value -> the test's canonical unit
 * (e.g. glucose 5.4 mmol/L -> 97.3 mg/dL, HbA1c 48 mmol/mol -> 6.5 %), so that trends across labs
 * that report in different unit systems can be compared.
 */
import { z } from "zod";
import type { LabTestDef } from "./terminology/lab-tests";
import { toUcum } from "./terminology/units";

export const NormalisedLabValueSchema = z.object({
  /** UCUM code of the printed unit, null when the unit is missing or unknown. */
  unitUcum: z.string().nullable(),
  /** Value in the test's canonical unit, null when no conversion is known. */
  value: z.number().nullable(),
  unit: z.string().nullable(),
});
export type NormalisedLabValue = z.infer<typeof NormalisedLabValueSchema>;

/** IFCC (mmol/mol) to NGSP (%) master equation: NGSP = 0.09148 * IFCC + 2.152. */
export function ifccToNgsp(mmolPerMol: number): number {
  return 0.09148 * mmolPerMol + 2.152;
}

export function ngspToIfcc(percent: number): number {
  return (percent - 2.152) / 0.09148;
}

export function convertLabUnit(
  test: LabTestDef,
  value: number | null,
  printedUnit: string | null,
): NormalisedLabValue {
  const unitUcum = printedUnit ? toUcum(printedUnit) : null;
  if (value === null || !Number.isFinite(value)) return { unitUcum, value: null, unit: test.unit || null };
  // No printed unit: the canonical unit is assumed only for unitless tests (pH, specific gravity).
  if (!unitUcum) {
    return test.unit === "" ? { unitUcum, value, unit: null } : { unitUcum, value: null, unit: test.unit };
  }
  if (unitUcum === test.unit) return { unitUcum, value, unit: test.unit };
  const conversion = test.toCanonical?.[unitUcum];
  if (conversion === undefined) return { unitUcum, value: null, unit: test.unit || null };
  const converted = conversion === "a1c-ifcc" ? ifccToNgsp(value) : value * conversion;
  return { unitUcum, value: roundTo(converted, 4), unit: test.unit };
}

function roundTo(x: number, significant: number): number {
  if (x === 0) return 0;
  const digits = significant - Math.ceil(Math.log10(Math.abs(x)));
  const f = 10 ** Math.max(0, Math.min(10, digits));
  return Math.round(x * f) / f;
}
