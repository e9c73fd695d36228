import { extractText, getDocumentProxy } from "unpdf";
import { describe, expect, it } from "vitest";
import { loadNodePdfFonts } from "./node-pdf-fonts";
import { type PdfReportInput, renderReportPdf } from "./render-report-pdf";
import { emptyContent, pdfFontsOf } from "./testing";

function input(overrides: Partial<PdfReportInput> = {}): PdfReportInput {
  const content = emptyContent();
  content.summary = [
    {
      text: "Vitamin B12 148 pmol/L, below 150; eGFR ≥ 90 mL/min/1.73 m²; troponin 12 ng/L → stable; CRP 3–5 µg/mL.",
      support: "verified",
      citations: [],
    },
    { text: "Kanji 漢字 has no glyph in the font.", support: "clinician", citations: [] },
  ];
  return {
    clinicName: "Clínica Sánchez & Søn",
    patient: { name: "Zoë Ångström-Łukasz", dateOfBirth: "1971-04-12", mrn: "SYN-1" },
    reportId: "00000000-0000-4000-8000-000000000001",
    reportVersion: 1,
    finalizedAt: "2026-12-07T08:00:00.000Z",
    signedBy: "Dr Ørjan Œlberg",
    contentHash: "ab".repeat(32),
    signatureKid: "report-2026-12",
    drafter: "the on-box drafter (rules, no AI)",
    content,
    ...overrides,
  };
}

/** Page texts, NFKC-normalised: one glyph may come back as either of its code points (µ/μ). */
async function textOf(bytes: Uint8Array): Promise<string[]> {
  // A copy: pdf.js takes ownership of (detaches) the buffer it is given.
  const { text } = await extractText(await getDocumentProxy(bytes.slice()), { mergePages: false });
  return (text as string[]).map((page) => page.normalize("NFKC"));
}
const nfkc = (text: string) => text.normalize("NFKC");

describe("renderReportPdf", () => {
  it("draws lab text and names outside WinAnsi as written, in the embedded font subsets", async () => {
    const bytes = await renderReportPdf(input(), await loadNodePdfFonts());
    const all = (await textOf(bytes)).join("\n");
    expect(all).toContain(nfkc("eGFR ≥ 90 mL/min/1.73 m²"));
    expect(all).toContain(nfkc("troponin 12 ng/L → stable"));
    expect(all).toContain(nfkc("CRP 3–5 µg/mL"));
    expect(all).toContain(nfkc("Zoë Ångström-Łukasz"));
    expect(all).toContain(nfkc("signed by Dr Ørjan Œlberg"));
    expect(all).toContain(nfkc("Clínica Sánchez & Søn"));
    // No glyph: replaced visibly, never dropped or drawn as an empty box.
    expect(all).toContain(nfkc("Kanji ?? has no glyph"));
    const fonts = await pdfFontsOf(bytes);
    expect(fonts.length).toBeGreaterThanOrEqual(2);
    for (const font of fonts) {
      expect(font.embedded).toBe(true);
      expect(font.baseFont).toMatch(/^\/DejaVuSans/);
    }
    // Subsets: a report carries the glyphs it uses, not two whole fonts (1.4 MB).
    expect(bytes.length).toBeLessThan(200_000);
  });

  it("numbers every page and prints the content hash on each", async () => {
    const content = emptyContent();
    content.key_findings = Array.from({ length: 120 }, (_, i) => ({
      text: `Finding ${i + 1}: a synthetic statement long enough to wrap across the width of the page at least once.`,
      support: "verified" as const,
      citations: [],
    }));
    const pages = await textOf(await renderReportPdf(input({ content }), await loadNodePdfFonts()));
    expect(pages.length).toBeGreaterThan(2);
    for (const [i, page] of pages.entries()) {
      expect(page).toContain(`Page ${i + 1} of ${pages.length}`);
      expect(page).toContain(`SHA-256 ${"ab".repeat(32)}`);
      expect(page).toContain("Clínica Sánchez & Søn");
    }
  });
});
