/**
 * OCR tests run the real tesseract.js-core wasm (a few seconds each), so they are kept few:
 * corpus and synthetic scans end to end, one image with Node sniffing hidden as in workerd, and bad
 * input. ocr-engine.workers.test.ts holds the same synthetic page to the same lines inside workerd.
 */
import { readFileSync } from "node:fs";
import { deflateSync } from "node:zlib";
import { getDocumentProxy, getResolvedPDFJS } from "unpdf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  buildGreyPng,
  buildPgm,
  buildPngHeader,
  rotateClockwise,
} from "../../test/fixtures/clinical/build-test-image";
import { buildTestPdf } from "../../test/fixtures/clinical/build-test-pdf";
import { extractDocumentText, lazyOcr } from "./extract-document-text";
import { loadNodeOcrAssets } from "./node-ocr-assets";
import { createOcrEngine, type OcrEngine } from "./ocr-engine";
import {
  SYNTHETIC_LAB_EXPECTED,
  syntheticLabJpeg,
  syntheticLabPng,
  syntheticLabScannedPdf,
} from "./testing/synthetic-lab-page";

const CORPUS = "/work/shared/corpus";

/** The page scan of a corpus PDF decoded by pdf.js, as 8-bit grey pixels. */
async function decodeCorpusScan(file: string): Promise<{ width: number; height: number; grey: Uint8Array }> {
  const pdf = await getDocumentProxy(new Uint8Array(readFileSync(`${CORPUS}/${file}`)), { verbosity: 0 });
  const page = await pdf.getPage(1);
  const { OPS } = await getResolvedPDFJS();
  const ops = await page.getOperatorList();
  const id = (ops.argsArray[ops.fnArray.indexOf(OPS.paintImageXObject)] as string[])[0]!;
  const img = await new Promise<{ width: number; height: number; data: Uint8Array }>((r) =>
    page.objs.get(id, r),
  );
  const grey = new Uint8Array(img.width * img.height);
  for (let i = 0; i < grey.length; i++) grey[i] = img.data[3 * i + 1]!;
  await pdf.destroy();
  return { width: img.width, height: img.height, grey };
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

describe("OCR engine (Node assets)", () => {
  const ocr = lazyOcr(async () => createOcrEngine(await loadNodeOcrAssets()));
  afterAll(() => ocr.dispose());

  it("OCRs the embedded JPEG of a scanned PDF page", async () => {
    const r = await extractDocumentText(new Uint8Array(readFileSync(`${CORPUS}/dev-013.pdf`)), {
      getOcr: ocr.get,
    });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const page = r.value.pages[0]!;
    expect(page.source).toBe("ocr");
    expect(page.ocrConfidence).toBeGreaterThan(60);
    expect(page.text).toMatch(/IMPRESSION/);
    expect(page.text).toMatch(/No focal consolidation, pleural effusion/);
  }, 60_000);

  it("reads the synthetic lab page from PNG, JPEG and a scanned PDF, as the workerd test does", async () => {
    const engine = await ocr.get();
    if (!engine.ok) throw new Error("engine");
    for (const image of [await syntheticLabPng(), syntheticLabJpeg()]) {
      const r = await engine.value.recognize(image);
      expect(r.ok).toBe(true);
      if (!r.ok) return;
      expect(r.value.confidence).toBeGreaterThan(85);
      for (const line of SYNTHETIC_LAB_EXPECTED) expect(r.value.text).toMatch(line);
    }
    const pdf = await extractDocumentText(syntheticLabScannedPdf(), { getOcr: ocr.get });
    expect(pdf.ok && pdf.value.pages[0]!.source).toBe("ocr");
    if (pdf.ok) for (const line of SYNTHETIC_LAB_EXPECTED) expect(pdf.value.pages[0]!.text).toMatch(line);
    const memory = engine.value.memoryBytes?.() ?? 0;
    expect(memory).toBeGreaterThan(16 * 1024 * 1024);
    expect(memory).toBeLessThan(64 * 1024 * 1024);
  }, 90_000);

  it("returns empty text, not an error, for an image without text", async () => {
    const engine = await ocr.get();
    expect(engine.ok).toBe(true);
    if (!engine.ok) return;
    const r = await engine.value.recognize(buildGreyPng(400, 300));
    expect(r).toMatchObject({ ok: true, value: { text: "", confidence: 0, width: 400, height: 300 } });
  }, 60_000);

  it("reads a page scanned sideways by probing the other orientations", async () => {
    const img = await decodeCorpusScan("dev-013.pdf");
    const sideways = buildPgm(img.height, img.width, rotateClockwise(img.width, img.height, img.grey));
    const engine = await ocr.get();
    if (!engine.ok) throw new Error("engine");
    const r = await engine.value.recognize(sideways);
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.value.confidence).toBeGreaterThan(80);
      expect(r.value.text).toMatch(/IMPRESSION/);
    }
  }, 90_000);

  it("OCRs a scan stored with another filter (Flate) through the decoded-pixel fallback", async () => {
    const img = await decodeCorpusScan("dev-013.pdf");
    const data = deflateSync(img.grey);
    const dict = `<< /Type /XObject /Subtype /Image /Width ${img.width} /Height ${img.height} /ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /FlateDecode /Length ${data.length} >>\nstream\n`;
    const content = "q 612 0 0 792 0 0 cm /Im0 Do Q";
    const pdf = buildTestPdf([
      "<< /Type /Catalog /Pages 2 0 R >>",
      "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
      "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /XObject << /Im0 5 0 R >> >> >>",
      `<< /Length ${content.length} >>\nstream\n${content}\nendstream`,
      concat(new TextEncoder().encode(dict), new Uint8Array(data), new TextEncoder().encode("\nendstream")),
    ]);
    const r = await extractDocumentText(pdf, { getOcr: ocr.get });
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.value.pages[0]!.source).toBe("ocr");
      expect(r.value.pages[0]!.text).toMatch(/No focal consolidation/);
    }
  }, 90_000);

  it("rejects oversized and undecodable images before or during decoding", async () => {
    const engine = await ocr.get();
    if (!engine.ok) throw new Error("engine");
    expect(await engine.value.recognize(buildPngHeader(20_000, 20_000))).toMatchObject({
      ok: false,
      error: { code: "image_too_large" },
    });
    expect(await engine.value.recognize(buildPngHeader(100, 100))).toMatchObject({
      ok: false,
      error: { code: "image_unreadable" },
    });
    expect(await engine.value.recognize(new Uint8Array([1, 2, 3, 4]))).toMatchObject({
      ok: false,
      error: { code: "image_unreadable" },
    });
  }, 60_000);
});

