/**
 * workerd provider of OCR assets. workerd forbids compiling WebAssembly at run time, so the engine
 * comes in as a module the bundler compiles at deploy time (wrangler's CompiledWasm rule for
 * *.wasm), and the traineddata as a Data module (an ArrayBuffer). Both are the very files the Node
 * provider reads from node_modules, so Node and workerd run the same build on the same input.
 *
 * Import it directly, never through index.ts: Node cannot load these module types, and the CLI and
 * unit tests import the text stage through index.ts.
 *
 * Needs the wrangler module rule `{ type = "Data", globs = ["**\/*.traineddata.gz"] }`; *.wasm is
 * CompiledWasm by wrangler's default rules.
 */
import trainedData from "@tesseract.js-data/eng/4.0.0_best_int/eng.traineddata.gz";
import factory from "tesseract.js-core/tesseract-core-simd-lstm.js";
import wasmModule from "tesseract.js-core/tesseract-core-simd-lstm.wasm";
import type { OcrAssets } from "./ocr-engine";

export function loadWorkersOcrAssets(): OcrAssets {
  return {
    factory,
    wasmModule,
    // Kept gzipped in the bundle (2.9 MB instead of the raw model); ocr-engine gunzips it once per
    // engine with DecompressionStream, which workerd has natively.
    trainedData: new Uint8Array(trainedData),
    language: "eng",
    // Under nodejs_compat Emscripten would otherwise take its Node path (require("fs"), __dirname).
    environmentShim: "hide-node",
  };
}
