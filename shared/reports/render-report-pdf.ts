/**
 * A finalized report as PDF (pdf-lib): the clinic's name in the header of every page, the
 * patient and the signature block on the first, the narrative sections with numbered source
 * marks, the record tables, the numbered sources (document, page, quoted text), and on every
 * page "Page n of N" with the content hash. Set in the bundled fonts (pdf-fonts.ts), embedded
 * as subsets, so the file looks the same in every reader and nothing is fetched; a character
 * the font has no glyph for is replaced by a look-alike or "?", never dropped silently.
 */
import fontkit from "@pdf-lib/fontkit";
import { PDFDocument, type PDFFont, type PDFPage, rgb } from "pdf-lib";
import type { PdfFonts } from "./pdf-fonts";
import type { ReportContent } from "./report-schema";

export interface PdfReportInput {
  clinicName: string;
  patient: { name: string; dateOfBirth: string | null; mrn: string | null };
  reportId: string;
  reportVersion: number;
  finalizedAt: string;
  /** The signer's display name as it was when they signed (from the snapshot). */
  signedBy: string;
  contentHash: string;
  signatureKid: string;
  drafter: string;
  content: ReportContent;
}

const A4: [number, number] = [595.28, 841.89];
const MARGIN = 50;
const BODY = 10;
const LINE = 13.5;

/** Look-alikes for characters outside the font (DejaVu has all of these; another font may not). */
const LOOK_ALIKES: Record<string, string> = {
  "\u2013": "-",
  "\u2014": "-",
  "\u2018": "'",
  "\u2019": "'",
  "\u201c": '"',
  "\u201d": '"',
  "\u2026": "...",
  "\u2264": "<=",
  "\u2265": ">=",
  "\u2192": "->",
  "\u00b5": "u",
  "\u03bc": "u",
};

/** A function giving the text `font` can draw: whitespace folded, missing glyphs replaced. */
export function drawableBy(font: PDFFont): (text: string) => string {
  const glyphs = new Set(font.getCharacterSet());
  const has = (ch: string) => glyphs.has(ch.codePointAt(0)!);
  return (text) =>
    [...text.replace(/\s+/g, " ")]
      .map((ch) => {
        if (has(ch)) return ch;
        const alike = LOOK_ALIKES[ch];
        return alike !== undefined && [...alike].every(has) ? alike : "?";
      })
      .join("");
}

const NARRATIVE: Array<[keyof ReportContent, string]> = [
  ["summary", "Summary"],
  ["key_findings", "Key findings"],
  ["interpretation", "Interpretation"],
  ["data_gaps", "Data gaps"],
  ["follow_up_questions", "Follow-up questions"],
];

