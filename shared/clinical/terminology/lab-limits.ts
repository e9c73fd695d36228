/**
 * Values a living patient's result can take, per test, in the test's canonical unit
 * (lab-tests.ts): wide on purpose (beyond the critical values laboratories telephone), so a
 * value outside them is a misreading (a lost decimal point, a digit too many, a unit under the
 * wrong code), not a very sick patient. From published extremes of survivable values and
 * laboratory analytical measuring ranges (e.g. sodium 90-200 mmol/L, potassium 1-10 mmol/L,
 * glucose 10-2500 mg/dL, haemoglobin 1.5-25 g/dL); percentages are bounded by 0-100.
 */
export interface LabLimits {
  readonly min: number;
  readonly max: number;
}

const L = (min: number, max: number): LabLimits => ({ min, max });

export const LAB_LIMITS: Readonly<Record<string, LabLimits>> = {
  "6690-2": L(0.05, 1000), // leukocytes 10*3/uL
  "789-8": L(0.3, 12), // erythrocytes 10*6/uL
  "718-7": L(1.5, 25), // haemoglobin g/dL
  "4544-3": L(5, 80), // haematocrit %
  "787-2": L(40, 160), // MCV fL
  "785-6": L(10, 60), // MCH pg
  "786-4": L(20, 45), // MCHC g/dL
  "788-0": L(8, 40), // RDW %
  "777-3": L(1, 3000), // platelets 10*3/uL
  "770-8": L(0, 100),
  "736-9": L(0, 100),
  "5905-5": L(0, 100),
  "713-8": L(0, 100),
  "706-2": L(0, 100),
  "751-8": L(0, 300), // neutrophils 10*3/uL
  "731-0": L(0, 800), // lymphocytes 10*3/uL
  "2345-7": L(10, 2500), // glucose mg/dL
  "3094-0": L(1, 300), // urea nitrogen mg/dL
  "2160-0": L(0.1, 40), // creatinine mg/dL
  "33914-3": L(1, 200), // eGFR
  "2951-2": L(90, 200), // sodium mmol/L
  "2823-3": L(1, 10), // potassium mmol/L
  "2075-0": L(50, 160), // chloride mmol/L
  "2028-9": L(2, 60), // CO2 mmol/L
  "1963-8": L(2, 60), // bicarbonate mmol/L
  "17861-6": L(2, 25), // calcium mg/dL
  "2885-2": L(1, 15), // total protein g/dL
  "1751-7": L(0.5, 7), // albumin g/dL
  "1975-2": L(0, 70), // bilirubin mg/dL
  "6768-6": L(5, 10000), // ALP U/L
  "1742-6": L(1, 20000), // ALT U/L
  "1920-8": L(1, 40000), // AST U/L
  "2324-2": L(1, 10000), // GGT U/L
  "19123-9": L(0.3, 15), // magnesium mg/dL
  "2777-1": L(0.3, 20), // phosphorus mg/dL
  "3084-1": L(0.5, 25), // uric acid mg/dL
  "2093-3": L(30, 2000), // total cholesterol mg/dL
  "2571-8": L(10, 20000), // triglycerides mg/dL
  "2085-9": L(3, 250), // HDL mg/dL
  "13457-7": L(2, 1200), // LDL (calc) mg/dL
  "18262-6": L(2, 1200), // LDL (direct) mg/dL
  "43396-1": L(10, 1500), // non-HDL mg/dL
  "4548-4": L(3, 20), // HbA1c %
  "3016-3": L(0.001, 1000), // TSH mIU/L
  "3024-7": L(0.05, 12), // free T4 ng/dL
  "2276-4": L(1, 100000), // ferritin ng/mL
  "2132-9": L(50, 10000), // B12 pg/mL
  "1989-3": L(1, 250), // vitamin D ng/mL
  "1988-5": L(0, 800), // CRP mg/L
  "5902-2": L(5, 200), // PT s
  "6301-6": L(0.5, 20), // INR
  "14979-9": L(10, 250), // aPTT s
  "2857-1": L(0, 10000), // PSA ng/mL
};
