import { describe, expect, it } from "vitest";
import {
  createFileStructureChecker,
  declaredPixels,
  MAX_UPLOAD_IMAGE_PIXELS,
} from "./file-structure-checker";

const ascii = (s: string) => new TextEncoder().encode(s);
const IEND = [0, 0, 0, 0, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82];
function png(width: number, height: number, trailer: number[] = IEND): Uint8Array {
  const bytes = new Uint8Array(33 + trailer.length);
  bytes.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]);
  new DataView(bytes.buffer).setUint32(16, width);
  new DataView(bytes.buffer).setUint32(20, height);
  bytes.set(trailer, 33);
  return bytes;
}
function run(mediaType: Parameters<typeof createFileStructureChecker>[0], bytes: Uint8Array, chunk: number) {
  const checker = createFileStructureChecker(mediaType);
  for (let i = 0; i < bytes.length; i += chunk) {
    const problem = checker.push(bytes.subarray(i, i + chunk));
    if (problem) return problem;
  }
  return checker.finish();
}

describe("createFileStructureChecker", () => {
  it.each([1, 5, 1000])("accepts files that end where they should, in chunks of %i", (chunk) => {
    expect(run("application/pdf", ascii(`%PDF-1.7\n${"x".repeat(5000)}\n%%EOF\n`), chunk)).toBeNull();
    expect(run("application/pdf", ascii("%PDF-1.4\n...\n%%EOF\r\n\0\0"), chunk)).toBeNull();
    // Incremental updates append after an earlier %%EOF: only the last one counts.
    expect(run("application/pdf", ascii("%PDF-1.4\n%%EOF\nupdate\n%%EOF"), chunk)).toBeNull();
    expect(run("image/png", png(2550, 3300), chunk)).toBeNull();
    expect(run("image/jpeg", new Uint8Array([0xff, 0xd8, 0xff, 0xd9, 1, 2, 3]), chunk)).toBeNull();
  });

  it.each([1, 7, 4096])("refuses data after the end, in chunks of %i", (chunk) => {
    expect(run("application/pdf", ascii("%PDF-1.7\n%%EOF\nPK\u0003\u0004zip"), chunk)).toBe("trailing_data");
    expect(run("application/pdf", ascii("%PDF-1.7\nno trailer at all"), chunk)).toBe("trailing_data");
    expect(run("image/png", png(10, 10, [...IEND, 0x3c, 0x68]), chunk)).toBe("trailing_data");
    expect(run("image/png", png(10, 10, []), chunk)).toBe("trailing_data");
  });

  it("refuses image headers declaring more pixels than any page scan", () => {
    expect(run("image/png", png(100_000, 100_000), 8)).toBe("image_too_large");
    expect(run("image/png", png(7000, 8500), 8)).toBeNull();
    expect(declaredPixels("image/png", png(7746, 7746))).toBeGreaterThan(MAX_UPLOAD_IMAGE_PIXELS);
  });

  it("reads JPEG dimensions from the first SOF marker, after APP segments", () => {
    const jpeg = new Uint8Array([
      0xff, 0xd8, 0xff, 0xe1, 0x00, 0x06, 1, 2, 3, 4, 0xff, 0xc2, 0x00, 0x0b, 0x08, 0xea, 0x60, 0xea, 0x60, 1,
      1, 0x11, 0,
    ]);
    expect(declaredPixels("image/jpeg", jpeg)).toBe(60_000 * 60_000);
    expect(run("image/jpeg", jpeg, 3)).toBe("image_too_large");
    expect(declaredPixels("image/jpeg", jpeg.subarray(0, 12))).toBeUndefined();
    expect(declaredPixels("application/pdf", jpeg)).toBeNull();
  });
});
