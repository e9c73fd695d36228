import { describe, expect, it } from "vitest";
import { encodeBase64Url } from "../config/key-ring";
import { decodeDocumentCursor, encodeDocumentCursor } from "./document-cursor";
import { storageDeletionBackoffSeconds } from "./document-limits";

describe("document cursor", () => {
  it("round-trips and refuses anything it did not produce", () => {
    const cursor = { createdAt: "2026-11-22T17:01:02.123456Z", id: "5d1c2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f" };
    expect(decodeDocumentCursor(encodeDocumentCursor(cursor))).toEqual(cursor);
    const b64 = (s: string) => encodeBase64Url(new TextEncoder().encode(s));
    for (const forged of [
      "",
      "!!!",
      b64(`${cursor.createdAt}|${cursor.id}`),
      b64(`d1|${cursor.createdAt}|${cursor.id.toUpperCase()}`),
      b64(`d1|2026-13-45T99:99:99.000000Z|${cursor.id}`),
      b64(`d1|${cursor.createdAt}|${cursor.id}' or 1=1`),
    ]) {
      expect(decodeDocumentCursor(forged), forged).toBeNull();
    }
  });
});

describe("storageDeletionBackoffSeconds", () => {
  it("doubles from a minute and stops at a day", () => {
    expect([1, 2, 3, 4].map(storageDeletionBackoffSeconds)).toEqual([60, 120, 240, 480]);
    expect(storageDeletionBackoffSeconds(0)).toBe(60);
    expect(storageDeletionBackoffSeconds(11)).toBe(61_440);
    expect(storageDeletionBackoffSeconds(12)).toBe(86_400);
    expect(storageDeletionBackoffSeconds(1000)).toBe(86_400);
  });
});
