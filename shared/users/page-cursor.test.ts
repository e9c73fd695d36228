import { describe, expect, it } from "vitest";
import { encodeBase64Url } from "../config/key-ring";
import { decodePageCursor, encodePageCursor, toPage } from "./page-cursor";

const ID = "0b7c3a52-9a1e-4f7e-8d2b-3c4d5e6f7a8b";

describe("page cursors", () => {
  it("round-trip a microsecond timestamp and an id", () => {
    const cursor = { createdAt: "2026-11-22T18:00:00.123456Z", id: ID };
    expect(decodePageCursor(encodePageCursor(cursor))).toEqual(cursor);
  });

  it.each([
    ["garbage", "%%%"],
    ["base64 of free text", encodeBase64Url(new TextEncoder().encode("hello"))],
    ["a millisecond timestamp", encodeBase64Url(new TextEncoder().encode(`2026-11-22T18:00:00.123Z|${ID}`))],
    ["an impossible date", encodeBase64Url(new TextEncoder().encode(`2026-13-45T18:00:00.123456Z|${ID}`))],
    ["a non-uuid id", encodeBase64Url(new TextEncoder().encode("2026-11-22T18:00:00.123456Z|1 or 1=1"))],
    ["invalid UTF-8", encodeBase64Url(Uint8Array.from([0xff, 0xfe, 0x7c]))],
  ])("refuse %s", (_label, text) => {
    expect(decodePageCursor(text)).toBeNull();
  });

  it("toPage keeps `limit` rows and gives a cursor only when a further row exists", () => {
    const rows = [1, 2, 3].map((n) => ({
      id: `${ID.slice(0, -1)}${n}`,
      cursor_created_at: `2026-11-22T18:00:0${n}.000000Z`,
    }));
    const full = toPage(rows, 2, (r) => r.id);
    expect(full.items).toEqual([rows[0]!.id, rows[1]!.id]);
    expect(decodePageCursor(full.nextCursor!)).toEqual({
      createdAt: rows[1]!.cursor_created_at,
      id: rows[1]!.id,
    });
    expect(toPage(rows.slice(0, 2), 2, (r) => r.id).nextCursor).toBeNull();
  });
});
