import { describe, expect, it } from "vitest";
import { detectDateOrder, findDates } from "./parse-clinical-date";

describe("findDates", () => {
  it("reads the laboratory short form dd-Mon-yy, and not a day and month in prose", () => {
    expect(findDates("Collected 25-Mar-25 and 04-Oct-24").map((d) => d.iso)).toEqual([
      "2025-03-25",
      "2024-10-04",
    ]);
    expect(findDates("take 5 May 20 mg")).toEqual([]);
  });

  it("reads ambiguous slashed dates in the order given", () => {
    expect(findDates("06/03/2024", "dmy")[0]?.iso).toBe("2024-03-06");
    expect(findDates("06/03/2024", "mdy")[0]?.iso).toBe("2024-06-03");
  });
});

describe("detectDateOrder", () => {
  it("settles on the document's unambiguous dates first", () => {
    expect(detectDateOrder("Seen 14/03/2024, reviewed 02/04/2024")).toBe("dmy");
    expect(detectDateOrder("Seen 03/14/2024, reviewed 04/02/2024")).toBe("mdy");
  });

  it("takes SI units to mean a laboratory outside the US (day first), conventional units the US", () => {
    expect(detectDateOrder("Collected 06/03/2024\nHbA1c 48 mmol/mol\nCreatinine 88 umol/L")).toBe("dmy");
    expect(detectDateOrder("Collected 06/03/2024\nGlucose 98 mg/dL\nWBC 6.1 K/uL")).toBe("mdy");
  });

  it("has no opinion without evidence", () => {
    expect(detectDateOrder("Collected 06/03/2024\nSodium 139 mmol/L")).toBeNull();
  });
});
