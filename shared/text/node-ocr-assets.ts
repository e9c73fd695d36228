/**
 * Node provider of OCR assets: reads the tesseract.js-core wasm and the eng traineddata from
 * node_modules. The only module of the text stage that may import Node built-ins.
 */
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { OcrAssets, TesseractCoreFactory } from "./ocr-engine";

export interface NodeOcrAssetOptions {
  /** "auto" picks the SIMD LSTM build when the runtime validates wasm SIMD (Node >= 16 does). */
  readonly build?: "auto" | "lstm" | "simd-lstm";
  /** 4.0.0_best_int (2.9 MB) reads these pages as well as 4.0.0 (10.9 MB) in our corpus runs. */
  readonly trainedData?: "4.0.0_best_int" | "4.0.0";
}

const require = createRequire(import.meta.url);

// (module (func (result v128) i32.const 0 i8x16.splat i8x16.popcnt)) - the usual SIMD probe.
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98,
  11,
]);

export async function loadNodeOcrAssets(options: NodeOcrAssetOptions = {}): Promise<OcrAssets> {
  const build =
    options.build === "lstm" || (options.build !== "simd-lstm" && !WebAssembly.validate(SIMD_PROBE))
      ? "tesseract-core-lstm"
      : "tesseract-core-simd-lstm";
  const coreDir = dirname(require.resolve("tesseract.js-core/package.json"));
  const dataDir = dirname(require.resolve("@tesseract.js-data/eng/package.json"));
  const factory = require(join(coreDir, `${build}.js`)) as TesseractCoreFactory;
  const [wasmBinary, trainedData] = await Promise.all([
    readFile(join(coreDir, `${build}.wasm`)),
    readFile(join(dataDir, options.trainedData ?? "4.0.0_best_int", "eng.traineddata.gz")),
  ]);
  return {
    factory,
    wasmBinary: new Uint8Array(wasmBinary),
    trainedData: new Uint8Array(trainedData),
    language: "eng",
  };
}
