/**
 * Test helper: 8-bit greyscale PNG with a resolution (pHYs) chunk, deflated with CompressionStream
 * so it runs unchanged in Node and workerd. Not used by production code.
 *
 * The chunk framing (CRC, IHDR, signature) is exported for test/fixtures/clinical/build-test-image.ts,
 * which builds its PNGs synchronously with node:zlib: one PNG writer, two ways to deflate.
 */
import type { GreyImage } from "./render-test-page";

const PNG_SIGNATURE = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** One PNG chunk: length, type, data, CRC-32 of type and data (PNG spec, 5.3). */
export function pngChunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  out.set(new TextEncoder().encode(type), 4);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/**
 * The signature and an IHDR for 8-bit greyscale of the given size, then `chunks` as given:
 * with none, only the header (enough for size checks); a whole image needs IDAT and IEND.
 */
export function greyPngFile(width: number, height: number, chunks: readonly Uint8Array[]): Uint8Array {
  const ihdr = new Uint8Array(13);
  const view = new DataView(ihdr.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  ihdr.set([8, 0, 0, 0, 0], 8);
  return concatBytes([PNG_SIGNATURE, pngChunk("IHDR", ihdr), ...chunks]);
}

/** Scanlines with filter type 0 (none) in front of each row, as IDAT holds them before deflate. */
export function unfilteredScanlines(
  width: number,
  height: number,
  row: (y: number, line: Uint8Array) => void,
): Uint8Array {
  const raw = new Uint8Array((width + 1) * height);
  for (let y = 0; y < height; y++) row(y, raw.subarray(y * (width + 1) + 1, (y + 1) * (width + 1)));
  return raw;
}

/** "deflate" in the Compression Streams standard is the zlib format PNG's IDAT requires. */
async function zlib(data: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([data as Uint8Array<ArrayBuffer>])
    .stream()
    .pipeThrough(new CompressionStream("deflate"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

export async function encodeGreyPng(image: GreyImage, dpi = 200): Promise<Uint8Array> {
  const { width, height, pixels } = image;
  const phys = new Uint8Array(9);
  const pv = new DataView(phys.buffer);
  const perMetre = Math.round(dpi / 0.0254);
  pv.setUint32(0, perMetre);
  pv.setUint32(4, perMetre);
  phys[8] = 1;
  const raw = unfilteredScanlines(width, height, (y, line) =>
    line.set(pixels.subarray(y * width, (y + 1) * width)),
  );
  return greyPngFile(width, height, [
    pngChunk("pHYs", phys),
    pngChunk("IDAT", await zlib(raw)),
    pngChunk("IEND", new Uint8Array()),
  ]);
}
