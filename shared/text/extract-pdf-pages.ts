/**
 * PDF -> per-page text. Text-layer pages are laid out from pdf.js text items (via unpdf) by
 * layout-page-text.ts (columns read in order, table gaps kept as runs of spaces); pages without
 * usable text have their embedded scan OCR'd.
 */
import { getDocumentProxy, getResolvedPDFJS } from "unpdf";
import { layoutLines, type PositionedItem } from "./layout-page-text";
import type { OcrEngine } from "./ocr-engine";
import { PdfJpegReader } from "./read-pdf-jpeg-stream";
import { type ExtractedPage, type TextLimits, type TextResult, textErr, textOk } from "./text-types";

type PdfDocument = Awaited<ReturnType<typeof getDocumentProxy>>;
type PdfPage = Awaited<ReturnType<PdfDocument["getPage"]>>;

/** Below this many letters/digits a page counts as having no text layer (scans, stamps only). */
const MIN_TEXT_LAYER_CHARS = 40;
/** Images smaller than this are logos or signatures, not page scans. */
const MIN_SCAN_PIXELS = 250_000;

export interface PdfTextOptions {
  readonly limits: TextLimits;
  /** Lazily created so that text-only PDFs never load the OCR engine. */
  readonly getOcr: () => Promise<TextResult<OcrEngine>>;
}

export async function extractPdfPages(
  bytes: Uint8Array,
  options: PdfTextOptions,
): Promise<TextResult<ExtractedPage[]>> {
  let pdf: PdfDocument;
  try {
    // pdf.js takes ownership of (and may detach) the buffer it is given, so hand it a copy.
    pdf = await getDocumentProxy(bytes.slice(), {
      verbosity: 0,
      isEvalSupported: false,
      disableFontFace: true,
      useSystemFonts: false,
      stopAtErrors: false,
    });
  } catch (error) {
    const name = (error as { name?: string } | null)?.name;
    if (name === "PasswordException") {
      return textErr("pdf_encrypted", "The PDF is password-protected.");
    }
    return textErr("pdf_corrupt", "The PDF could not be parsed.");
  }
  try {
    if (pdf.numPages <= 0) return textErr("pdf_no_pages", "The PDF has no pages.");
    if (pdf.numPages > options.limits.maxPages) {
      return textErr("too_many_pages", `The PDF has more than ${options.limits.maxPages} pages.`);
    }
    const jpegs = new PdfJpegReader(bytes);
    const pages: ExtractedPage[] = [];
    for (let n = 1; n <= pdf.numPages; n++) {
      let page: PdfPage;
      try {
        page = await pdf.getPage(n);
      } catch {
        return textErr("pdf_corrupt", "A PDF page could not be read.");
      }
      const text = await readTextLayer(page);
      if (countAlnum(text) >= MIN_TEXT_LAYER_CHARS) {
        pages.push({ pageNumber: n, text, source: "text_layer", ocrConfidence: null });
        page.cleanup();
        continue;
      }
      const scan = await readLargestImage(page, jpegs, options.limits.maxImagePixels);
      page.cleanup();
      if (scan === "too_large")
        return textErr("image_too_large", "A page image exceeds the maximum page area.");
      if (scan === null) {
        pages.push({ pageNumber: n, text, source: "text_layer", ocrConfidence: null });
        continue;
      }
      const ocr = await options.getOcr();
      if (!ocr.ok) return ocr;
      const result = await ocr.value.recognize(scan, { maxImagePixels: options.limits.maxImagePixels });
      if (!result.ok) return result;
      pages.push({
        pageNumber: n,
        text: result.value.text,
        source: "ocr",
        ocrConfidence: result.value.confidence,
      });
    }
    return textOk(pages);
  } finally {
    await pdf.destroy().catch(() => undefined);
  }
}

function countAlnum(text: string): number {
  let n = 0;
  for (const ch of text) if (/[\p{L}\p{N}]/u.test(ch)) n++;
  return n;
}

