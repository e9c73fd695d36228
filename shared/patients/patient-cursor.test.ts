import { describe, expect, it } from "vitest";
import { decodePatientCursor, encodePatientCursor, MAX_CURSOR_CHARS } from "./patient-cursor";

const ID = "6f1c2d3e-4b5a-4c6d-8e7f-8091a2b3c4d5";
const encode = (text: string) => Buffer.from(text).toString("base64url");

describe("patient page cursor", () => {
  it("round-trips a microsecond timestamp and an id, as opaque base64url", () => {
    const cursor = { createdAt: "2026-11-22T17:42:56.181123Z", id: ID };
    const text = encodePatientCursor(cursor);
    expect(text).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(text).not.toContain(ID);
    expect(decodePatientCursor(text)).toEqual(cursor);
  });

  it.each([
    ["empty", ""],
    ["not base64url", "***"],
    ["not UTF-8", Buffer.from([0xc3, 0x28]).toString("base64url")],
    ["millisecond precision", encode(`2026-11-22T17:42:56.181Z|${ID}`)],
    ["an impossible day", encode(`2026-02-30T00:00:00.000000Z|${ID}`)],
    ["an impossible hour", encode(`2026-02-01T25:00:00.000000Z|${ID}`)],
    ["an upper-case id", encode(`2026-11-22T17:42:56.181123Z|${ID.toUpperCase()}`)],
    ["a missing id", encode("2026-11-22T17:42:56.181123Z|")],
    ["trailing data", encode(`2026-11-22T17:42:56.181123Z|${ID}|x`)],
    ["SQL in the id", encode("2026-11-22T17:42:56.181123Z|' or 1=1 --")],
    ["too long", "A".repeat(MAX_CURSOR_CHARS + 1)],
  ])("refuses %s", (_label, text) => {
    expect(decodePatientCursor(text)).toBeNull();
  });
});
