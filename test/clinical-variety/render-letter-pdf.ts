/**
 * Generated letters as text-layer PDFs in two layouts: one column, and two columns (the
 * letterhead and opening paragraph full width, the sections set in two columns that share
 * baselines across the gutter, the sign-off full width below), as newsletters, discharge
 * summaries and many EHR prints are set. Helvetica 10 pt (a standard font: pdf.js measures it),
 * WinAnsi encoding. The text layer is what a PDF producer writes; no rendering is involved.
 */
import { buildTestPdf } from "../fixtures/clinical/build-test-pdf";
import type { GeneratedDocument } from "./generate-clinical-letters";

const LINE = 13;
const TOP = 760;
const LEFT = 50;
const GUTTER_X = 316;
const FULL_WIDTH_CHARS = 100;
/** A column is 250 pt: about 42 characters (a 0.5 in gutter) of Helvetica 10 pt. */
const COLUMN_CHARS = 42;

/** PDF literal string in WinAnsi (the bullet is 0x95). */
const literal = (s: string) =>
  `(${s
    .replace(/([()\\])/g, "\\$1")
    .replace(/•/g, "\\225")
    .replace(/[^\x20-\x7e\\]/g, "?")})`;

export function wrap(line: string, width: number): string[] {
  if (line.length <= width) return [line];
  const out: string[] = [];
  let current = "";
  for (const word of line.split(" ")) {
    if (current && `${current} ${word}`.length > width) {
      out.push(current);
      current = word;
    } else current = current ? `${current} ${word}` : word;
  }
  if (current) out.push(current);
  return out;
}

/** One page: each run of text drawn at its own position, 10 pt unless the run says otherwise. */
export function pagePdf(runs: readonly { x: number; y: number; text: string; size?: number }[]): Uint8Array {
  const content = [
    "BT",
    ...runs
      .filter((r) => r.text !== "")
      .map((r) => `/F1 ${r.size ?? 10} Tf 1 0 0 1 ${r.x} ${r.y} Tm ${literal(r.text)} Tj`),
    "ET",
  ].join("\n");
  return buildTestPdf([
    "<< /Type /Catalog /Pages 2 0 R >>",
    "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
    "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
    `<< /Length ${content.length} >>\nstream\n${content}\nendstream`,
    "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
  ]);
}

export function renderOneColumnPdf(doc: GeneratedDocument): Uint8Array {
  const lines = doc.text.split("\n").flatMap((l) => wrap(l, FULL_WIDTH_CHARS));
  return pagePdf(lines.map((text, i) => ({ x: LEFT, y: TOP - i * LINE, text })));
}

export function renderTwoColumnPdf(doc: GeneratedDocument): Uint8Array {
  const head = doc.parts.head.flatMap((l) => wrap(l, FULL_WIDTH_CHARS));
  const runs = head.map((text, i) => ({ x: LEFT, y: TOP - i * LINE, text }));
  const top = TOP - (head.length + 1) * LINE;
  // Break the sections between columns at the blank line nearest the middle.
  const body = doc.parts.body.flatMap((l) => wrap(l, COLUMN_CHARS));
  const blanks = body.map((l, i) => (l === "" ? i : -1)).filter((i) => i >= 0);
  const split = blanks.reduce(
    (best, i) => (Math.abs(i - body.length / 2) < Math.abs(best - body.length / 2) ? i : best),
    blanks[0] ?? body.length,
  );
  const left = body.slice(0, split + 1);
  const right = body.slice(split + 1);
  for (const [i, text] of left.entries()) runs.push({ x: LEFT, y: top - i * LINE, text });
  for (const [i, text] of right.entries()) runs.push({ x: GUTTER_X, y: top - i * LINE, text });
  const bottom = top - (Math.max(left.length, right.length) + 1) * LINE;
  for (const [i, text] of doc.parts.closing.entries()) runs.push({ x: LEFT, y: bottom - i * LINE, text });
  return pagePdf(runs);
}
