/**
 * OCR on tesseract.js-core (the Emscripten build of Tesseract 5), driven directly through its
 * TessBaseAPI. tesseract.js itself is not used because it spawns Web Workers, which workerd lacks.
 *
 * This module must stay free of Node-only imports: the wasm bytes/module, the Emscripten factory and
 * the traineddata are injected through OcrAssets (node-ocr-assets.ts reads them from node_modules,
 * workers-ocr-assets.ts imports them as bundled modules).
 */
import { layoutOcrWords, type OcrWord, parseTesseractTsv } from "./layout-ocr-words";
import { readImageInfo } from "./read-image-info";
import { type LineReader, type PixelAccess, rereadDoubtfulWords } from "./reread-doubtful-words";
import { DEFAULT_TEXT_LIMITS, type TextResult, textErr, textOk } from "./text-types";

/**
 * The subset of the Emscripten module and TessBaseAPI that we call (SetVariable, Recognize,
 * GetUTF8Text, MeanTextConf and SetImage come with LineReader).
 */
export interface TessBaseApi extends LineReader {
  Init(dataPath: string | null, language: string, oem: number): number;
  SetImageFile(exifOrientation: number, angle: number): number;
  SetRectangle(left: number, top: number, width: number, height: number): void;
  /** Word boxes with confidences, one TSV row per page/block/paragraph/line/word. */
  GetTSVText(pageNumber: number): string;
  Clear(): void;
  End(): void;
}

export interface TesseractCoreModule extends Partial<PixelAccess> {
  FS: {
    writeFile(path: string, data: Uint8Array): void;
    unlink(path: string): void;
  };
  TessBaseAPI: new () => TessBaseApi;
}

export type TesseractCoreFactory = (moduleArg: Record<string, unknown>) => Promise<TesseractCoreModule>;

export interface OcrAssets {
  /** Default export of tesseract.js-core/tesseract-core-*.js (the Emscripten factory). */
  readonly factory: TesseractCoreFactory;
  /** Raw .wasm bytes (Node), compiled when the engine starts ... */
  readonly wasmBinary?: Uint8Array;
  /** ... or a precompiled module (workerd: runtime compilation is forbidden, imports of .wasm are not). */
  readonly wasmModule?: WebAssembly.Module;
  /** eng.traineddata, raw or gzip-compressed (gunzipped here with DecompressionStream). */
  readonly trainedData: Uint8Array;
  readonly language?: string;
  /**
   * Under workerd's nodejs_compat Emscripten sees `process.versions.node` and takes its Node path
   * (require("fs"), __dirname). "hide-node" makes it take the generic path while the factory runs,
   * by setting process.type = "renderer", the Electron escape hatch Emscripten already honours.
   */
  readonly environmentShim?: "none" | "hide-node";
}

export interface OcrOptions {
  /** Tesseract page segmentation mode; 6 (single uniform block) reads report pages best here. */
  readonly pageSegMode?: number;
  readonly maxImagePixels?: number;
}

export interface OcrPageResult {
  readonly text: string;
  /** Mean word confidence 0-100 as reported by Tesseract (0 when nothing was recognised). */
  readonly confidence: number;
  readonly width: number;
  readonly height: number;
}

export interface OcrEngine {
  /** Encoded image bytes: PNG, JPEG, TIFF, BMP or PNM (decoded by Leptonica inside the wasm). */
  recognize(image: Uint8Array, options?: OcrOptions): Promise<TextResult<OcrPageResult>>;
  /**
   * Bytes of WebAssembly memory the engine holds. It grows with the largest page seen and never
   * shrinks, and in a Worker it counts against the isolate's 128 MB, so callers can watch it and
   * replace the engine after an unusually large page. Optional so that wrappers (timing,
   * instrumentation) need not forward it; createOcrEngine always provides it.
   */
  memoryBytes?(): number;
  dispose(): void;
}

const INPUT_PATH = "/input";
/** Mean word confidence below which the page orientation is questioned. */
const LOW_CONFIDENCE = 55;
/**
 * Tesseract 5's thresholding_method: 0 is one global (Otsu) threshold, which reads clean pages
 * best; 2 is Sauvola's adaptive threshold, which reads pages with uneven lighting and sensor
 * noise that a global threshold turns into specks.
 */
const THRESHOLD_GLOBAL = "0";
const THRESHOLD_ADAPTIVE = "2";
/** EXIF orientations: 8 = rotate 90° counter-clockwise, 6 = 90° clockwise, 3 = 180°. */
const ROTATIONS = [8, 6, 3] as const;

