import { z } from "zod";

/**
 * One page of extracted text. Provenance offsets of every clinical fact point into `text`,
 * so this string must never be re-normalised after facts have been extracted from it.
 */
export const ExtractedPageSchema = z.object({
  pageNumber: z.number().int().min(1),
  text: z.string(),
  source: z.enum(["text_layer", "ocr"]),
  /** Tesseract mean word confidence 0-100 for OCR pages; null for text-layer pages. */
  ocrConfidence: z.number().min(0).max(100).nullable(),
});
export type ExtractedPage = z.infer<typeof ExtractedPageSchema>;

export const DocumentFormatSchema = z.enum(["pdf", "png", "jpeg", "tiff", "text"]);
export type DocumentFormat = z.infer<typeof DocumentFormatSchema>;

export const ExtractedDocumentTextSchema = z.object({
  format: DocumentFormatSchema,
  pages: z.array(ExtractedPageSchema),
  /** Encoding detected for text files (utf-8, utf-16le, utf-16be, windows-1252); null otherwise. */
  encoding: z.string().nullable(),
});
export type ExtractedDocumentText = z.infer<typeof ExtractedDocumentTextSchema>;

/**
 * Failure codes of the text stage. Messages are fixed strings chosen here, never derived
 * from document bytes, so they are safe to log and to return to clients.
 */
export type TextErrorCode =
  | "empty_input"
  | "input_too_large"
  | "unsupported_format"
  | "pdf_encrypted"
  | "pdf_corrupt"
  | "pdf_no_pages"
  | "too_many_pages"
  | "image_too_large"
  | "image_unreadable"
  | "ocr_unavailable"
  | "ocr_failed"
  | "text_undecodable";

export interface TextError {
  readonly code: TextErrorCode;
  readonly message: string;
}

export type TextResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: TextError };

export const textOk = <T>(value: T): TextResult<T> => ({ ok: true, value });
export const textErr = (code: TextErrorCode, message: string): TextResult<never> => ({
  ok: false,
  error: { code, message },
});

/** Limits that keep a hostile or broken upload from exhausting CPU or memory. */
export interface TextLimits {
  readonly maxBytes: number;
  readonly maxPages: number;
  /** Pixels (width x height) of one image handed to OCR. */
  readonly maxImagePixels: number;
}

export const DEFAULT_TEXT_LIMITS: TextLimits = {
  maxBytes: 50 * 1024 * 1024,
  maxPages: 200,
  // 600 dpi US Letter is 5100 x 6600 = 33.7 MP; anything much larger is not a document scan.
  maxImagePixels: 40_000_000,
};

/**
 * Limits for the pipeline Worker, whose isolate has 128 MB in all. Tesseract's wasm memory grows
 * with the largest page and never shrinks: measured 20 MiB after start, 24 MiB after a 200 dpi
 * Letter page (3.7 MP), 35 MiB at 300 dpi (8.4 MP), 48 MiB at 400 dpi (15 MP), 83 MiB at 600 dpi
 * (33.7 MP); pdf.js holds the decoded page pixels in the JS heap besides. 9 MP admits 300 dpi
 * Letter and A4 (8.7 MP) with room for the document bytes and pdf.js.
 */
export const WORKERS_TEXT_LIMITS: TextLimits = {
  ...DEFAULT_TEXT_LIMITS,
  maxImagePixels: 9_000_000,
};
