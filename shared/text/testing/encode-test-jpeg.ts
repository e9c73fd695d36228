/**
 * Test helper: baseline greyscale JPEG encoder (ITU T.81), so scanned-page inputs are generated
 * in tests in any runtime instead of committed. Every AC symbol gets an 8-bit code and every DC
 * category a 4-bit one: valid canonical tables, simpler than the Annex K ones, a little larger.
 * Not used by production code.
 */
import type { GreyImage } from "./render-test-page";

/** Annex K luminance quantisation table, in natural (row-major) order. */
const BASE_QUANT = [
  16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22,
  29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92, 49, 64, 78, 87, 103,
  121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
];

/** ZIGZAG[k] = natural index of the k-th coefficient in scan order. */
const ZIGZAG = (() => {
  const order: number[] = [];
  for (let s = 0; s <= 14; s++) {
    const lo = Math.max(0, s - 7);
    const hi = Math.min(s, 7);
    if (s % 2 === 1) for (let row = lo; row <= hi; row++) order.push(row * 8 + (s - row));
    else for (let row = hi; row >= lo; row--) order.push(row * 8 + (s - row));
  }
  return order;
})();

const COS = (() => {
  const t = new Float64Array(64);
  for (let u = 0; u < 8; u++) {
    for (let x = 0; x < 8; x++)
      t[u * 8 + x] = Math.cos(((2 * x + 1) * u * Math.PI) / 16) * (u === 0 ? Math.SQRT1_2 : 1);
  }
  return t;
})();

const DC_SYMBOLS = Array.from({ length: 12 }, (_, i) => i);
const AC_SYMBOLS = [0x00, 0xf0];
for (let run = 0; run < 16; run++) for (let size = 1; size <= 10; size++) AC_SYMBOLS.push((run << 4) | size);

class BitWriter {
  readonly bytes: number[] = [];
  #acc = 0;
  #n = 0;
  write(value: number, length: number): void {
    for (let i = length - 1; i >= 0; i--) {
      this.#acc = (this.#acc << 1) | ((value >> i) & 1);
      if (++this.#n === 8) this.#flush();
    }
  }
  #flush(): void {
    this.bytes.push(this.#acc);
    if (this.#acc === 0xff) this.bytes.push(0); // byte stuffing
    this.#acc = 0;
    this.#n = 0;
  }
  finish(): void {
    while (this.#n !== 0) this.write(1, 1);
  }
}

function category(v: number): number {
  let a = Math.abs(v);
  let n = 0;
  while (a > 0) {
    n++;
    a >>= 1;
  }
  return n;
}

function writeValue(w: BitWriter, v: number, size: number): void {
  if (size > 0) w.write(v < 0 ? v + (1 << size) - 1 : v, size);
}

function segment(marker: number, body: number[]): number[] {
  const len = body.length + 2;
  return [0xff, marker, len >> 8, len & 0xff, ...body];
}

export function encodeGreyJpeg(image: GreyImage, quality = 90, dpi = 200): Uint8Array {
  const { width, height, pixels } = image;
  const scale = quality < 50 ? 5000 / quality : 200 - quality * 2;
  const quant = BASE_QUANT.map((q) => Math.min(255, Math.max(1, Math.floor((q * scale + 50) / 100))));
  const dcCode = new Map(DC_SYMBOLS.map((s, i) => [s, i]));
  const acCode = new Map(AC_SYMBOLS.map((s, i) => [s, i]));
  const w = new BitWriter();
  const block = new Float64Array(64);
  const tmp = new Float64Array(64);
  let previousDc = 0;
  for (let by = 0; by < height; by += 8) {
    for (let bx = 0; bx < width; bx += 8) {
      for (let y = 0; y < 8; y++) {
        const sy = Math.min(by + y, height - 1);
        for (let x = 0; x < 8; x++)
          block[y * 8 + x] = pixels[sy * width + Math.min(bx + x, width - 1)]! - 128;
      }
      // Separable 2-D DCT-II: rows, then columns.
      for (let y = 0; y < 8; y++) {
        for (let u = 0; u < 8; u++) {
          let s = 0;
          for (let x = 0; x < 8; x++) s += block[y * 8 + x]! * COS[u * 8 + x]!;
          tmp[y * 8 + u] = s / 2;
        }
      }
      for (let u = 0; u < 8; u++) {
        for (let v = 0; v < 8; v++) {
          let s = 0;
          for (let y = 0; y < 8; y++) s += tmp[y * 8 + u]! * COS[v * 8 + y]!;
          block[v * 8 + u] = s / 2;
        }
      }
      const coef = ZIGZAG.map((natural) => Math.round(block[natural]! / quant[natural]!));
      const diff = coef[0]! - previousDc;
      previousDc = coef[0]!;
      const dcSize = category(diff);
      w.write(dcCode.get(dcSize)!, 4);
      writeValue(w, diff, dcSize);
      let run = 0;
      for (let k = 1; k < 64; k++) {
        const c = coef[k]!;
        if (c === 0) {
          run++;
          continue;
        }
        while (run > 15) {
          w.write(acCode.get(0xf0)!, 8);
          run -= 16;
        }
        const size = category(c);
        w.write(acCode.get((run << 4) | size)!, 8);
        writeValue(w, c, size);
        run = 0;
      }
      if (run > 0) w.write(acCode.get(0x00)!, 8);
    }
  }
  w.finish();
  const bitsFor = (length: number, count: number) =>
    Array.from({ length: 16 }, (_, i) => (i === length - 1 ? count : 0));
  const head = [
    0xff,
    0xd8,
    ...segment(0xe0, [0x4a, 0x46, 0x49, 0x46, 0, 1, 1, 1, dpi >> 8, dpi & 0xff, dpi >> 8, dpi & 0xff, 0, 0]),
    ...segment(0xdb, [0, ...ZIGZAG.map((n) => quant[n]!)]),
    ...segment(0xc0, [8, height >> 8, height & 0xff, width >> 8, width & 0xff, 1, 1, 0x11, 0]),
    ...segment(0xc4, [0x00, ...bitsFor(4, DC_SYMBOLS.length), ...DC_SYMBOLS]),
    ...segment(0xc4, [0x10, ...bitsFor(8, AC_SYMBOLS.length), ...AC_SYMBOLS]),
    ...segment(0xda, [1, 1, 0x00, 0, 63, 0]),
  ];
  const out = new Uint8Array(head.length + w.bytes.length + 2);
  out.set(head, 0);
  out.set(w.bytes, head.length);
  out.set([0xff, 0xd9], head.length + w.bytes.length);
  return out;
}
