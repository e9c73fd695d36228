import { describe, expect, it } from "vitest";
import { segmentDocument } from "./document-lines";
import { extractDiagnoses } from "./extract-diagnoses";
import { ICD10_CODES } from "./terminology/icd10";

const dx = (text: string) =>
  extractDiagnoses(segmentDocument([{ pageNumber: 1, text, source: "text_layer" }])).map((d) => ({
    text: d.text,
    icd10: d.icd10_source === "printed" ? d.icd10 : null,
    negated: d.negated,
    fh: d.family_history,
  }));
const negated = (text: string) =>
  dx(text)
    .filter((d) => d.negated)
    .map((d) => d.text.toLowerCase());

describe("negation", () => {
  it.each([
    ["History of Present Illness\nShe denies chest pain.", ["chest pain"]],
    ["HPI:\nNo fever, no hemoptysis, no weight loss.", ["fever", "hemoptysis", "weight loss"]],
    [
      "Findings\nNo focal consolidation, pleural effusion or pneumothorax.",
      ["focal consolidation", "pleural effusion", "pneumothorax"],
    ],
    [
      "Hospital Course\nThere was no evidence of decompensated heart failure.",
      ["decompensated heart failure"],
    ],
    ["Impression\nPulmonary embolism was ruled out.", ["pulmonary embolism"]],
    ["Diagnosis:\n2. Negative for atypia and malignancy.", ["atypia", "malignancy"]],
    ["HPI:\nShe has no melena or hematochezia.", ["melena", "hematochezia"]],
    ["Exam\nHeart regular rate and rhythm, no murmur. No peripheral edema.", ["murmur", "peripheral edema"]],
    ["Findings\nThe kidneys are normal without hydronephrosis.", ["hydronephrosis"]],
  ])("%s", (text, expected) => {
    expect(negated(text)).toEqual(expected);
  });

  it("scope ends at the clause: 'no hydronephrosis and a simple cyst' negates only the first", () => {
    const out = dx("Impression\nNo hydronephrosis and a simple cyst of the left kidney.");
    expect(out).toEqual([
      { text: "hydronephrosis", icd10: null, negated: true, fh: false },
      { text: "simple cyst of the left kidney", icd10: null, negated: false, fh: false },
    ]);
  });

  it("a negation that only carves out an exception reports neither side as negated", () => {
    expect(
      negated(
        "Hospital Course\nECG showed peaked T waves without arrhythmia other than atrial fibrillation.",
      ),
    ).toEqual([]);
    expect(negated("Hospital Course\nECG showed peaked T waves without arrhythmia.")).toEqual(["arrhythmia"]);
  });

  it("uncertain and hypothetical mentions are not reported as findings", () => {
    expect(dx("Impression\nBI-RADS 4A: low suspicion for malignancy.")).toEqual([]);
    expect(dx("Clinical Indication\nCough; suspected fatty liver.").map((d) => d.text)).toEqual(["Cough"]);
    expect(dx("Clinical Indication\nCough; fatty liver.").map((d) => d.text)).toEqual([
      "Cough",
      "fatty liver",
    ]);
    expect(dx("Plan\nReturn if fever or flank pain develops.")).toEqual([]);
  });

  it("asserted exam findings are not reported, negated ones are", () => {
    expect(dx("Exam\nConjunctival pallor. Mild wheeze bilaterally. No cyanosis.")).toEqual([
      { text: "cyanosis", icd10: null, negated: true, fh: false },
    ]);
  });
});

describe("family history", () => {
  it("relatives' conditions are family history; stated absence is negated family history", () => {
    expect(dx("Family History\nMother with hypothyroidism. Father with type 2 diabetes.")).toEqual([
      { text: "hypothyroidism", icd10: null, negated: false, fh: true },
      { text: "type 2 diabetes", icd10: null, negated: false, fh: true },
    ]);
    expect(
      dx("HPI:\nMaternal aunt had breast cancer at age 61. No family history of colorectal cancer."),
    ).toEqual([
      { text: "breast cancer", icd10: null, negated: false, fh: true },
      { text: "colorectal cancer", icd10: null, negated: true, fh: true },
    ]);
  });
});

describe("family history attribution", () => {
  it("needs the relative to bear the condition", () => {
    expect(dx("HPI:\nBreast cancer in her mother.")).toEqual([
      { text: "Breast cancer", icd10: null, negated: false, fh: true },
    ]);
    expect(dx("HPI:\nHer mother brought her in for fever.")).toEqual([
      { text: "fever", icd10: null, negated: false, fh: false },
    ]);
  });
});

describe("problem lists", () => {
  it("reads printed codes in their common wrappers and keeps the problem wording", () => {
    const text = [
      "Problem List",
      "1. Type 2 diabetes mellitus with hyperglycemia (E11.65)",
      "- Pure hypercholesterolemia, unspecified [E78.00]",
      "- Vitamin B12 deficiency",
      "Final Diagnosis",
      "A. Sigmoid colon, polypectomy: Tubular adenoma of sigmoid colon - D12.5. Negative for high-grade dysplasia.",
    ].join("\n");
    expect(dx(text)).toEqual([
      { text: "Type 2 diabetes mellitus with hyperglycemia", icd10: "E11.65", negated: false, fh: false },
      { text: "Pure hypercholesterolemia, unspecified", icd10: "E78.00", negated: false, fh: false },
      { text: "Vitamin B12 deficiency", icd10: null, negated: false, fh: false },
      { text: "Tubular adenoma of sigmoid colon", icd10: "D12.5", negated: false, fh: false },
      { text: "high-grade dysplasia", icd10: null, negated: true, fh: false },
    ]);
  });

  it("one entry per concept: narrative wordings of a listed problem are dropped", () => {
    const text = [
      "HPI:",
      "66-year-old man with type 2 diabetes, GERD and hypertension. He reports nocturia.",
      "Problems:",
      "- Type 2 diabetes mellitus with hyperglycemia (E11.65)",
      "- Gastro-esophageal reflux disease without esophagitis [K21.9]",
      "- Essential hypertension (I10)",
    ].join("\n");
    expect(dx(text).map((d) => d.text)).toEqual([
      "nocturia",
      "Type 2 diabetes mellitus with hyperglycemia",
      "Gastro-esophageal reflux disease without esophagitis",
      "Essential hypertension",
    ]);
  });
});

describe("ICD-10-CM table", () => {
  it("codes are well formed and unique", () => {
    const codes = ICD10_CODES.map((e) => e.code);
    expect(new Set(codes).size).toBe(codes.length);
    for (const c of codes) expect(c).toMatch(/^[A-Z]\d[0-9A-Z](\.[0-9A-Z]{1,4})?$/);
    expect(codes.length).toBeGreaterThan(250);
  });
});
