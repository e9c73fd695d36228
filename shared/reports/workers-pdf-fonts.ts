/**
 * workerd provider of the report PDF fonts (pdf-fonts.ts): the very files the Node provider
 * reads, bundled as Data modules (ArrayBuffer) by wrangler's module rule for *.ttf
 * (wrangler.toml). Import it only from a Worker entry (functions/api/index.ts): Node cannot
 * load these module types.
 */

import regular from "dejavu-fonts-ttf/ttf/DejaVuSans.ttf";
import bold from "dejavu-fonts-ttf/ttf/DejaVuSans-Bold.ttf";
import type { PdfFonts } from "./pdf-fonts";

const fonts: PdfFonts = { regular: new Uint8Array(regular), bold: new Uint8Array(bold) };

export function loadWorkersPdfFonts(): Promise<PdfFonts> {
  return Promise.resolve(fonts);
}
