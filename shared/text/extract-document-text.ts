/**
 * Entry point of the text stage: bytes in, per-page text out, whatever the format.
 * Works in Node and workerd; OCR is reached only through the injected engine provider.
 */

import { decodeTextFile } from "./decode-text-file";
import { detectDocumentFormat } from "./detect-document-format";
import { extractPdfPages } from "./extract-pdf-pages";
import type { OcrEngine } from "./ocr-engine";
import { countTiffPages } from "./read-image-info";
import {
  DEFAULT_TEXT_LIMITS,
  type ExtractedDocumentText,
  type TextLimits,
  type TextResult,
  textErr,
  textOk,
} from "./text-types";

export interface ExtractDocumentTextOptions {
  /** Returns the (shared, lazily started) OCR engine; omit to reject documents that need OCR. */
  readonly getOcr?: () => Promise<TextResult<OcrEngine>>;
  readonly limits?: Partial<TextLimits>;
}

export async function extractDocumentText(
  bytes: Uint8Array,
  options: ExtractDocumentTextOptions = {},
): Promise<TextResult<ExtractedDocumentText>> {
  const limits: TextLimits = { ...DEFAULT_TEXT_LIMITS, ...options.limits };
  if (bytes.length === 0) return textErr("empty_input", "The file is empty.");
  if (bytes.length > limits.maxBytes) return textErr("input_too_large", "The file exceeds the maximum size.");
  const getOcr =
    options.getOcr ??
    (async (): Promise<TextResult<OcrEngine>> => textErr("ocr_unavailable", "OCR is not configured."));
  const format = detectDocumentFormat(bytes);
  switch (format) {
    case "pdf": {
      const pages = await extractPdfPages(bytes, { limits, getOcr });
      return pages.ok ? textOk({ format, pages: pages.value, encoding: null }) : pages;
    }
    case "png":
    case "jpeg":
    case "tiff": {
      if (format === "tiff") {
        // Leptonica would read only the first page: refuse rather than silently lose the rest.
        const pages = countTiffPages(bytes);
        if (pages === null) return textErr("image_unreadable", "The TIFF file is damaged.");
        if (pages > 1) {
          return textErr(
            "unsupported_format",
            "Multi-page TIFF files are not supported: upload the pages as a PDF or one image per page.",
          );
        }
      }
      const ocr = await getOcr();
      if (!ocr.ok) return ocr;
      const result = await ocr.value.recognize(bytes, { maxImagePixels: limits.maxImagePixels });
      if (!result.ok) return result;
      return textOk({
        format,
        pages: [
          { pageNumber: 1, text: result.value.text, source: "ocr", ocrConfidence: result.value.confidence },
        ],
        encoding: null,
      });
    }
    case "text": {
      const decoded = decodeTextFile(bytes);
      if (!decoded.ok) return decoded;
      // Form feeds are page breaks in printed text exports; keep them as separate pages.
      const parts = decoded.value.text.split("\f");
      if (parts.length > limits.maxPages) {
        return textErr("too_many_pages", `The text has more than ${limits.maxPages} pages.`);
      }
      return textOk({
        format,
        pages: parts.map((text, i) => ({
          pageNumber: i + 1,
          text,
          source: "text_layer" as const,
          ocrConfidence: null,
        })),
        encoding: decoded.value.encoding,
      });
    }
    default:
      return textErr("unsupported_format", "The file format is not supported.");
  }
}

/**
 * Shares one OCR engine across documents (start-up costs ~0.1 s plus the wasm compile) and
 * starts it only when the first page actually needs OCR.
 */
export function lazyOcr(start: () => Promise<TextResult<OcrEngine>>): {
  get: () => Promise<TextResult<OcrEngine>>;
  dispose: () => void;
} {
  let pending: Promise<TextResult<OcrEngine>> | null = null;
  return {
    get: () => {
      pending ??= start();
      return pending;
    },
    dispose: () => {
      if (pending) void pending.then((r) => (r.ok ? r.value.dispose() : undefined));
      pending = null;
    },
  };
}
