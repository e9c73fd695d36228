/**
 * Test helper: draws lines of ASCII text onto an 8-bit greyscale page with the bitmap glyphs in
 * ocr-test-glyphs.ts, in plain JS, so OCR can be tested on known text in Node and in workerd alike
 * (workerd has no canvas). Not used by production code.
 */
import {
  GLYPH_BITS_BASE64,
  GLYPH_CELL_HEIGHT,
  GLYPH_CELL_WIDTH,
  GLYPH_FIRST_CHAR,
  GLYPH_LAST_CHAR,
} from "./ocr-test-glyphs";

export interface GreyImage {
  readonly width: number;
  readonly height: number;
  /** Row-major, one byte per pixel, 0 = black, 255 = white. */
  readonly pixels: Uint8Array;
}

export interface TestPageOptions {
  /** Defaults: US Letter at 200 dpi (1700 x 2200), one-inch margins, 40 px (14.4 pt) line pitch. */
  readonly width?: number;
  readonly height?: number;
  readonly left?: number;
  readonly top?: number;
  readonly lineHeight?: number;
}

let glyphBits: Uint8Array | null = null;

function bits(): Uint8Array {
  glyphBits ??= Uint8Array.from(atob(GLYPH_BITS_BASE64), (c) => c.charCodeAt(0));
  return glyphBits;
}

export function renderTestPage(lines: readonly string[], options: TestPageOptions = {}): GreyImage {
  const width = options.width ?? 1700;
  const height = options.height ?? 2200;
  const left = options.left ?? 200;
  const top = options.top ?? 200;
  const lineHeight = options.lineHeight ?? 40;
  const pixels = new Uint8Array(width * height).fill(255);
  const glyphs = bits();
  const cellBits = GLYPH_CELL_WIDTH * GLYPH_CELL_HEIGHT;
  lines.forEach((line, row) => {
    for (let col = 0; col < line.length; col++) {
      const code = line.charCodeAt(col);
      if (code < GLYPH_FIRST_CHAR || code > GLYPH_LAST_CHAR) throw new Error("ASCII text only");
      const base = (code - GLYPH_FIRST_CHAR) * cellBits;
      const x0 = left + col * GLYPH_CELL_WIDTH;
      const y0 = top + row * lineHeight;
      for (let y = 0; y < GLYPH_CELL_HEIGHT; y++) {
        for (let x = 0; x < GLYPH_CELL_WIDTH; x++) {
          const bit = base + y * GLYPH_CELL_WIDTH + x;
          const px = x0 + x;
          const py = y0 + y;
          if (px < width && py < height && glyphs[bit >> 3]! & (0x80 >> (bit & 7))) {
            pixels[py * width + px] = 0;
          }
        }
      }
    }
  });
  return { width, height, pixels };
}
