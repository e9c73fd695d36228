/**
 * Reading order from geometry: positioned text items (pdf.js text runs) -> page text.
 *
 * 1. Items are clustered into baselines and each baseline is ordered by x; horizontal gaps
 *    become spaces in proportion to the local character width (a table's column gap becomes
 *    several spaces, like `pdftotext -layout`), large vertical gaps become blank lines.
 * 2. Columns (a vertical cut of an XY-cut): a page set in two columns shares baselines across
 *    the gutter, so a naive layout reads "left line + right line" as one line. A gutter is an x
 *    range that no item of the region covers, wide enough to be more than a word gap and near
 *    the middle, with text on both sides of it; lines that cross it (a title, a full-width
 *    paragraph) bound the regions. A table is not split: its right-hand cells mostly start
 *    with numbers or flags, or its left-hand cells are labels ending in ":".
 */
export interface PositionedItem {
  readonly str: string;
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
  /**
   * A whole word (an OCR word box): always a space from its neighbours, even where the boxes
   * touch or overlap. pdf.js runs carry their own spaces and leave this unset.
   */
  readonly word?: boolean;
}

interface Baseline {
  y: number;
  height: number;
  items: PositionedItem[];
}

/** Minimum lines on each side of a gutter before a region counts as two columns. */
const MIN_COLUMN_LINES = 4;
/** A gutter is at least this many character widths wide (a word gap is about one). */
const MIN_GUTTER_CHARS = 2.5;
/** Gaps tried as gutters per page, widest first. */
const MAX_GUTTER_CANDIDATES = 2;

export function layoutLines(items: readonly PositionedItem[]): string {
  const visible = items.filter((i) => i.str.length > 0);
  if (visible.length === 0) return "";
  const baselines = clusterBaselines(visible);
  const out: string[] = [];
  for (const block of readingOrder(baselines)) {
    if (out.length > 0 && out[out.length - 1] !== "") out.push("");
    out.push(...renderBlock(block));
  }
  while (out.length > 0 && out[out.length - 1] === "") out.pop();
  return out.join("\n");
}

function clusterBaselines(visible: readonly PositionedItem[]): Baseline[] {
  const sorted = [...visible].sort((a, b) => b.y - a.y || a.x - b.x);
  const lines: Baseline[] = [];
  for (const item of sorted) {
    const h = item.height > 0 ? item.height : 10;
    const last = lines[lines.length - 1];
    if (last && Math.abs(last.y - item.y) <= Math.max(2, Math.min(last.height, h) * 0.5)) {
      last.items.push(item);
      if (/\S/.test(item.str)) last.height = Math.max(last.height, h);
    } else {
      lines.push({ y: item.y, height: /\S/.test(item.str) ? h : 0, items: [item] });
    }
  }
  return lines;
}

/** The page's baselines as blocks in reading order: full-width runs, then each column in turn. */
export function readingOrder(lines: readonly Baseline[]): Baseline[][] {
  const gutter = findGutter(lines);
  if (!gutter) return [[...lines]];
  const blocks: Baseline[][] = [];
  let left: Baseline[] = [];
  let right: Baseline[] = [];
  let spanning: Baseline[] = [];
  const flushColumns = () => {
    if (left.length > 0) blocks.push(left);
    if (right.length > 0) blocks.push(right);
    left = [];
    right = [];
  };
  const flushSpanning = () => {
    if (spanning.length > 0) blocks.push(spanning);
    spanning = [];
  };
  for (const line of lines) {
    const text = line.items.filter((i) => /\S/.test(i.str));
    if (text.some((i) => crosses(i, gutter))) {
      flushColumns();
      spanning.push(line);
      continue;
    }
    const l = text.filter((i) => i.x + i.width <= gutter.from);
    const r = text.filter((i) => i.x >= gutter.to);
    // The last line of a full-width paragraph ("...type 2 / diabetes mellitus.") may be short
    // enough to stop before the gutter: right under a spanning line, with nothing across the
    // gutter, it still belongs to that paragraph.
    const above = spanning[spanning.length - 1];
    if (
      above &&
      r.length === 0 &&
      left.length === 0 &&
      above.y - line.y <= Math.max(above.height, line.height) * 1.6
    ) {
      spanning.push(line);
      continue;
    }
    flushSpanning();
    if (l.length > 0) left.push({ ...line, items: l });
    if (r.length > 0) right.push({ ...line, items: r });
  }
  flushColumns();
  flushSpanning();
  return blocks;
}

