import { describe, expect, it } from "vitest";
import { decodeKeysetCursor, encodeKeysetCursor, MAX_CURSOR_CHARS } from "./keyset-cursor";

const cursor = { createdAt: "2026-11-22T18:00:00.123456Z", id: "6f1f2a4e-3c1b-4d7a-9e55-1b2c3d4e5f60" };

describe("keyset cursor", () => {
  it("round-trips with and without a list tag, and a tag keeps lists apart", () => {
    expect(decodeKeysetCursor(encodeKeysetCursor(cursor))).toEqual(cursor);
    const tagged = encodeKeysetCursor(cursor, "d1");
    expect(decodeKeysetCursor(tagged, "d1")).toEqual(cursor);
    expect(decodeKeysetCursor(tagged)).toBeNull();
    expect(decodeKeysetCursor(encodeKeysetCursor(cursor), "d1")).toBeNull();
  });

  it("refuses tampering, impossible dates, non-UTF-8 and over-long input", () => {
    const text = new TextDecoder().decode(
      Uint8Array.from(atob(encodeKeysetCursor(cursor).replace(/-/g, "+").replace(/_/g, "/")), (c) =>
        c.charCodeAt(0),
      ),
    );
    expect(text).toBe(`${cursor.createdAt}|${cursor.id}`);
    expect(
      decodeKeysetCursor(encodeKeysetCursor({ ...cursor, createdAt: "2026-02-30T00:00:00.000000Z" })),
    ).toBeNull();
    expect(decodeKeysetCursor(encodeKeysetCursor({ ...cursor, id: "not-a-uuid" }))).toBeNull();
    expect(decodeKeysetCursor("%%%")).toBeNull();
    expect(decodeKeysetCursor("_w")).toBeNull();
    expect(decodeKeysetCursor("A".repeat(MAX_CURSOR_CHARS + 1))).toBeNull();
  });
});
