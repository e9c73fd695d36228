/**
 * The second half of the upload gate's type check (ASVS 5.2.2, 5.2.3): the magic bytes said
 * what a file starts as; this says it is only that. Fed the same chunks as the hash, it keeps
 * the head and a short tail, and refuses:
 *  - polyglots that append a second file after the first one ends (a ZIP or HTML after a PDF's
 *    last %%EOF or a PNG's IEND chunk): the classic way to get one type past a check and
 *    another into a tool that reads from the end;
 *  - image bombs: a PNG or JPEG whose header declares more pixels than any page scan has
 *    (decoding it would take gigabytes), refused before it reaches the pipeline.
 * JPEG and TIFF tails are not judged: cameras legitimately append data after the first
 * image's end marker (MPF, maker notes).
 */
import type { DocumentMediaType } from "./detect-media-type";

/**
 * Largest image accepted at upload: 60 MP, more than a Letter/A4 page at 800 dpi (6,800 x
 * 8,800). The pipeline has its own, smaller per-page limit for what it can OCR in a Worker.
 */
export const MAX_UPLOAD_IMAGE_PIXELS = 60_000_000;
/** The PDF trailer's %%EOF must sit in the last 1 KiB (ISO 32000-1 7.5.5; readers look no further). */
const PDF_TAIL_BYTES = 1024;
const PNG_IEND = [0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82];

export type FileStructureProblem = "trailing_data" | "image_too_large";

export interface FileStructureChecker {
  /** A problem found so far (image bombs are known from the header). */
  push(chunk: Uint8Array): FileStructureProblem | null;
  finish(): FileStructureProblem | null;
}

export function createFileStructureChecker(mediaType: DocumentMediaType): FileStructureChecker {
  let head = new Uint8Array(0);
  let tail = new Uint8Array(0);
  let headDecided = false;
  const HEAD_BYTES = 65_536;
  const TAIL_BYTES = PDF_TAIL_BYTES;

  const keepTail = (chunk: Uint8Array) => {
    const joined = new Uint8Array(Math.min(TAIL_BYTES, tail.length + chunk.length));
    const fromChunk = Math.min(chunk.length, joined.length);
    const fromTail = joined.length - fromChunk;
    joined.set(tail.subarray(tail.length - fromTail), 0);
    joined.set(chunk.subarray(chunk.length - fromChunk), fromTail);
    tail = joined;
  };

  return {
    push(chunk) {
      keepTail(chunk);
      if (!headDecided) {
        const joined = new Uint8Array(Math.min(HEAD_BYTES, head.length + chunk.length));
        joined.set(head, 0);
        joined.set(chunk.subarray(0, joined.length - head.length), head.length);
        head = joined;
        const pixels = declaredPixels(mediaType, head);
        if (pixels !== undefined || head.length >= HEAD_BYTES) headDecided = true;
        if (pixels !== undefined && pixels !== null && pixels > MAX_UPLOAD_IMAGE_PIXELS)
          return "image_too_large";
      }
      return null;
    },
    finish() {
      if (mediaType === "application/pdf" && !endsWithPdfTrailer(tail)) return "trailing_data";
      if (mediaType === "image/png" && !endsWith(tail, PNG_IEND)) return "trailing_data";
      return null;
    },
  };
}

/** Pixels the image header declares; undefined while the header is not seen yet; null when not an image. */
export function declaredPixels(mediaType: DocumentMediaType, head: Uint8Array): number | null | undefined {
  if (mediaType === "image/png") {
    // Signature (8) + IHDR length (4) + "IHDR" (4) + width (4) + height (4).
    if (head.length < 24) return undefined;
    const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
    return view.getUint32(16) * view.getUint32(20);
  }
  if (mediaType === "image/jpeg") return jpegPixels(head);
  return null;
}

/** Width x height from the first SOFn marker; undefined when it lies beyond what was seen. */
function jpegPixels(bytes: Uint8Array): number | undefined {
  let i = 2;
  while (i + 4 <= bytes.length) {
    if (bytes[i] !== 0xff) return undefined;
    const marker = bytes[i + 1]!;
    if (marker === 0xff) {
      i += 1;
      continue;
    }
    const length = (bytes[i + 2]! << 8) | bytes[i + 3]!;
    const isSof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isSof) {
      if (i + 9 > bytes.length) return undefined;
      const height = (bytes[i + 5]! << 8) | bytes[i + 6]!;
      const width = (bytes[i + 7]! << 8) | bytes[i + 8]!;
      return width * height;
    }
    if (marker === 0xda || marker === 0xd9) return undefined;
    i += 2 + length;
  }
  return undefined;
}

function endsWith(bytes: Uint8Array, suffix: readonly number[]): boolean {
  if (bytes.length < suffix.length) return false;
  const offset = bytes.length - suffix.length;
  return suffix.every((b, i) => bytes[offset + i] === b);
}

/** The last "%%EOF" is followed by nothing but whitespace or NUL padding. */
function endsWithPdfTrailer(tail: Uint8Array): boolean {
  const text = new TextDecoder("latin1").decode(tail);
  const at = text.lastIndexOf("%%EOF");
  return at !== -1 && /^[\s\0]*$/.test(text.slice(at + 5));
}