/** An item that puts ink on the page (not a space run, not zero-width). */
const isInked = (i: PositionedItem) => i.width > 0 && /\S/.test(i.str);

const crosses = (item: PositionedItem, gutter: { from: number; to: number }) =>
  item.x < gutter.to && item.x + item.width > gutter.from;

/** The widest vertical gap between two columns of text, or null when the page is one column. */
function findGutter(lines: readonly Baseline[]): { from: number; to: number } | null {
  if (lines.length < MIN_COLUMN_LINES) return null;
  const inked = lines.map((l) => l.items.filter(isInked));
  const text = inked.flat();
  if (text.length < MIN_COLUMN_LINES * 2) return null;
  const minX = Math.min(...text.map((i) => i.x));
  const maxX = Math.max(...text.map((i) => i.x + i.width));
  const span = maxX - minX;
  if (span <= 0) return null;
  const charWidths = text.map((i) => i.width / Math.max(1, i.str.length)).sort((a, b) => a - b);
  const charWidth = charWidths[Math.floor(charWidths.length / 2)] ?? 5;
  // Coverage by line: how many baselines have an item over each 1-unit bin. Each line's item
  // spans are merged, then added as +1/-1 at their ends (one pass over the bins in all).
  const bins = Math.ceil(span) + 2;
  const delta = new Int32Array(bins + 1);
  for (const items of inked) {
    const spans = items
      .map(
        (i) =>
          [Math.max(0, Math.floor(i.x - minX)), Math.min(bins - 1, Math.ceil(i.x + i.width - minX))] as const,
      )
      .sort((a, b) => a[0] - b[0]);
    let from = -1;
    let to = -1;
    for (const [a, b] of spans) {
      if (a > to) {
        if (from >= 0) {
          delta[from]! += 1;
          delta[to + 1]! -= 1;
        }
        from = a;
        to = b;
      } else to = Math.max(to, b);
    }
    if (from >= 0) {
      delta[from]! += 1;
      delta[to + 1]! -= 1;
    }
  }
  const coverage = new Int32Array(bins);
  let running = 0;
  for (let k = 0; k < bins; k++) {
    running += delta[k]!;
    coverage[k] = running;
  }
  // Lines allowed to cross a gutter: titles, banners and full-width paragraphs. The gutter is
  // where the fewest lines cross (none on a page of columns only), as wide as it runs.
  const crossLimit = Math.max(1, Math.floor(lines.length * 0.25));
  const lo = Math.floor(span * 0.25);
  const hi = Math.ceil(span * 0.75);
  let fewest = Number.POSITIVE_INFINITY;
  for (let k = lo; k <= hi; k++) fewest = Math.min(fewest, coverage[k]!);
  if (fewest > crossLimit) return null;
  const candidates: { from: number; to: number }[] = [];
  let start = -1;
  for (let k = lo; k <= hi + 1; k++) {
    const open = k <= hi && coverage[k]! <= fewest;
    if (open && start < 0) start = k;
    if (!open && start >= 0) {
      if (k - start >= charWidth * MIN_GUTTER_CHARS) candidates.push({ from: minX + start, to: minX + k });
      start = -1;
    }
  }
  // The widest few: a page has one gutter, and a table's many narrow gaps are not worth trying.
  candidates.sort((a, b) => b.to - b.from - (a.to - a.from));
  for (const gutter of candidates.slice(0, MAX_GUTTER_CANDIDATES))
    if (looksLikeColumns(lines, gutter, charWidth)) return gutter;
  return null;
}

