import { describe, expect, it } from "vitest";
import { segmentDocument } from "./document-lines";
import { extractAllergies } from "./extract-allergies";
import { extractMedications, parseMedicationItem, resolveGenericName } from "./extract-medications";

const doc = (text: string) => segmentDocument([{ pageNumber: 1, text, source: "text_layer" }]);

describe("medication lists", () => {
  it("splits name, dose, route and frequency", () => {
    expect(parseMedicationItem("• Metformin 1000 mg PO BID")).toMatchObject({
      name: "Metformin",
      dose: "1000 mg",
      route: "PO",
      frequency: "BID",
      generic: "metformin",
    });
    expect(
      parseMedicationItem("- Amoxicillin-clavulanate 875-125 mg PO twice daily for 3 more days"),
    ).toMatchObject({
      name: "Amoxicillin-clavulanate",
      dose: "875-125 mg",
      frequency: "twice daily for 3 more days",
    });
  });

  it("a strength followed by an amount belongs to the product name", () => {
    expect(
      parseMedicationItem("Albuterol HFA 90 mcg 2 puffs inhaled every 4-6 hours as needed"),
    ).toMatchObject({
      name: "Albuterol HFA 90 mcg",
      dose: "2 puffs",
      route: "inhaled",
      frequency: "every 4-6 hours as needed",
    });
    expect(
      parseMedicationItem("Norgestimate-ethinyl estradiol 0.25 mg-35 mcg 1 tablet PO daily"),
    ).toMatchObject({
      name: "Norgestimate-ethinyl estradiol 0.25 mg-35 mcg",
      dose: "1 tablet",
    });
  });

  it("resolves brands and rejects non-medication lines", () => {
    expect(resolveGenericName("Lipitor 20 mg")).toBe("atorvastatin");
    expect(resolveGenericName("Metoprolol succinate ER")).toBe("metoprolol succinate");
    expect(parseMedicationItem("None")).toBeNull();
    expect(parseMedicationItem("See discharge instructions")).toBeNull();
  });

  it("reads only the medication section, joins wrapped lines", () => {
    const meds = extractMedications(
      doc(
        [
          "Hospital Course",
          "He was treated with ceftriaxone 1 g IV daily.",
          "Discharge Medications",
          "- Tranexamic acid 1300 mg PO TID for up to 5 days during",
          "  menses",
          "- Lisinopril 20 mg PO daily",
          "Allergies",
          "- Codeine: nausea",
        ].join("\n"),
      ),
    );
    expect(meds.map((m) => [m.name, m.frequency])).toEqual([
      ["Tranexamic acid", "TID for up to 5 days during menses"],
      ["Lisinopril", "daily"],
    ]);
  });
});

describe("allergies", () => {
  it("NKDA gives no entries but records that none are known", () => {
    expect(extractAllergies(doc("Allergies\nNo known drug allergies."))).toEqual({
      allergies: [],
      noKnownAllergies: true,
    });
    expect(extractAllergies(doc("ALLERGIES: NKDA"))).toEqual({ allergies: [], noKnownAllergies: true });
  });

  it("substance and reaction in the common separators", () => {
    const text = [
      "Allergies",
      "• Codeine — nausea and vomiting",
      "- Shellfish: hives and lip swelling",
      "- Latex (contact dermatitis)",
      "- Sulfamethoxazole-trimethoprim: rash",
    ].join("\n");
    expect(extractAllergies(doc(text)).allergies.map((a) => [a.substance, a.reaction])).toEqual([
      ["Codeine", "nausea and vomiting"],
      ["Shellfish", "hives and lip swelling"],
      ["Latex", "contact dermatitis"],
      ["Sulfamethoxazole-trimethoprim", "rash"],
    ]);
  });

  it("inline lists on the header line", () => {
    const r = extractAllergies(doc("Allergies: Penicillin (rash); Sulfa drugs (hives)"));
    expect(r.allergies.map((a) => [a.substance, a.reaction])).toEqual([
      ["Penicillin", "rash"],
      ["Sulfa drugs", "hives"],
    ]);
    expect(r.noKnownAllergies).toBe(false);
  });
});
