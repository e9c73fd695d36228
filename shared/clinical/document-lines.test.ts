/**
 * Section headings recognised by form and classified by their words (issue 11): wordings no
 * table lists, headings in capitals, underlined, numbered or set apart by spacing, and the
 * lines that look like headings but are content (a drug, an allergen, a condition, a stated
 * absence). An unknown heading still ends the section before it.
 */
import { describe, expect, it } from "vitest";
import { classifyHeadingWords, matchSectionHeader, segmentDocument } from "./document-lines";
import { ALLERGEN_NAMES } from "./terminology/allergens";
import { SECTION_HEAD_WORD_LISTS, SECTION_MODIFIERS } from "./terminology/section-vocabulary";

const kindOf = (line: string, next?: string, previous?: string) =>
  matchSectionHeader(line, next, previous)?.kind ?? null;

describe("headings classified by their words", () => {
  it.each([
    ["Current medicines", "medications"],
    ["Drug history", "medications"],
    ["Regular medications:", "medications"],
    ["Current drug treatment", "medications"],
    ["Known drug allergies", "allergies"],
    ["Medication allergies", "allergies"],
    ["Allergies and sensitivities", "allergies"],
    ["Adverse drug reactions", "allergies"],
    ["Active conditions", "problems"],
    ["Ongoing problems", "problems"],
    ["Medical background", "pmh"],
    ["Significant past history", "pmh"],
    ["Family history", "family_history"],
    ["Social circumstances", "social_history"],
    ["Stopped medications", "other"],
    ["Plan going forward", "plan"],
    ["Investigations", "results"],
  ])("%s -> %s", (heading, kind) => {
    expect(kindOf(heading)).toBe(kind);
    expect(kindOf(heading.toUpperCase())).toBe(kind);
  });

  it("reads a heading with inline content after its colon", () => {
    const line = "Current medicines: metformin 500 mg BD; ramipril 5 mg OD";
    expect(matchSectionHeader(line)).toMatchObject({ kind: "medications", contentAt: 19 });
  });

  it("accepts a numbered heading and one word that names no clinical term in a styled heading", () => {
    expect(kindOf("2. MEDICATIONS")).toBe("medications");
    expect(kindOf("Your Medicines")).toBe("medications");
    expect(kindOf("Actions for GP:")).toBe("plan");
  });
});

describe("lines that look like headings but are content", () => {
  it.each([
    "Penicillin allergy",
    "Latex allergy",
    "PEANUT ALLERGY",
    "ASPIRIN",
    "HYPERTENSION",
    "Insulin therapy",
    "NO KNOWN ALLERGIES",
    "None",
    "Social isolation",
    "Metformin 500 mg twice daily",
    "Medications were reviewed today and no changes were made.",
  ])("%s is not a heading", (line) => {
    expect(kindOf(line, "", "")).toBeNull();
  });
});

describe("unknown headings end the section before them", () => {
  it("recognises capitals, underlines, spacing and sign-offs as section ends", () => {
    expect(kindOf("DRIVING AND TRAVEL")).toBe("other");
    expect(kindOf("Wound care", "----------")).toBe("other");
    expect(kindOf("Driving", "She may continue to drive.", "")).toBe("other");
    expect(kindOf("Driving", "She may continue to drive.", "Amoxicillin - rash")).toBeNull();
    expect(kindOf("Yours sincerely,")).toBe("other");
    expect(kindOf("Electronically signed by")).toBe("other");
  });

  it("keeps an allergy list from running on into the rest of a letter", () => {
    const text = [
      "Dear Dr Whitfield,",
      "",
      "Allergies and sensitivities",
      "Codeine - nausea",
      "",
      "Things we discussed",
      "We talked about her blood pressure.",
      "",
      "Kind regards",
      "Dr Tomas Reyes",
    ].join("\n");
    const lines = segmentDocument([{ pageNumber: 1, text, source: "text_layer" }]);
    const allergyLines = lines
      .filter((l) => l.section === "allergies" && !l.isSectionHeader)
      .map((l) => l.text);
    expect(allergyLines.filter((t) => t.trim())).toEqual(["Codeine - nausea"]);
    // The salutation ends the letterhead: the letter's body is narrative, not header.
    expect(lines[1]!.section).toBe("hpi");
  });

  it("leaves a clinic's name in capitals in the letterhead", () => {
    const lines = segmentDocument([
      { pageNumber: 1, text: "NORTHGATE MEDICAL PRACTICE\nClinic letter\n", source: "text_layer" },
    ]);
    expect(lines.every((l) => l.section === "header")).toBe(true);
  });
});

describe("the heading vocabulary (data)", () => {
  it("names each head word once, and no word is both a head word and a modifier", () => {
    const all = SECTION_HEAD_WORD_LISTS.flatMap((l) => l.words);
    expect(all.length).toBe(new Set(all).size);
    for (const word of all) expect(SECTION_MODIFIERS.has(word), word).toBe(false);
    for (const word of all) expect(word).toBe(word.toLowerCase());
  });

  it("every head word, alone, classifies as its own section", () => {
    for (const list of SECTION_HEAD_WORD_LISTS)
      for (const word of list.words) expect(classifyHeadingWords(word), word).toBe(list.kind);
  });

  it("lists each allergen once, in lower case", () => {
    expect(ALLERGEN_NAMES.length).toBe(new Set(ALLERGEN_NAMES).size);
    for (const name of ALLERGEN_NAMES) expect(name).toBe(name.toLowerCase());
  });
});
