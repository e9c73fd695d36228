/**
 * Node provider of the report PDF fonts (pdf-fonts.ts): read from node_modules once per
 * process. The only module of the reports domain that may import Node built-ins.
 */
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { PDF_FONT_FILES, type PdfFonts } from "./pdf-fonts";

const require = createRequire(import.meta.url);
let loading: Promise<PdfFonts> | null = null;

export function loadNodePdfFonts(): Promise<PdfFonts> {
  loading ??= (async () => {
    const dir = dirname(require.resolve("dejavu-fonts-ttf/package.json"));
    const [regular, bold] = await Promise.all([
      readFile(join(dir, PDF_FONT_FILES.regular)),
      readFile(join(dir, PDF_FONT_FILES.bold)),
    ]);
    return { regular: new Uint8Array(regular), bold: new Uint8Array(bold) };
  })().catch((error: unknown) => {
    loading = null;
    throw error;
  });
  return loading;
}
