import { describe, expect, it } from "vitest";
import { safeReturnTo } from "./safe-return-to";

describe("safeReturnTo", () => {
  it("keeps a path on this site, with its query and fragment", () => {
    expect(safeReturnTo("/")).toBe("/");
    expect(safeReturnTo("/patients/123?tab=reports#latest")).toBe("/patients/123?tab=reports#latest");
    expect(safeReturnTo("/a/../b")).toBe("/b");
  });

  it.each([
    ["missing", undefined],
    ["empty", ""],
    ["absolute URL", "https://evil.example/"],
    ["scheme-relative", "//evil.example/path"],
    ["backslash scheme-relative", "/\\evil.example"],
    ["backslash later on", "/x\\..\\\\evil.example"],
    ["javascript URL", "javascript:alert(1)"],
    ["data URL", "data:text/html,hi"],
    ["relative without a slash", "patients"],
    ["tab smuggling", "/\t/evil.example"],
    ["newline", "/ok\n"],
    ["too long", `/${"a".repeat(600)}`],
  ])("falls back to / for %s", (_label, value) => {
    expect(safeReturnTo(value)).toBe("/");
  });
});
