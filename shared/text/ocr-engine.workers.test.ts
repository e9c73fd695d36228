/**
 * The OCR engine inside workerd, with the assets the pipeline Worker bundles: the precompiled
 * tesseract.js-core module, gzipped eng traineddata as a Data module, Node sniffing hidden.
 * Inputs are synthetic scans drawn in JS (workerd has no canvas), the same ones the Node tests read.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { extractDocumentText } from "./extract-document-text";
import { createOcrEngine, type OcrEngine } from "./ocr-engine";
import {
  SYNTHETIC_LAB_EXPECTED,
  syntheticLabJpeg,
  syntheticLabPng,
  syntheticLabScannedPdf,
} from "./testing/synthetic-lab-page";
import { WORKERS_TEXT_LIMITS } from "./text-types";
import { loadWorkersOcrAssets } from "./workers-ocr-assets";

/**
 * workerd stops its clocks while JS runs (a Spectre mitigation) and moves them on at I/O, so a
 * timer hop is needed before reading the time after a synchronous wasm call.
 */
async function now(): Promise<number> {
  await new Promise((resolve) => setTimeout(resolve, 0));
  return Date.now();
}

describe("OCR engine in workerd", () => {
  let engine: OcrEngine;
  let startMs = 0;

  beforeAll(async () => {
    const t0 = await now();
    const r = await createOcrEngine(loadWorkersOcrAssets());
    if (!r.ok) throw new Error(r.error.code);
    engine = r.value;
    startMs = (await now()) - t0;
  }, 60_000);
  afterAll(() => engine?.dispose());

  it("reads a synthetic lab page from PNG and JPEG bytes (Leptonica decodes inside the wasm)", async () => {
    const inputs = [await syntheticLabPng(), syntheticLabJpeg()];
    const timings: number[] = [];
    for (const image of inputs) {
      const t0 = await now();
      const r = await engine.recognize(image);
      timings.push((await now()) - t0);
      expect(r.ok).toBe(true);
      if (!r.ok) return;
      expect(r.value).toMatchObject({ width: 1700, height: 2200 });
      expect(r.value.confidence).toBeGreaterThan(85);
      for (const line of SYNTHETIC_LAB_EXPECTED) expect(r.value.text).toMatch(line);
    }
    const memory = engine.memoryBytes?.() ?? 0;
    // The isolate limit is 128 MB; the engine must leave room for the pipeline's own work.
    expect(memory).toBeGreaterThan(0);
    expect(memory).toBeLessThan(64 * 1024 * 1024);
    console.info(
      `workerd OCR: start ${startMs} ms, pages ${timings.map((t) => `${t} ms`).join(" / ")} (png / jpeg, 1700x2200), wasm memory ${(memory / 2 ** 20).toFixed(1)} MiB`,
    );
  }, 60_000);

  it("OCRs the embedded JPEG of a scanned PDF through extractDocumentText", async () => {
    const r = await extractDocumentText(syntheticLabScannedPdf(), {
      getOcr: async () => ({ ok: true, value: engine }),
      limits: WORKERS_TEXT_LIMITS,
    });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.format).toBe("pdf");
    const [page] = r.value.pages;
    expect(page).toMatchObject({ pageNumber: 1, source: "ocr" });
    expect(page!.ocrConfidence).toBeGreaterThan(85);
    for (const line of SYNTHETIC_LAB_EXPECTED) expect(page!.text).toMatch(line);
  }, 60_000);

  it("refuses undecodable and oversized images and keeps working afterwards", async () => {
    expect(await engine.recognize(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]))).toMatchObject({
      ok: false,
      error: { code: "image_unreadable" },
    });
    const png = await syntheticLabPng();
    expect(await engine.recognize(png, { maxImagePixels: 1700 * 2200 - 1 })).toMatchObject({
      ok: false,
      error: { code: "image_too_large" },
    });
    // A truncated PNG passes the header check and must fail inside Leptonica, not crash the engine.
    expect(await engine.recognize(png.subarray(0, 200))).toMatchObject({
      ok: false,
      error: { code: "image_unreadable" },
    });
    const again = await engine.recognize(syntheticLabJpeg());
    expect(again.ok && SYNTHETIC_LAB_EXPECTED.every((line) => line.test(again.value.text))).toBe(true);
  }, 60_000);

  it("fails closed with ocr_unavailable when the traineddata is not a model", async () => {
    const assets = loadWorkersOcrAssets();
    const r = await createOcrEngine({ ...assets, trainedData: new TextEncoder().encode("not a model") });
    expect(r).toMatchObject({ ok: false, error: { code: "ocr_unavailable" } });
  }, 60_000);
});