export async function createOcrEngine(assets: OcrAssets): Promise<TextResult<OcrEngine>> {
  if (!assets.wasmBinary && !assets.wasmModule) {
    return textErr("ocr_unavailable", "OCR assets are missing the wasm module.");
  }
  let trainedData: Uint8Array;
  let module: TesseractCoreModule;
  let memory: WebAssembly.Memory | null;
  try {
    trainedData = await maybeGunzip(assets.trainedData);
    ({ module, memory } = await instantiateCore(assets));
  } catch {
    return textErr("ocr_unavailable", "The OCR engine could not be started.");
  }
  const language = assets.language ?? "eng";
  let api: TessBaseApi;
  try {
    module.FS.writeFile(`/${language}.traineddata`, trainedData);
    api = new module.TessBaseAPI();
    // OEM 1 = LSTM only: the lstm builds ship no legacy engine and *_best_int has no legacy model.
    if (api.Init("/", language, 1) !== 0)
      return textErr("ocr_unavailable", "The OCR language data is invalid.");
    module.FS.unlink(`/${language}.traineddata`);
    // Keep column gaps as runs of spaces, like the text-layer path does, so table parsing sees columns.
    api.SetVariable("preserve_interword_spaces", "1");
  } catch {
    return textErr("ocr_unavailable", "The OCR engine could not be initialised.");
  }

  /** SetImageFile (a tesseract.js-core addition) reads /input with pixRead, so Leptonica decodes. */
  interface Reading {
    readonly orientation: number;
    readonly words: OcrWord[];
    /** Tesseract's own text, kept for a page where the layout leaves no word. */
    readonly plain: string;
    readonly confidence: number;
  }
  const recognizeOriented = (orientation: number): Reading | "unreadable" | "failed" => {
    api.Clear();
    if (api.SetImageFile(orientation, 0) !== 0) return "unreadable";
    if (api.Recognize(null) !== 0) return "failed";
    const words = parseTesseractTsv(api.GetTSVText(0) ?? "");
    const plain = words.length > 0 ? "" : (api.GetUTF8Text() ?? "");
    const empty = words.length === 0 && plain.trim() === "";
    return {
      orientation,
      words,
      plain,
      confidence: empty ? 0 : Math.max(0, Math.min(100, api.MeanTextConf())),
    };
  };
  // Reading order and table columns from the word boxes (as for text-layer PDFs); Tesseract's
  // own text only where no word was left.
  const textOf = (reading: Reading) => layoutOcrWords(reading.words) ?? reading.plain;
  const pixels: PixelAccess | null =
    module._malloc && module._free && module._pixReadMem && module._pixDestroy
      ? (module as PixelAccess)
      : null;

  const probeOrientation = (orientation: number, width: number, height: number): number => {
    api.Clear();
    if (api.SetImageFile(orientation, 0) !== 0) return 0;
    // EXIF 5-8 swap the axes.
    const [w, h] = orientation >= 5 ? [height, width] : [width, height];
    api.SetRectangle(Math.round(w * 0.1), Math.round(h * 0.35), Math.round(w * 0.8), Math.round(h * 0.3));
    if (api.Recognize(null) !== 0) return 0;
    return (api.GetUTF8Text() ?? "").trim() === "" ? 0 : api.MeanTextConf();
  };

  let queue: Promise<unknown> = Promise.resolve();
  let disposed = false;

  const recognizeNow = (image: Uint8Array, options: OcrOptions | undefined): TextResult<OcrPageResult> => {
    if (disposed) return textErr("ocr_unavailable", "The OCR engine was disposed.");
    const info = readImageInfo(image);
    if (!info || info.width <= 0 || info.height <= 0) {
      return textErr("image_unreadable", "The image format or header is not supported.");
    }
    const maxPixels = options?.maxImagePixels ?? DEFAULT_TEXT_LIMITS.maxImagePixels;
    if (info.width * info.height > maxPixels) {
      return textErr("image_too_large", "The image exceeds the maximum page area.");
    }
    try {
      api.SetVariable("tessedit_pageseg_mode", String(options?.pageSegMode ?? 6));
      api.SetVariable("thresholding_method", THRESHOLD_GLOBAL);
      module.FS.writeFile(INPUT_PATH, image);
      const first = recognizeOriented(info.orientation);
      if (first === "unreadable") return textErr("image_unreadable", "The image could not be decoded.");
      if (first === "failed") return textErr("ocr_failed", "Text recognition failed.");
      let best: Reading = first;
      const hasText = (r: Reading) => r.words.length > 0 || r.plain.trim() !== "";
      // Low confidence on a page with text is also what a noisy photograph or a scan with uneven
      // lighting looks like through one global threshold (its specks read as text): read it again
      // with an adaptive threshold and keep the more confident reading.
      if (hasText(first) && first.confidence < LOW_CONFIDENCE) {
        api.SetVariable("thresholding_method", THRESHOLD_ADAPTIVE);
        const adaptive = recognizeOriented(info.orientation);
        if (typeof adaptive !== "string" && adaptive.confidence > best.confidence) best = adaptive;
        else api.SetVariable("thresholding_method", THRESHOLD_GLOBAL);
      }
      // Low confidence on a page with text is what a sideways or upside-down scan looks like:
      // probe the other orientations on a central band (cheap) and re-read the page if one wins.
      if (hasText(best) && best.confidence < LOW_CONFIDENCE) {
        const probes = ROTATIONS.map((o) => ({ o, conf: probeOrientation(o, info.width, info.height) }));
        const winner = probes.reduce((a, b) => (b.conf > a.conf ? b : a));
        if (winner.conf > best.confidence + 15) {
          const rotated = recognizeOriented(winner.o);
          if (typeof rotated !== "string" && rotated.confidence > best.confidence) best = rotated;
        }
      }
      // Doubtful numbers re-read alone from their boxes, on pages read upright (the boxes of a
      // rotated reading are not in the decoded image's frame).
      if (pixels && memory && best.orientation === 1 && best.words.length > 0)
        best = { ...best, words: rereadDoubtfulWords(best.words, image, pixels, memory, api) };
      return textOk({
        text: tidyOcrText(textOf(best)),
        confidence: best.confidence,
        width: info.width,
        height: info.height,
      });
    } catch {
      return textErr("ocr_failed", "Text recognition failed.");
    } finally {
      try {
        api.Clear();
        module.FS.unlink(INPUT_PATH);
      } catch {
        // The file may not exist when writing failed; nothing else to release.
      }
    }
  };

  return textOk({
    // One TessBaseAPI is not re-entrant: calls are serialised through a promise chain.
    recognize(image, options) {
      const run = queue.then(() => recognizeNow(image, options));
      queue = run.catch(() => undefined);
      return run;
    },
    memoryBytes: () => (disposed ? 0 : (memory?.buffer.byteLength ?? 0)),
    dispose() {
      if (disposed) return;
      disposed = true;
      try {
        api.End();
      } catch {
        // Already torn down.
      }
    },
  });
}

