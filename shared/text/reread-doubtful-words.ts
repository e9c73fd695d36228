/**
 * Doubtful numbers re-read on their own (issue 11). Read as part of a whole page, a degraded
 * number loses its decimal point or fuses with its neighbour ("57H*" for "5.7 H*", "282" for
 * "28.2", "45010590" for "4.50 to 5.90"): the line model carries the page's context through
 * the damaged glyphs. Read again alone, from the word's own box, as a single line of text, the
 * same engine usually reads it right, and says so with a much higher confidence. Only words
 * that hold a digit and were read with doubt are re-read, so a page costs a few milliseconds a
 * word, and a re-reading replaces the word only when it is clearly surer and keeps every digit.
 *
 * The pixels come from Leptonica inside the wasm (pixReadMem, the decoder SetImageFile uses),
 * so nothing outside the engine decodes images; the crop is copied as 8-bit grey and handed to
 * SetImage.
 */
import type { OcrWord } from "./layout-ocr-words";

/** What the re-reading needs of the Emscripten module: its heap allocator and Leptonica's decoder. */
export interface PixelAccess {
  _malloc(size: number): number;
  _free(pointer: number): void;
  _pixReadMem(data: number, size: number): number;
  _pixDestroy(pixPointer: number): void;
}

/** What it needs of TessBaseAPI. */
export interface LineReader {
  SetImage(data: number, width: number, height: number, bytesPerPixel: number, bytesPerLine: number): void;
  SetSourceResolution(ppi: number): void;
  SetVariable(name: string, value: string): boolean;
  Recognize(monitor: null): number;
  GetUTF8Text(): string;
  MeanTextConf(): number;
}

/** Words read with at least this confidence are left alone. */
const DOUBTFUL_CONFIDENCE = 90;
/** A re-reading replaces the word only when it is this much surer ... */
const CONFIDENCE_GAIN = 10;
/** ... and at least this sure. */
const MIN_REREAD_CONFIDENCE = 80;
/** At most this many words a page are re-read: a page of doubtful numbers is a bad scan, not a table. */
const MAX_REREADS_PER_PAGE = 120;
/** Margin around the word box, as a share of its height: room for the glyphs' edges, no neighbour. */
const CROP_MARGIN = 0.25;
/** Tesseract 7: the image is a single line of text. */
const PSM_SINGLE_LINE = "7";
/** The page images are 150-300 dpi photographs and scans; 300 tells Tesseract not to rescale. */
const CROP_PPI = 300;

/** Leptonica's struct Pix on wasm32: eleven 32-bit fields, then the colormap and data pointers. */
const PIX_WIDTH = 0;
const PIX_HEIGHT = 4;
const PIX_DEPTH = 8;
const PIX_WORDS_PER_LINE = 16;
const PIX_COLORMAP = 44;
const PIX_DATA = 48;

interface DecodedPage {
  readonly width: number;
  readonly height: number;
  /** Grey value 0-255 at (x, y). */
  grey(x: number, y: number): number;
}

/** Digits of a reading, the "o" of "to" read as a zero ("3.0t05.0") not counted. */
const digits = (s: string) => (s.replace(/t0/g, "to").match(/\d/g) ?? []).length;

/**
 * A re-reading may hold fewer digits than the first only when the first was this unsure: a
 * fused "to" read as "10" ("45010590" for "4.50 to 5.90"). Otherwise a lost digit ("1L*" read
 * again as "L*") is worse than a doubtful one.
 */
const LOST_DIGIT_CONFIDENCE = 50;

function isDoubtfulNumber(word: OcrWord): boolean {
  return word.confidence < DOUBTFUL_CONFIDENCE && /\d/.test(word.text);
}

/**
 * The page's words with doubtful numbers replaced by their re-readings where those are clearly
 * better. Coordinates are those of the image as decoded (the caller re-reads only upright pages).
 */
export function rereadDoubtfulWords(
  words: readonly OcrWord[],
  image: Uint8Array,
  module: PixelAccess,
  memory: WebAssembly.Memory,
  reader: LineReader,
): OcrWord[] {
  const doubtful = words.filter(isDoubtfulNumber).slice(0, MAX_REREADS_PER_PAGE);
  if (doubtful.length === 0) return [...words];
  return withDecodedPage(image, module, memory, (page) => {
    if (!page) return [...words];
    const replaced = new Map<OcrWord, string>();
    reader.SetVariable("tessedit_pageseg_mode", PSM_SINGLE_LINE);
    for (const word of doubtful) {
      const reread = readCrop(word, page, module, memory, reader);
      if (reread && isBetterReading(word, reread)) replaced.set(word, reread.text);
    }
    return words.map((w) => {
      const text = replaced.get(w);
      return text === undefined ? w : { ...w, text };
    });
  });
}

