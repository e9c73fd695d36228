import { afterEach, describe, expect, it, vi } from "vitest";
import { Contact, DateOfBirth, Lifestyle, Mrn, Notes, PersonName } from "./patient-fields";

afterEach(() => {
  vi.useRealTimers();
});

describe("DateOfBirth", () => {
  it("accepts 1900-01-01 and refuses the day before", () => {
    expect(DateOfBirth.safeParse("1900-01-01").success).toBe(true);
    expect(DateOfBirth.safeParse("1899-12-31").success).toBe(false);
  });

  it("accepts today wherever it is already today (up to UTC+14), and nothing later", () => {
    vi.useFakeTimers();
    // 2026-06-15 11:00 UTC: already 2026-06-16 in Kiribati (UTC+14), not yet 2026-06-17 anywhere.
    vi.setSystemTime(new Date("2026-06-15T11:00:00Z"));
    expect(DateOfBirth.safeParse("2026-06-15").success).toBe(true);
    expect(DateOfBirth.safeParse("2026-06-16").success).toBe(true);
    expect(DateOfBirth.safeParse("2026-06-17").success).toBe(false);
  });

  it("refuses impossible and badly formatted dates", () => {
    for (const value of ["2023-02-29", "2024-13-01", "1985-1-5", "19851210", "1985-12-10T00:00:00Z", ""])
      expect(DateOfBirth.safeParse(value).success, value).toBe(false);
    expect(DateOfBirth.safeParse("2024-02-29").success).toBe(true);
  });
});

describe("text fields", () => {
  it("trims and NFC-normalises names; refuses empty, over-long and control characters", () => {
    expect(PersonName.parse("  Ange\u0301le ")).toBe("Ang\u00e9le");
    for (const bad of ["", "   ", "a".repeat(201), "Tab\there", "Bell\u0007", "Null\u0000"])
      expect(PersonName.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
    expect(PersonName.safeParse("a".repeat(200)).success).toBe(true);
  });

  it("notes keep line breaks and tabs but not other control characters, up to 20,000 characters", () => {
    expect(Notes.safeParse("line 1\r\nline 2\tindented").success).toBe(true);
    expect(Notes.safeParse("escape \u001b[31m").success).toBe(false);
    expect(Notes.safeParse("n".repeat(20_000)).success).toBe(true);
    expect(Notes.safeParse("n".repeat(20_001)).success).toBe(false);
  });

  it("MRNs: letters, digits and separators, compared as given", () => {
    for (const good of ["12345", "MRN-0001", "A/B.7_x #2", "Ä123"]) expect(Mrn.parse(` ${good} `)).toBe(good);
    for (const bad of ["-123", "a".repeat(65), "x;drop", "<b>", ""])
      expect(Mrn.safeParse(bad).success, bad).toBe(false);
  });
});

describe("contact and lifestyle", () => {
  it("contact is strict and checks each part", () => {
    expect(Contact.parse({ address: { country: "de" } })).toEqual({ address: { country: "DE" } });
    expect(Contact.safeParse({ phone: "call me" }).success).toBe(false);
    expect(Contact.safeParse({ email: "x@example" }).success).toBe(false);
    expect(Contact.safeParse({ address: { street: "1 Main St" } }).success).toBe(false);
    expect(Contact.safeParse({ phone: "+49 30 1234567 x 89" }).success).toBe(true);
  });

  it("lifestyle takes only known keys and known answers", () => {
    expect(Lifestyle.parse({ smoking: "former", occupation: "nurse" })).toEqual({
      smoking: "former",
      occupation: "nurse",
    });
    expect(Lifestyle.safeParse({ smoking: "sometimes" }).success).toBe(false);
    expect(Lifestyle.safeParse({ sleep: "8h" }).success).toBe(false);
    expect(Lifestyle.safeParse({ diet: "d".repeat(201) }).success).toBe(false);
  });
});
