/**
 * The fonts a report PDF is set in. Bundled, never fetched: DejaVu Sans (the dejavu-fonts-ttf
 * package, Bitstream Vera licence) covers Latin with diacritics, Greek (µ), and the arrows and
 * comparison signs lab text uses (≤ ≥ →), which the PDF standard fonts' WinAnsi encoding cannot
 * draw. Subset on embedding, so a report carries only the glyphs it uses.
 *
 * Two providers give the same files: node-pdf-fonts.ts reads them from node_modules (Node
 * tests, CLIs), workers-pdf-fonts.ts imports them as Data modules (wrangler's module rule for
 * *.ttf), so Node and workerd render with the same bytes.
 */
export interface PdfFonts {
  regular: Uint8Array;
  bold: Uint8Array;
}

/** Where the font files are inside the dejavu-fonts-ttf package. */
export const PDF_FONT_FILES = {
  regular: "ttf/DejaVuSans.ttf",
  bold: "ttf/DejaVuSans-Bold.ttf",
} as const;

/** How a runtime hands the fonts to the renderer (read once per process or isolate). */
export type LoadPdfFonts = () => Promise<PdfFonts>;