/** Whether a re-reading should replace the word: clearly surer, and no digit lost without cause. */
export function isBetterReading(word: OcrWord, reread: { text: string; confidence: number }): boolean {
  return (
    reread.confidence >= MIN_REREAD_CONFIDENCE &&
    reread.confidence >= word.confidence + CONFIDENCE_GAIN &&
    digits(reread.text) > 0 &&
    (digits(reread.text) >= digits(word.text) || word.confidence < LOST_DIGIT_CONFIDENCE)
  );
}

function readCrop(
  word: OcrWord,
  page: DecodedPage,
  module: PixelAccess,
  memory: WebAssembly.Memory,
  reader: LineReader,
): { text: string; confidence: number } | null {
  const margin = Math.round(word.height * CROP_MARGIN);
  const x0 = Math.max(0, word.left - margin);
  const y0 = Math.max(0, word.top - margin);
  const x1 = Math.min(page.width, word.left + word.width + margin);
  const y1 = Math.min(page.height, word.top + word.height + margin);
  const width = x1 - x0;
  const height = y1 - y0;
  if (width < 4 || height < 4) return null;
  const pointer = module._malloc(width * height);
  if (!pointer) return null;
  try {
    const crop = new Uint8Array(memory.buffer, pointer, width * height);
    for (let y = 0; y < height; y++)
      for (let x = 0; x < width; x++) crop[y * width + x] = page.grey(x0 + x, y0 + y);
    reader.SetImage(pointer, width, height, 1, width);
    reader.SetSourceResolution(CROP_PPI);
    if (reader.Recognize(null) !== 0) return null;
    const text = (reader.GetUTF8Text() ?? "").replace(/\s+/g, " ").trim();
    return text === "" ? null : { text, confidence: reader.MeanTextConf() };
  } finally {
    module._free(pointer);
  }
}

/**
 * Decodes the image with Leptonica and hands `use` a grey-level view of it (8-bit grey or 32-bit
 * colour; other depths and palettes give null, and the words stay as read). The Pix is freed
 * when `use` returns.
 */
function withDecodedPage<T>(
  image: Uint8Array,
  module: PixelAccess,
  memory: WebAssembly.Memory,
  use: (page: DecodedPage | null) => T,
): T {
  const input = module._malloc(image.length);
  if (!input) return use(null);
  let pix = 0;
  try {
    new Uint8Array(memory.buffer, input, image.length).set(image);
    pix = module._pixReadMem(input, image.length);
  } finally {
    module._free(input);
  }
  if (!pix) return use(null);
  try {
    // The heap may grow while decoding: views are taken after it.
    const view = new DataView(memory.buffer);
    const width = view.getUint32(pix + PIX_WIDTH, true);
    const height = view.getUint32(pix + PIX_HEIGHT, true);
    const depth = view.getUint32(pix + PIX_DEPTH, true);
    const wordsPerLine = view.getUint32(pix + PIX_WORDS_PER_LINE, true);
    const colormap = view.getUint32(pix + PIX_COLORMAP, true);
    const data = view.getUint32(pix + PIX_DATA, true);
    if ((depth !== 8 && depth !== 32) || colormap !== 0 || data === 0) return use(null);
    // Allocating a crop can grow the heap, which detaches the old buffer: take a new view then.
    let bytes = new Uint8Array(memory.buffer);
    const heap = () => {
      if (bytes.byteLength === 0) bytes = new Uint8Array(memory.buffer);
      return bytes;
    };
    const stride = wordsPerLine * 4;
    // Leptonica keeps pixels in 32-bit words, most significant byte first: on a little-endian
    // heap an 8-bit pixel x sits at byte x^3, and a colour pixel's bytes are A, B, G, R.
    const grey =
      depth === 8
        ? (x: number, y: number) => heap()[data + y * stride + (x ^ 3)]!
        : (x: number, y: number) => {
            const b = heap();
            const o = data + y * stride + x * 4;
            return (77 * b[o + 3]! + 150 * b[o + 2]! + 29 * b[o + 1]!) >> 8;
          };
    return use({ width, height, grey });
  } finally {
    const holder = module._malloc(4);
    if (holder) {
      new DataView(memory.buffer).setUint32(holder, pix, true);
      module._pixDestroy(holder);
      module._free(holder);
    }
  }
}
