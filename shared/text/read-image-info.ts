/**
 * Width, height and EXIF orientation read from image headers without decoding pixels, so the
 * area limit is enforced before any memory is spent on a possibly hostile image.
 */
export interface ImageInfo {
  readonly width: number;
  readonly height: number;
  /** EXIF orientation 1-8 (1 = upright); tesseract's SetImageFile rotates accordingly. */
  readonly orientation: number;
}

export function readImageInfo(bytes: Uint8Array): ImageInfo | null {
  if (bytes.length >= 24 && bytes[0] === 0x89 && bytes[1] === 0x50) return readPng(bytes);
  if (bytes.length >= 4 && bytes[0] === 0xff && bytes[1] === 0xd8) return readJpeg(bytes);
  if (bytes.length >= 8 && (bytes[0] === 0x49 || bytes[0] === 0x4d)) return readTiff(bytes);
  if (bytes.length >= 3 && bytes[0] === 0x50 && (bytes[1] === 0x35 || bytes[1] === 0x36))
    return readPnm(bytes);
  return null;
}

function u16(b: Uint8Array, o: number, le: boolean): number {
  return le ? b[o]! | (b[o + 1]! << 8) : (b[o]! << 8) | b[o + 1]!;
}
function u32(b: Uint8Array, o: number, le: boolean): number {
  return le
    ? (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0
    : ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

function readPng(b: Uint8Array): ImageInfo | null {
  // IHDR is always the first chunk: 8 signature + 4 length + 4 type, then width, height.
  if (String.fromCharCode(b[12]!, b[13]!, b[14]!, b[15]!) !== "IHDR") return null;
  return { width: u32(b, 16, false), height: u32(b, 20, false), orientation: 1 };
}

function readJpeg(b: Uint8Array): ImageInfo | null {
  let o = 2;
  let orientation = 1;
  while (o + 4 <= b.length) {
    if (b[o] !== 0xff) return null;
    const marker = b[o + 1]!;
    if (marker === 0xff) {
      o++;
      continue;
    }
    if (marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
      o += 2;
      continue;
    }
    const len = u16(b, o + 2, false);
    if (len < 2) return null;
    if (marker === 0xe1 && len >= 16) orientation = readExifOrientation(b, o + 4, len - 2) ?? orientation;
    const isSof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isSof && o + 9 <= b.length) {
      return { height: u16(b, o + 5, false), width: u16(b, o + 7, false), orientation };
    }
    o += 2 + len;
  }
  return null;
}

function readExifOrientation(b: Uint8Array, start: number, len: number): number | null {
  if (String.fromCharCode(b[start]!, b[start + 1]!, b[start + 2]!, b[start + 3]!) !== "Exif") return null;
  const t = start + 6;
  if (t + 8 > start + len) return null;
  const le = b[t] === 0x49;
  const ifd = t + u32(b, t + 4, le);
  if (ifd + 2 > b.length) return null;
  const n = u16(b, ifd, le);
  for (let i = 0; i < n; i++) {
    const e = ifd + 2 + i * 12;
    if (e + 12 > b.length) return null;
    if (u16(b, e, le) === 0x0112) {
      const v = u16(b, e + 8, le);
      return v >= 1 && v <= 8 ? v : null;
    }
  }
  return null;
}

/**
 * Pages (IFDs) in a TIFF, walking the next-IFD chain; stops at `cap` (a crafted file can chain
 * thousands) and returns null for a broken or looping chain.
 */
export function countTiffPages(b: Uint8Array, cap = 1000): number | null {
  if (b.length < 8 || !((b[0] === 0x49 && b[1] === 0x49) || (b[0] === 0x4d && b[1] === 0x4d))) return null;
  const le = b[0] === 0x49;
  if (u16(b, 2, le) !== 42) return null;
  const seen = new Set<number>();
  let offset = u32(b, 4, le);
  let pages = 0;
  while (offset !== 0) {
    if (seen.has(offset) || offset + 2 > b.length) return null;
    seen.add(offset);
    pages += 1;
    if (pages >= cap) return pages;
    const entries = u16(b, offset, le);
    const next = offset + 2 + entries * 12;
    if (next + 4 > b.length) return null;
    offset = u32(b, next, le);
  }
  return pages;
}

function readTiff(b: Uint8Array): ImageInfo | null {
  const le = b[0] === 0x49;
  if (u16(b, 2, le) !== 42) return null;
  const ifd = u32(b, 4, le);
  if (ifd + 2 > b.length) return null;
  const n = u16(b, ifd, le);
  let width = 0;
  let height = 0;
  let orientation = 1;
  for (let i = 0; i < n; i++) {
    const e = ifd + 2 + i * 12;
    if (e + 12 > b.length) break;
    const tag = u16(b, e, le);
    const type = u16(b, e + 2, le);
    const value = type === 3 ? u16(b, e + 8, le) : u32(b, e + 8, le);
    if (tag === 256) width = value;
    else if (tag === 257) height = value;
    else if (tag === 274 && value >= 1 && value <= 8) orientation = value;
  }
  return width > 0 && height > 0 ? { width, height, orientation } : null;
}

function readPnm(b: Uint8Array): ImageInfo | null {
  const head = String.fromCharCode(...b.subarray(0, Math.min(b.length, 64)));
  const m = /^P[56]\s+(?:#[^\n]*\n\s*)*(\d+)\s+(\d+)/.exec(head);
  return m ? { width: Number(m[1]), height: Number(m[2]), orientation: 1 } : null;
}
