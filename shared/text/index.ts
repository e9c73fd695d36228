export { decodeTextFile } from "./decode-text-file";
export { detectDocumentFormat } from "./detect-document-format";
export { type ExtractDocumentTextOptions, extractDocumentText, lazyOcr } from "./extract-document-text";
export {
  createOcrEngine,
  type OcrAssets,
  type OcrEngine,
  type OcrPageResult,
  type TesseractCoreFactory,
} from "./ocr-engine";
export * from "./text-types";
