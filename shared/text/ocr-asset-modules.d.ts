/**
 * Module types for the OCR assets imported by workers-ocr-assets.ts. The bundler (wrangler's module
 * rules in production, vitest-pool-workers in tests) turns these files into modules; TypeScript
 * only needs to know what they export.
 */
declare module "tesseract.js-core/tesseract-core-simd-lstm.js" {
  const factory: import("./ocr-engine").TesseractCoreFactory;
  export default factory;
}

declare module "tesseract.js-core/tesseract-core-simd-lstm.wasm" {
  const module: WebAssembly.Module;
  export default module;
}

declare module "@tesseract.js-data/eng/4.0.0_best_int/eng.traineddata.gz" {
  const data: ArrayBuffer;
  export default data;
}
