/**
 * Generated laboratory reports as text-layer PDFs in which every table cell is drawn at its own
 * column position, as a laboratory system's PDF writer sets a table (no padding spaces: the
 * reader has only the positions to find the columns by). Free lines are drawn at the margin.
 * Helvetica 10 pt, or smaller for a table too wide for the page at 10 pt; a column is as wide
 * as its widest cell (Helvetica's character widths, approximately) and 14 pt from the next.
 */
import type { GeneratedLabReport } from "./generate-lab-reports";
import { pagePdf } from "./render-letter-pdf";

const LINE = 13;
const TOP = 770;
const LEFT = 40;
const RIGHT = 572;
const GAP = 14;

/** Width of `text` in Helvetica at 1 pt (AFM widths by character class, rounded up). */
function helveticaWidth(text: string): number {
  let w = 0;
  for (const ch of text) {
    if (/[ijlI.,:;'!|]/.test(ch)) w += 0.28;
    else if (/[ftr()[\] -]/.test(ch)) w += 0.34;
    else if (/[mwMW%]/.test(ch)) w += 0.9;
    else if (/[A-Z]/.test(ch)) w += 0.73;
    else w += 0.56;
  }
  return w;
}

export function renderLabReportPdf(doc: GeneratedLabReport): Uint8Array {
  const runs: { x: number; y: number; text: string; size?: number }[] = [];
  let y = TOP;
  for (const block of doc.blocks) {
    if (block.kind === "lines") {
      for (const text of block.lines) {
        runs.push({ x: LEFT, y, text });
        y -= LINE;
      }
      continue;
    }
    const rows = block.header ? [block.header, ...block.rows] : block.rows;
    const columnWidths = block.widths.map((_, c) =>
      Math.max(...rows.map((row) => helveticaWidth(row[c] ?? ""))),
    );
    const at10 = columnWidths.reduce((sum, w) => sum + w * 10 + GAP, -GAP);
    const size = Math.min(10, Math.floor((10 * (RIGHT - LEFT)) / at10));
    const xs: number[] = [];
    let x = LEFT;
    for (const w of columnWidths) {
      xs.push(Math.round(x));
      x += w * size + GAP;
    }
    for (const row of rows) {
      row.forEach((cell, c) => {
        if (cell) runs.push({ x: xs[c]!, y, text: cell, size });
      });
      y -= LINE;
    }
  }
  return pagePdf(runs);
}
