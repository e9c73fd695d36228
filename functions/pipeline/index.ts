import type { TextResult } from "../../shared/text";
import { createOcrEngine, type OcrEngine } from "../../shared/text/ocr-engine";
import { loadWorkersOcrAssets } from "../../shared/text/workers-ocr-assets";
import { buildPipelineApp } from "./app";

/**
 * The Worker entry. The OCR assets are bundled module types (CompiledWasm, Data) that only the
 * Worker build can load, so they are imported here and not in app.ts (Node tests load app.ts).
 *
 * One engine per isolate, started by the first page that needs it. A failed start is not kept:
 * it is usually the isolate's memory at that moment, and the step's retry (possibly in this
 * same isolate) should get a fresh try rather than the cached failure.
 */
let starting: Promise<TextResult<OcrEngine>> | null = null;
function getOcr(): Promise<TextResult<OcrEngine>> {
  starting ??= createOcrEngine(loadWorkersOcrAssets()).then((result) => {
    if (!result.ok) starting = null;
    return result;
  });
  return starting;
}

export default buildPipelineApp({ getOcr });
