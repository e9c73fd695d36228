/**
 * Printed unit spellings -> UCUM. Keys are compared after `unitKey` (lower case, micro sign to "u",
 * no spaces, superscripts to ^n), so each spelling is listed once.
 */
export const UNIT_SPELLINGS: Readonly<Record<string, string>> = {
  "mg/dl": "mg/dL",
  "mg/l": "mg/L",
  "g/dl": "g/dL",
  "g/l": "g/L",
  "mg/ml": "mg/mL",
  "ug/dl": "ug/dL",
  "mcg/dl": "ug/dL",
  "ug/l": "ug/L",
  "mcg/l": "ug/L",
  "ug/ml": "ug/mL",
  "mcg/ml": "ug/mL",
  "ng/ml": "ng/mL",
  "ng/dl": "ng/dL",
  "ng/l": "ng/L",
  "pg/ml": "pg/mL",
  "mmol/l": "mmol/L",
  "umol/l": "umol/L",
  "nmol/l": "nmol/L",
  "pmol/l": "pmol/L",
  "mol/l": "mol/L",
  "mmol/mol": "mmol/mol",
  "meq/l": "meq/L",
  "mosm/kg": "mosm/kg",
  "mosm/kgh2o": "mosm/kg",
  "u/l": "U/L",
  "iu/l": "[IU]/L",
  "u/ml": "U/mL",
  "iu/ml": "[IU]/mL",
  "ku/l": "k[IU]/L",
  "miu/l": "m[IU]/L",
  "miu/ml": "m[IU]/mL",
  "uiu/ml": "u[IU]/mL",
  "uu/ml": "u[IU]/mL",
  "mu/l": "m[IU]/L",
  "%": "%",
  percent: "%",
  fl: "fL",
  pg: "pg",
  "pg/cell": "pg",
  "l/l": "L/L",
  "k/ul": "10*3/uL",
  "k/mm3": "10*3/uL",
  "k/cumm": "10*3/uL",
  "thou/ul": "10*3/uL",
  "thou/mm3": "10*3/uL",
  "x10^3/ul": "10*3/uL",
  "10^3/ul": "10*3/uL",
  "x10e3/ul": "10*3/uL",
  "10e3/ul": "10*3/uL",
  "x10*3/ul": "10*3/uL",
  "10*3/ul": "10*3/uL",
  "x1000/ul": "10*3/uL",
  "/ul": "/uL",
  "cells/ul": "/uL",
  "/mm3": "/uL",
  "x10^9/l": "10*9/L",
  "10^9/l": "10*9/L",
  "x10e9/l": "10*9/L",
  "x10*9/l": "10*9/L",
  "10*9/l": "10*9/L",
  "giga/l": "10*9/L",
  "m/ul": "10*6/uL",
  "mil/ul": "10*6/uL",
  "mill/ul": "10*6/uL",
  "m/mm3": "10*6/uL",
  "x10^6/ul": "10*6/uL",
  "10^6/ul": "10*6/uL",
  "x10e6/ul": "10*6/uL",
  "x10*6/ul": "10*6/uL",
  "10*6/ul": "10*6/uL",
  "x10^12/l": "10*12/L",
  "10^12/l": "10*12/L",
  "x10e12/l": "10*12/L",
  "x10*12/l": "10*12/L",
  "tera/l": "10*12/L",
  "ml/min/1.73m2": "mL/min/{1.73_m2}",
  "ml/min/1.73m^2": "mL/min/{1.73_m2}",
  "ml/min/1.73": "mL/min/{1.73_m2}",
  "ml/min/bsa": "mL/min/{1.73_m2}",
  "ml/min": "mL/min",
  "mm/hr": "mm/h",
  "mm/h": "mm/h",
  sec: "s",
  seconds: "s",
  s: "s",
  ratio: "{ratio}",
  index: "{index}",
  inr: "{INR}",
  "/hpf": "/[HPF]",
  "/lpf": "/[LPF]",
  hpf: "/[HPF]",
  lpf: "/[LPF]",
  "mg/g": "mg/g",
  "mg/gcreat": "mg/g",
  "mg/g{creat}": "mg/g",
  "mg/24h": "mg/(24.h)",
  "mg/24hr": "mg/(24.h)",
  "kg/m2": "kg/m2",
  mmhg: "mm[Hg]",
  titer: "{titer}",
  "au/ml": "[arb'U]/mL",
  "ratio(au)": "{ratio}",
};

/** Canonical lookup key of a printed unit. */
export function unitKey(printed: string): string {
  return printed
    .normalize("NFKC")
    .replace(/[µμ]/g, "u")
    .replace(/×/g, "x")
    .replace(/[⁰¹²³⁴⁵⁶⁷⁸⁹]/g, (c) => `^${"⁰¹²³⁴⁵⁶⁷⁸⁹".indexOf(c)}`)
    .toLowerCase()
    .replace(/\s+/g, "")
    .replace(/\*\*/g, "^");
}

/** UCUM code for a printed unit, or null when the spelling is unknown. */
export function toUcum(printed: string): string | null {
  const key = unitKey(printed);
  if (key in UNIT_SPELLINGS) return UNIT_SPELLINGS[key]!;
  // "x10^3/uL" written as "10^3/uL", "x 10E3/uL", "10*3/uL": normalise the power form once more.
  const power = /^x?10[\^*e]?(\d+)\/(ul|l|mm3)$/.exec(key);
  if (power) {
    const exp = Number(power[1]);
    const per = power[2] === "l" ? "L" : "uL";
    return `10*${exp}/${per}`;
  }
  return null;
}