/**
 * Exported for the re-reading tests, which need the module's heap and decoder. Node and workerd
 * instantiate the same way: Emscripten is handed a compiled module through
 * `instantiateWasm`, so it never fetches or compiles anything itself. Only where the module comes
 * from differs: compiled here from bytes (Node), or compiled by the bundler at deploy time (workerd,
 * where run-time compilation is forbidden).
 */
export async function instantiateCore(
  assets: OcrAssets,
): Promise<{ module: TesseractCoreModule; memory: WebAssembly.Memory | null }> {
  const wasmModule =
    assets.wasmModule ?? (await WebAssembly.compile(assets.wasmBinary as Uint8Array<ArrayBuffer>));
  let memory: WebAssembly.Memory | null = null;
  let failed: (error: unknown) => void = () => {};
  // Emscripten offers no way to report a failed custom instantiation; without this race the
  // factory's promise would never settle.
  const instantiationFailed = new Promise<never>((_, reject) => {
    failed = reject;
  });
  const moduleArg: Record<string, unknown> = {
    // Tesseract writes diagnostics ("Estimating resolution...") to stderr; keep logs clean.
    print: () => {},
    printErr: () => {},
    instantiateWasm: (
      imports: WebAssembly.Imports,
      receive: (instance: WebAssembly.Instance, module: WebAssembly.Module) => void,
    ) => {
      WebAssembly.instantiate(wasmModule, imports)
        .then((instance) => {
          memory =
            (Object.values(instance.exports).find((e) => e instanceof WebAssembly.Memory) as
              | WebAssembly.Memory
              | undefined) ?? null;
          receive(instance, wasmModule);
        })
        .catch(failed);
      // An empty object tells Emscripten that instantiation continues asynchronously.
      return {};
    },
  };
  const module = await Promise.race([startFactory(assets, moduleArg), instantiationFailed]);
  return { module, memory };
}

function startFactory(assets: OcrAssets, moduleArg: Record<string, unknown>): Promise<TesseractCoreModule> {
  if (assets.environmentShim !== "hide-node") return assets.factory(moduleArg);
  const proc = (globalThis as { process?: { type?: string } }).process;
  const had = proc !== undefined && Object.hasOwn(proc, "type");
  const previous = proc?.type;
  if (proc) proc.type = "renderer";
  // In a Worker Emscripten then takes its web-worker path and reads self.location.href unless
  // __filename exists; workerd has no location (wrangler's bundle, unlike vitest's, defines no
  // __filename), so give it a name for the one synchronous sniff and take it away again.
  const scope = globalThis as { __filename?: string };
  const hadFilename = Object.hasOwn(scope, "__filename");
  if (!hadFilename) scope.__filename = "/tesseract-core.js";
  try {
    // The environment is sniffed synchronously on entering the factory, so process.type is
    // restored before anything else can run and observe it.
    return assets.factory(moduleArg);
  } finally {
    if (proc) {
      if (had) proc.type = previous;
      else delete proc.type;
    }
    if (!hadFilename) delete scope.__filename;
  }
}

async function maybeGunzip(data: Uint8Array): Promise<Uint8Array> {
  if (data[0] !== 0x1f || data[1] !== 0x8b) return data;
  const stream = new Blob([data as Uint8Array<ArrayBuffer>])
    .stream()
    .pipeThrough(new DecompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** Trailing blanks and runs of empty lines carry no information; everything else is kept verbatim. */
function tidyOcrText(text: string): string {
  return text
    .replace(/[ \t]+$/gm, "")
    .replace(/\n{3,}/g, "\n\n")
    .trim();
}