async function readTextLayer(page: PdfPage): Promise<string> {
  let content: Awaited<ReturnType<PdfPage["getTextContent"]>>;
  try {
    content = await page.getTextContent();
  } catch {
    return "";
  }
  // Lines are built along the dominant text direction (in quarter turns), so text drawn rotated on
  // landscape or /Rotate pages is read as lines whatever the page rotation.
  type TextRun = { str: string; transform: number[]; width: number; height: number };
  const texts = content.items.filter((raw) => "str" in raw) as unknown as TextRun[];
  const turns = new Map<number, number>();
  for (const raw of texts) {
    const t = raw.transform;
    const q = ((Math.round(Math.atan2(t[1] ?? 0, t[0] ?? 1) / (Math.PI / 2)) % 4) + 4) % 4;
    turns.set(q, (turns.get(q) ?? 0) + raw.str.length);
  }
  const quarter = [...turns.entries()].sort((x, y) => y[1] - x[1])[0]?.[0] ?? 0;
  const cos = [1, 0, -1, 0][quarter]!;
  const sin = [0, 1, 0, -1][quarter]!;
  const items: PositionedItem[] = [];
  for (const raw of texts) {
    const t = raw.transform;
    const px = t[4] ?? 0;
    const py = t[5] ?? 0;
    items.push({
      str: raw.str,
      x: px * cos + py * sin,
      y: -px * sin + py * cos,
      width: raw.width,
      height: raw.height || Math.hypot(t[2] ?? 0, t[3] ?? 0),
    });
  }
  return layoutLines(items);
}

type DecodedImage = {
  width: number;
  height: number;
  kind: number;
  data: Uint8Array | Uint8ClampedArray;
  ref?: string;
};

/**
 * The largest image painted on the page, as encoded bytes for OCR: the original JPEG stream when
 * it can be located, otherwise pdf.js' decoded pixels re-wrapped as a greyscale PGM (Leptonica reads it).
 */
async function readLargestImage(
  page: PdfPage,
  jpegs: PdfJpegReader,
  maxPixels: number,
): Promise<Uint8Array | "too_large" | null> {
  let ids: string[];
  try {
    const { OPS } = await getResolvedPDFJS();
    const ops = await page.getOperatorList();
    ids = [];
    for (let i = 0; i < ops.fnArray.length; i++) {
      if (ops.fnArray[i] === OPS.paintImageXObject) {
        const id = (ops.argsArray[i] as unknown[])[0];
        if (typeof id === "string") ids.push(id);
      }
    }
  } catch {
    return null;
  }
  let best: DecodedImage | null = null;
  for (const id of ids) {
    const img = await getObject(page, id);
    if (!img || typeof img.width !== "number" || typeof img.height !== "number") continue;
    if (!best || img.width * img.height > best.width * best.height) best = img;
  }
  if (!best || best.width * best.height < MIN_SCAN_PIXELS) return null;
  if (best.width * best.height > maxPixels) return "too_large";
  if (best.ref) {
    const jpeg = jpegs.readJpeg(best.ref);
    if (jpeg) return jpeg;
  }
  return best.data ? toPgm(best) : null;
}

function getObject(page: PdfPage, id: string): Promise<DecodedImage | null> {
  const store = id.startsWith("g_") ? page.commonObjs : page.objs;
  return new Promise((resolve) => {
    // pdf.js resolves image objects while building the operator list; guard against a hang anyway.
    const timer = setTimeout(() => resolve(null), 10_000);
    try {
      store.get(id, (obj: DecodedImage | null) => {
        clearTimeout(timer);
        resolve(obj ?? null);
      });
    } catch {
      clearTimeout(timer);
      resolve(null);
    }
  });
}

/** pdf.js ImageKind: 1 = 1 bit/pixel greyscale, 2 = RGB 24, 3 = RGBA 32. */
function toPgm(img: DecodedImage): Uint8Array | null {
  const { width, height, kind, data } = img;
  const header = new TextEncoder().encode(`P5\n${width} ${height}\n255\n`);
  const out = new Uint8Array(header.length + width * height);
  out.set(header, 0);
  const px = out.subarray(header.length);
  if (kind === 2 || kind === 3) {
    const step = kind === 2 ? 3 : 4;
    if (data.length < width * height * step) return null;
    for (let i = 0, j = 0; i < px.length; i++, j += step) {
      px[i] = (data[j]! * 299 + data[j + 1]! * 587 + data[j + 2]! * 114) / 1000;
    }
  } else if (kind === 1) {
    const rowBytes = (width + 7) >> 3;
    if (data.length < rowBytes * height) return null;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const bit = (data[y * rowBytes + (x >> 3)]! >> (7 - (x & 7))) & 1;
        px[y * width + x] = bit ? 255 : 0;
      }
    }
  } else {
    return null;
  }
  return out;
}