export async function renderReportPdf(input: PdfReportInput, fonts: PdfFonts): Promise<Uint8Array> {
  const pdf = await PDFDocument.create();
  pdf.registerFontkit(fontkit);
  pdf.setTitle("Client Health Report");
  pdf.setProducer("MedCHR");
  pdf.setCreationDate(new Date(input.finalizedAt));
  const regular = await pdf.embedFont(fonts.regular, { subset: true });
  const bold = await pdf.embedFont(fonts.bold, { subset: true });
  const drawable = new Map<PDFFont, (text: string) => string>([
    [regular, drawableBy(regular)],
    [bold, drawableBy(bold)],
  ]);
  const safe = (text: string, font: PDFFont) => drawable.get(font)!(text);
  let page!: PDFPage;
  let y = 0;

  const newPage = () => {
    page = pdf.addPage(A4);
    y = A4[1] - MARGIN;
    page.drawText(safe(input.clinicName, bold), {
      x: MARGIN,
      y,
      size: 9,
      font: bold,
      color: rgb(0.04, 0.31, 0.42),
    });
    page.drawText("Client Health Report", {
      x: A4[0] - MARGIN - bold.widthOfTextAtSize("Client Health Report", 9),
      y,
      size: 9,
      font: bold,
    });
    y -= 22;
  };
  const ensure = (height: number) => {
    if (y - height < MARGIN + 30) newPage();
  };
  const wrap = (text: string, font: PDFFont, size: number, width: number): string[] => {
    const words = safe(text, font).split(" ");
    const lines: string[] = [];
    let line = "";
    for (const word of words) {
      const next = line ? `${line} ${word}` : word;
      if (font.widthOfTextAtSize(next, size) <= width || line === "") line = next;
      else {
        lines.push(line);
        line = word;
      }
    }
    if (line) lines.push(line);
    return lines;
  };
  const paragraph = (text: string, options: { font?: PDFFont; size?: number; indent?: number } = {}) => {
    const font = options.font ?? regular;
    const size = options.size ?? BODY;
    const indent = options.indent ?? 0;
    for (const line of wrap(text, font, size, A4[0] - 2 * MARGIN - indent)) {
      ensure(LINE);
      page.drawText(line, { x: MARGIN + indent, y, size, font });
      y -= size + 3.5;
    }
  };
  const heading = (text: string) => {
    ensure(LINE * 3);
    y -= 6;
    page.drawText(safe(text, bold), { x: MARGIN, y, size: 12, font: bold });
    y -= 17;
  };

  newPage();
  page.drawText("Client Health Report", { x: MARGIN, y, size: 18, font: bold });
  y -= 26;
  paragraph(
    `Patient: ${input.patient.name}${input.patient.dateOfBirth ? `, born ${input.patient.dateOfBirth}` : ""}${input.patient.mrn ? `, MRN ${input.patient.mrn}` : ""}`,
  );
  paragraph(
    `Finalized ${input.finalizedAt.slice(0, 16).replace("T", " ")} UTC, signed by ${input.signedBy} (key ${input.signatureKid}).`,
  );
  paragraph(
    `Version ${input.reportVersion}. Drafted by ${input.drafter}; reviewed and signed by the clinician.`,
  );

  const sources: string[] = [];
  const mark = (citations: ReportContent["summary"][number]["citations"]) =>
    citations
      .map((c) => {
        sources.push(`Document ${c.documentId.slice(0, 8)}, page ${c.page}: "${c.quote}"`);
        return `[${sources.length}]`;
      })
      .join("");

  for (const [section, title] of NARRATIVE) {
    heading(title);
    const claims = input.content[section] as ReportContent["summary"];
    if (claims.length === 0) paragraph("None.", { indent: 10 });
    for (const claim of claims) {
      const flag =
        claim.support === "unsupported"
          ? " (no verified source)"
          : claim.support === "clinician"
            ? " (clinician)"
            : "";
      paragraph(`- ${claim.text.replace(/\*\*|__|`/g, "")} ${mark(claim.citations)}${flag}`, { indent: 10 });
    }
  }
  const table = (title: string, rows: string[]) => {
    heading(title);
    if (rows.length === 0) paragraph("None found in the records.", { indent: 10 });
    for (const row of rows) paragraph(row, { indent: 10 });
  };
  const c = input.content;
  table(
    "Lab results",
    c.labs.map(
      (l) =>
        `${l.name}: ${l.value}${l.unit ? ` ${l.unit}` : ""}${l.refLow !== null || l.refHigh !== null ? ` (ref ${l.refLow ?? ""}-${l.refHigh ?? ""})` : l.refText ? ` (ref ${l.refText})` : ""}${l.flag && l.flag !== "N" ? ` ${l.flag === "H" ? "HIGH" : "LOW"}` : ""}${l.observedAt ? `, ${l.observedAt}` : ""} ${mark(l.citations)}`,
    ),
  );
  table(
    "Medications",
    c.medications.map(
      (m) => `${[m.name, m.dose, m.route, m.frequency].filter(Boolean).join(" ")} ${mark(m.citations)}`,
    ),
  );
  table(
    "Diagnoses",
    c.diagnoses.map(
      (d) =>
        `${d.text}${d.icd10 ? ` (${d.icd10})` : ""}${d.assertion === "negated" ? ": ruled out or denied" : d.assertion === "family" ? ": family history" : ""} ${mark(d.citations)}`,
    ),
  );
  table(
    "Allergies",
    c.allergies.map((a) => `${a.substance}${a.reaction ? ` (${a.reaction})` : ""} ${mark(a.citations)}`),
  );
  table(
    "Vital signs",
    c.vitals.map(
      (v) =>
        `${v.type.toUpperCase()} ${v.value}${v.unit ? ` ${v.unit}` : ""}${v.observedAt ? `, ${v.observedAt}` : ""} ${mark(v.citations)}`,
    ),
  );
  heading("Sources");
  if (sources.length === 0) paragraph("No sources cited.", { indent: 10 });
  for (const [i, s] of sources.entries()) paragraph(`[${i + 1}] ${s}`, { indent: 10, size: 8.5 });

  const pages = pdf.getPages();
  pages.forEach((p, i) => {
    const footer = `Page ${i + 1} of ${pages.length}   SHA-256 ${input.contentHash}`;
    p.drawText(footer, { x: MARGIN, y: MARGIN - 20, size: 7.5, font: regular, color: rgb(0.35, 0.4, 0.45) });
  });
  return pdf.save();
}
