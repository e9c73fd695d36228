/**
 * Re-reading doubtful numbers (issue 11) against the real tesseract.js-core module: Leptonica
 * decodes the page inside the wasm, and the crop handed to the line reader must be the word's
 * own pixels. The line reader records what it is given and answers as scripted, so the rules
 * for accepting a re-reading are checked exactly; the real engine's re-readings are scored on
 * generated scans (test/clinical-variety/scan-variety.test.ts).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { buildPgm } from "../../test/fixtures/clinical/build-test-image";
import type { OcrWord } from "./layout-ocr-words";
import { loadNodeOcrAssets } from "./node-ocr-assets";
import { instantiateCore } from "./ocr-engine";
import {
  isBetterReading,
  type LineReader,
  type PixelAccess,
  rereadDoubtfulWords,
} from "./reread-doubtful-words";

const word = (text: string, confidence: number, left = 40, top = 20, width = 30, height = 20): OcrWord => ({
  text,
  confidence,
  left,
  top,
  width,
  height,
  line: "1.1.1",
});

/** A line reader that keeps each crop it is given and answers from a script, in order. */
function scriptedReader(answers: { text: string; confidence: number }[]) {
  const crops: { width: number; height: number; pixels: Uint8Array }[] = [];
  let memory: WebAssembly.Memory;
  let next = 0;
  let image: { pointer: number; width: number; height: number } | null = null;
  const reader: LineReader = {
    SetImage(pointer, width, height, bytesPerPixel, bytesPerLine) {
      expect(bytesPerPixel).toBe(1);
      expect(bytesPerLine).toBe(width);
      image = { pointer, width, height };
    },
    SetSourceResolution: () => {},
    SetVariable: () => true,
    Recognize() {
      const { pointer, width, height } = image!;
      crops.push({ width, height, pixels: new Uint8Array(memory.buffer, pointer, width * height).slice() });
      return 0;
    },
    GetUTF8Text: () => answers[next]?.text ?? "",
    MeanTextConf: () => answers[next++]?.confidence ?? 0,
  };
  return { reader, crops, bind: (m: WebAssembly.Memory) => (memory = m) };
}

describe("rereadDoubtfulWords", () => {
  let pixels: PixelAccess;
  let memory: WebAssembly.Memory;
  beforeAll(async () => {
    const core = await instantiateCore(await loadNodeOcrAssets());
    pixels = core.module as PixelAccess;
    memory = core.memory!;
  });

  // A 200 x 80 grey page whose level encodes the position: (x + 3y) mod 256.
  const W = 200;
  const H = 80;
  const page = new Uint8Array(W * H).map((_, i) => ((i % W) + 3 * Math.floor(i / W)) % 256);
  const pgm = buildPgm(W, H, page);

  it("hands the reader the word's own pixels (its box and a margin of a quarter of its height)", () => {
    const { reader, crops, bind } = scriptedReader([{ text: "5.7", confidence: 95 }]);
    bind(memory);
    const out = rereadDoubtfulWords([word("57", 60)], pgm, pixels, memory, reader);
    expect(out.map((w) => w.text)).toEqual(["5.7"]);
    expect(crops).toHaveLength(1);
    const crop = crops[0]!;
    // Box 40..70 x 20..40, margin 5: x 35..75, y 15..45.
    expect([crop.width, crop.height]).toEqual([40, 30]);
    for (const [x, y] of [
      [0, 0],
      [39, 0],
      [0, 29],
      [17, 11],
    ] as const)
      expect(crop.pixels[y * crop.width + x], `${x},${y}`).toBe(page[(15 + y) * W + 35 + x]);
  });

  it("reads colour images as grey (luminance)", () => {
    const rgb = new Uint8Array(W * H * 3);
    for (let i = 0; i < W * H; i++) rgb.set([200, 100, 50], i * 3);
    const header = new TextEncoder().encode(`P6\n${W} ${H}\n255\n`);
    const ppm = new Uint8Array(header.length + rgb.length);
    ppm.set(header);
    ppm.set(rgb, header.length);
    const { reader, crops, bind } = scriptedReader([{ text: "12", confidence: 20 }]);
    bind(memory);
    rereadDoubtfulWords([word("12", 40)], ppm, pixels, memory, reader);
    const expected = Math.round(0.299 * 200 + 0.587 * 100 + 0.114 * 50);
    for (const v of crops[0]!.pixels) expect(Math.abs(v - expected)).toBeLessThanOrEqual(1);
  });

  it("re-reads only doubtful words that hold a digit", () => {
    const { reader, crops, bind } = scriptedReader([{ text: "28.2", confidence: 96 }]);
    bind(memory);
    const words = [word("Sodium", 40, 0), word("139", 95, 60), word("282", 70, 120)];
    const out = rereadDoubtfulWords(words, pgm, pixels, memory, reader);
    expect(crops).toHaveLength(1);
    expect(out.map((w) => w.text)).toEqual(["Sodium", "139", "28.2"]);
  });

  it("leaves the words as read when the image cannot be decoded", () => {
    const { reader, crops, bind } = scriptedReader([{ text: "5.7", confidence: 95 }]);
    bind(memory);
    const out = rereadDoubtfulWords([word("57", 60)], new Uint8Array([1, 2, 3, 4]), pixels, memory, reader);
    expect(crops).toHaveLength(0);
    expect(out.map((w) => w.text)).toEqual(["57"]);
  });
});

describe("isBetterReading", () => {
  it("takes a clearly surer reading that keeps the digits", () => {
    expect(isBetterReading(word("57H*", 66), { text: "5.7 H*", confidence: 91 })).toBe(true);
    expect(isBetterReading(word("31s", 49), { text: "315", confidence: 85 })).toBe(true);
    expect(isBetterReading(word("080t01.80", 53), { text: "0.80 to 1.80", confidence: 93 })).toBe(true);
  });

  it("refuses a reading that is not clearly surer, or not sure enough", () => {
    expect(isBetterReading(word("1350175", 42), { text: "135t0 17.5", confidence: 41 })).toBe(false);
    expect(isBetterReading(word("301*", 11), { text: "301*", confidence: 24 })).toBe(false);
    expect(isBetterReading(word("4.2", 81), { text: "4.2", confidence: 88 })).toBe(false);
  });

  it("refuses a reading that loses a digit, unless the first reading was very unsure", () => {
    expect(isBetterReading(word("1L*", 55), { text: "L*", confidence: 84 })).toBe(false);
    expect(isBetterReading(word("12.5", 70), { text: "2.5", confidence: 95 })).toBe(false);
    expect(isBetterReading(word("45010590", 0), { text: "4.50 to 5.90", confidence: 85 })).toBe(true);
    expect(isBetterReading(word("1L*", 41), { text: "L*", confidence: 84 })).toBe(false);
  });
});