const NUMERIC_START =
  /^[\s(]*(?:[<>≤≥+\-−]?\d|\.\d|[HL]\b|[HL]{2}\b|\*|Neg|Pos|Normal|Abnormal|Trace|Detected)/i;

function looksLikeColumns(
  lines: readonly Baseline[],
  gutter: { from: number; to: number },
  charWidth: number,
): boolean {
  const leftTexts: string[] = [];
  const rightTexts: string[] = [];
  let gapped = 0;
  let sides = 0;
  for (const line of lines) {
    const text = line.items.filter((i) => /\S/.test(i.str));
    if (text.some((i) => crosses(i, gutter))) continue;
    const l = text.filter((i) => i.x + i.width <= gutter.from);
    const r = text.filter((i) => i.x >= gutter.to);
    if (l.length > 0) leftTexts.push(joinItems(l));
    if (r.length > 0) rightTexts.push(joinItems(r));
    for (const side of [l, r]) {
      if (side.length === 0) continue;
      sides++;
      if (hasWideGap(side, charWidth)) gapped++;
    }
  }
  // A table has gaps inside its rows on either side of any one gap (three or more columns);
  // a column of running text or a list has none.
  if (sides === 0 || gapped / sides >= 0.3) return false;
  if (leftTexts.length < MIN_COLUMN_LINES || rightTexts.length < MIN_COLUMN_LINES) return false;
  const share = (xs: string[], test: (s: string) => boolean) => xs.filter(test).length / xs.length;
  // A results or medication table: values, flags and doses to the right of the names.
  // (A list number, "2. MEDICATIONS" or "3) Gout", is text, not a value.)
  const valueFirst = (s: string) => NUMERIC_START.test(s) && !/^\s*\(?\d{1,2}[.)]\s+[A-Za-z]/.test(s);
  if (share(rightTexts, valueFirst) >= 0.4) return false;
  // A form or banner: labels on the left, their values on the right.
  if (share(leftTexts, (s) => /:\s*$/.test(s)) >= 0.4) return false;
  // Text on both sides, not a column of single tokens (units, flags).
  const words = (s: string) => s.trim().split(/\s+/).length;
  return share(rightTexts, (s) => words(s) >= 2) >= 0.3 && share(leftTexts, (s) => words(s) >= 2) >= 0.3;
}

function hasWideGap(items: readonly PositionedItem[], charWidth: number): boolean {
  const ordered = [...items].sort((a, b) => a.x - b.x);
  for (let k = 1; k < ordered.length; k++) {
    const prev = ordered[k - 1]!;
    if (ordered[k]!.x - (prev.x + prev.width) >= charWidth * MIN_GUTTER_CHARS) return true;
  }
  return false;
}

const joinItems = (items: readonly PositionedItem[]) =>
  [...items]
    .sort((a, b) => a.x - b.x)
    .map((i) => i.str)
    .join(" ");

/**
 * A block's lines on one character grid (as `pdftotext -layout` does): an item's column is its
 * distance from the block's left edge in the block's typical character width, so the cells of
 * a table line up under their column titles whatever the cells to their left hold (an empty
 * cell included), and a cumulative table's values sit under their dates.
 */
function renderBlock(lines: readonly Baseline[]): string[] {
  const out: string[] = [];
  const inked = lines.flatMap((l) => l.items.filter(isInked));
  const origin = Math.min(...inked.map((i) => i.x));
  const widths = inked.map((i) => i.width / i.str.length).sort((a, b) => a - b);
  const grid = widths[Math.floor(widths.length / 2)] ?? 5;
  let prev: Baseline | null = null;
  for (const line of lines) {
    const rendered = renderLine(line.items, origin, grid);
    if (rendered.trim() === "") continue;
    if (prev) {
      const gap = prev.y - line.y;
      const lineHeight = Math.max(prev.height, line.height, 1);
      if (gap > lineHeight * 2.1) out.push("");
    }
    out.push(rendered);
    prev = line;
  }
  return out;
}

function renderLine(items: PositionedItem[], origin: number, grid: number): string {
  const ordered = [...items].sort((a, b) => a.x - b.x);
  const column = (x: number) => Math.max(0, Math.round((x - origin) / grid));
  let s = "";
  let cursor: number | null = null;
  let charWidth = 5;
  for (const item of ordered) {
    const isBlank = item.str.trim() === "";
    if (!isBlank && item.width > 0) charWidth = item.width / item.str.length;
    if (isBlank) {
      // Explicit space items are gaps; the next real item's position decides how wide.
      if (cursor === null) cursor = item.x;
      continue;
    }
    if (s === "") s = " ".repeat(Math.min(60, column(item.x)));
    else if (cursor !== null) {
      const gap = item.x - cursor;
      // A column gap: at least two spaces, and the item at its grid column where that is further.
      // A gap wider than a word space that the grid puts two or more columns on is one too (a
      // row of capitals overruns the grid's typical width, and its cells sit closer).
      if (gap > charWidth * 2.5 || (gap > charWidth * 1.8 && column(item.x) - s.length >= 2))
        s += " ".repeat(Math.min(60, Math.max(2, column(item.x) - s.length)));
      else if ((gap > charWidth * 0.2 || item.word) && !s.endsWith(" ") && !item.str.startsWith(" "))
        s += " ";
    }
    s += item.str;
    cursor = item.x + item.width;
  }
  return s.replace(/\s+$/, "");
}