describe("OCR engine (workerd-style: precompiled module via instantiateWasm, Node sniffing hidden)", () => {
  let engine: OcrEngine;
  beforeAll(async () => {
    const assets = await loadNodeOcrAssets();
    const wasmModule = await WebAssembly.compile(assets.wasmBinary! as Uint8Array<ArrayBuffer>);
    const r = await createOcrEngine({
      factory: assets.factory,
      wasmModule,
      trainedData: assets.trainedData,
      environmentShim: "hide-node",
    });
    if (!r.ok) throw new Error(r.error.code);
    engine = r.value;
  }, 60_000);
  afterAll(() => engine?.dispose());

  it("recognises a corpus JPEG page and restores process.type afterwards", async () => {
    expect((process as { type?: string }).type).toBeUndefined();
    const r = await engine.recognize(new Uint8Array(readFileSync(`${CORPUS}/dev-029.jpg`)));
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.value.text).toMatch(/Leukocyte Esterase/);
  }, 60_000);

  it("reports a wasm module that cannot be instantiated as ocr_unavailable instead of hanging", async () => {
    const assets = await loadNodeOcrAssets();
    // (module (import "zz" "missing" (func))): compiles, but Emscripten's imports cannot link it.
    const unlinkable = await WebAssembly.compile(
      new Uint8Array([
        0, 97, 115, 109, 1, 0, 0, 0, 1, 4, 1, 96, 0, 0, 2, 14, 1, 2, 122, 122, 7, 109, 105, 115, 115, 105,
        110, 103, 0, 0,
      ]),
    );
    expect(
      await createOcrEngine({
        factory: assets.factory,
        wasmModule: unlinkable,
        trainedData: assets.trainedData,
      }),
    ).toMatchObject({ ok: false, error: { code: "ocr_unavailable" } });
    expect(
      await createOcrEngine({
        factory: assets.factory,
        wasmBinary: new Uint8Array([0, 97, 115, 109, 9, 9]),
        trainedData: assets.trainedData,
      }),
    ).toMatchObject({ ok: false, error: { code: "ocr_unavailable" } });
  });

  it("reports missing assets as ocr_unavailable", async () => {
    const assets = await loadNodeOcrAssets();
    expect(await createOcrEngine({ factory: assets.factory, trainedData: assets.trainedData })).toMatchObject(
      {
        ok: false,
        error: { code: "ocr_unavailable" },
      },
    );
  });
});
