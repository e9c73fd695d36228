import { describe, expect, it } from "vitest";
import { createPlainTextChecker } from "./plain-text-checker";

const utf8 = (s: string) => new TextEncoder().encode(s);
function utf16(s: string, littleEndian: boolean): Uint8Array {
  const out = new Uint8Array(2 + s.length * 2);
  out.set(littleEndian ? [0xff, 0xfe] : [0xfe, 0xff]);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    out[2 + 2 * i] = littleEndian ? c & 0xff : c >> 8;
    out[3 + 2 * i] = littleEndian ? c >> 8 : c & 0xff;
  }
  return out;
}

/** Feeds `bytes` in chunks of `size`, so characters and code units straddle chunk boundaries. */
function check(bytes: Uint8Array, size: number): boolean {
  const checker = createPlainTextChecker(bytes.subarray(0, 3));
  for (let at = 0; at < bytes.length; at += size) {
    if (!checker.push(bytes.subarray(at, at + size))) return false;
  }
  return checker.finish();
}

describe("createPlainTextChecker", () => {
  const note = "Blood pressure 120/80 — patient reports 😊 better sleep.\r\n\tNext visit: März.\f";

  it.each([1, 2, 3, 7, 4096])(
    "accepts UTF-8 (with and without BOM) and UTF-16 fed %i bytes at a time",
    (size) => {
      expect(check(utf8(note), size)).toBe(true);
      expect(check(new Uint8Array([0xef, 0xbb, 0xbf, ...utf8(note)]), size)).toBe(true);
      expect(check(utf16(note, true), size)).toBe(true);
      expect(check(utf16(note, false), size)).toBe(true);
    },
  );

  it.each([1, 3, 4096])("refuses binary and controls anywhere, fed %i bytes at a time", (size) => {
    expect(check(new Uint8Array([...utf8(note), 0x00, ...utf8("more")]), size)).toBe(false);
    expect(check(utf8(`${note}\u001b[31m`), size)).toBe(false);
    expect(check(utf8(`${note}\u0085`), size)).toBe(false);
    expect(check(new Uint8Array([...utf8(note), 0xc3, 0x28]), size)).toBe(false);
    expect(check(utf16(`${note}\u0000`, true), size)).toBe(false);
  });

  it("refuses a character or surrogate pair cut off at the end", () => {
    expect(check(new Uint8Array([...utf8("abc"), 0xe2, 0x82]), 2)).toBe(false);
    expect(check(utf16("ab\ud83d", true), 3)).toBe(false);
    expect(check(utf16("ab\ude0a", false), 3)).toBe(false);
    expect(check(new Uint8Array([...utf16("ab", true), 0x41]), 1)).toBe(false);
  });
});
