import { describe, expect, it } from "vitest";
import { FALLBACK_FILENAME, MAX_FILENAME_CHARS, normalizeFilename } from "./normalize-filename";

describe("normalizeFilename", () => {
  it.each([
    ["report.pdf", "report.pdf"],
    ["  spaced name.pdf  ", "spaced name.pdf"],
    ["../../etc/passwd", "passwd"],
    ["..\\..\\boot.ini", "boot.ini"],
    ["C:\\fakepath\\scan.tiff", "scan.tiff"],
    ["dir/", FALLBACK_FILENAME],
    ["...", FALLBACK_FILENAME],
    ["", FALLBACK_FILENAME],
    ["\u0000\u0001", FALLBACK_FILENAME],
    [".hidden", ".hidden"],
    ["Zoe\u0301.pdf", "Zoé.pdf"],
    ["invoice\u202Efdp.exe", "invoicefdp.exe"],
    ["a\u2066b\u2069c\u200f.txt", "abc.txt"],
    ["line\nbreak\r\tname.pdf", "linebreakname.pdf"],
    ["c1\u0085\u009bcontrol.pdf", "c1control.pdf"],
    ["lone\udc00surrogate.pdf", "lone\ufffdsurrogate.pdf"],
    ["emoji 🩺.pdf", "emoji 🩺.pdf"],
  ])("%j -> %j", (raw, expected) => {
    expect(normalizeFilename(raw)).toBe(expected);
  });

  it("is idempotent", () => {
    for (const raw of ["Zoe\u0301 ../x.pdf", "a".repeat(400), "x\u202E.pdf"]) {
      const once = normalizeFilename(raw);
      expect(normalizeFilename(once)).toBe(once);
    }
  });

  it("keeps at most 255 code points, keeping a short extension", () => {
    const long = normalizeFilename(`${"🩺".repeat(300)}.pdf`);
    expect(Array.from(long)).toHaveLength(MAX_FILENAME_CHARS);
    expect(long.endsWith(".pdf")).toBe(true);
    const noExtension = normalizeFilename("b".repeat(1000));
    expect(noExtension).toBe("b".repeat(MAX_FILENAME_CHARS));
    const hugeExtension = normalizeFilename(`a.${"x".repeat(400)}`);
    expect(Array.from(hugeExtension)).toHaveLength(MAX_FILENAME_CHARS);
    expect(hugeExtension.startsWith("a.x")).toBe(true);
  });
});
