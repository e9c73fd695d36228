/**
 * Scanned pages through the same reading-order engine as text-layer PDFs (issue 11): Tesseract's
 * word boxes (its TSV output) become positioned items, so a scanned table's cells line up under
 * their column titles on one character grid, and a scanned two-column page is read column by
 * column, exactly as layout-page-text does for pdf.js items.
 *
 * Two things differ from a PDF. A scan is skewed, so the words of one printed line do not share
 * a y: Tesseract's own line grouping decides the line and its words get the line's baseline.
 * And a scan has specks, which Tesseract reads as tiny marks or as punctuation standing apart
 * from any word: those are dropped before layout.
 */
import { layoutLines, type PositionedItem } from "./layout-page-text";

export interface OcrWord {
  readonly text: string;
  readonly left: number;
  readonly top: number;
  readonly width: number;
  readonly height: number;
  /** Tesseract's word confidence 0-100. */
  readonly confidence: number;
  /** Tesseract's block / paragraph / line numbers joined: the words of one printed line. */
  readonly line: string;
}

/** Word rows (level 5) of Tesseract's TSV: level page block par line word left top width height conf text. */
export function parseTesseractTsv(tsv: string): OcrWord[] {
  const words: OcrWord[] = [];
  for (const row of tsv.split("\n")) {
    const f = row.split("\t");
    if (f.length < 12 || f[0] !== "5") continue;
    const text = f.slice(11).join("\t").trim();
    if (text === "") continue;
    words.push({
      text,
      left: Number(f[6]),
      top: Number(f[7]),
      width: Number(f[8]),
      height: Number(f[9]),
      confidence: Number(f[10]),
      line: `${f[2]}.${f[3]}.${f[4]}`,
    });
  }
  return words;
}

const isPunctuation = (w: OcrWord) => /^[^\p{L}\p{N}]+$/u.test(w.text);

/** Punctuation further than this many line heights from any word of its line stands alone: a speck. */
const ISOLATED_LINE_HEIGHTS = 2;
/** A tiny mark within this many line heights of a word belongs to it (a bullet, a full stop). */
const ADJACENT_LINE_HEIGHTS = 1.2;

/** Distance from `w` to the nearest word (not punctuation) of its line. */
function nearestWord(w: OcrWord, line: readonly OcrWord[]): number {
  let nearest = Number.POSITIVE_INFINITY;
  for (const o of line) {
    if (o === w || isPunctuation(o)) continue;
    const gap = o.left > w.left ? o.left - (w.left + w.width) : w.left - (o.left + o.width);
    nearest = Math.min(nearest, Math.max(0, gap));
  }
  return nearest;
}

/** A word box's height as a share of the type size. */
const BOX_TO_TYPE_SIZE = 0.8;
/**
 * A line whose median word box is this much taller than the page's is set in larger type. A word
 * with an ascender and a descender ("Driving") is already 1.3 times one with an ascender alone,
 * and blur adds to it; a one-word heading in body type must not count as a title.
 */
const LARGER_TYPE = 1.8;
/** Words shorter than this share of the page's typical word height are specks, whatever was read. */
const MIN_HEIGHT_SHARE = 0.4;
/**
 * A word of one or two characters read with a confidence below this, standing apart from every
 * word of its line, is a speck read as letters ("oe", "oo" in a margin). A short real word
 * standing apart (a flag, a bullet's number) is read with confidence far above it, and a word
 * beside other words is never judged by confidence.
 */
const STRAY_WORD_CONFIDENCE = 25;
const STRAY_WORD_MAX_LENGTH = 2;
/** A glyph is at most about as wide as it is tall; a box twice that per character is no glyph. */
const SMUDGE_WIDTH_PER_CHARACTER = 2;
/** Words whose confidence is below this may carry a speck read as a quote mark before them. */
const GLUED_SPECK_CONFIDENCE = 70;

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

/**
 * The page's skew: the median slope of its lines' word bottoms (dy per dx), from lines with
 * three or more words. A scan a degree off level moves a line's end by a line height.
 */
function skewOf(lines: Iterable<readonly OcrWord[]>): number {
  const slopes: number[] = [];
  for (const line of lines) {
    if (line.length < 3) continue;
    const pts = line.map((w) => [w.left + w.width / 2, w.top + w.height] as const);
    const mx = pts.reduce((a, p) => a + p[0], 0) / pts.length;
    const my = pts.reduce((a, p) => a + p[1], 0) / pts.length;
    let sxx = 0;
    let sxy = 0;
    for (const [x, y] of pts) {
      sxx += (x - mx) ** 2;
      sxy += (x - mx) * (y - my);
    }
    if (sxx > 0) slopes.push(sxy / sxx);
  }
  return slopes.length === 0 ? 0 : median(slopes);
}

/** Body text is set at about 1.2-1.4 times its type size from baseline to baseline. */
const SINGLE_SPACING = 1.3;

/**
 * The page's type size. From the line pitch where the page has enough lines (the most common
 * gap between neighbouring baselines is single spacing), since blur and JPEG make word boxes
 * taller than the type, and a blank line is then a gap of about two pitches whatever the blur;
 * from the word boxes otherwise (a box is about 0.8 of the type size).
 */
function pageTypeSize(baselines: readonly number[], typicalBox: number): number {
  const fromBoxes = typicalBox / BOX_TO_TYPE_SIZE;
  const sorted = [...baselines].sort((a, b) => a - b);
  const gaps: number[] = [];
  for (let i = 1; i < sorted.length; i++) {
    const gap = sorted[i]! - sorted[i - 1]!;
    // Lines of one baseline split by Tesseract, and blank-line gaps, are not the pitch.
    if (gap > typicalBox * 0.6 && gap < typicalBox * 2.2) gaps.push(gap);
  }
  if (gaps.length < MIN_PITCH_SAMPLES) return fromBoxes;
  return Math.min(fromBoxes, median(gaps) / SINGLE_SPACING);
}
const MIN_PITCH_SAMPLES = 5;

/** Page text from word boxes; null when there are no words (the caller keeps Tesseract's text). */
export function layoutOcrWords(words: readonly OcrWord[]): string | null {
  const typical = median(words.filter((w) => !isPunctuation(w)).map((w) => w.height));
  const grouped = new Map<string, OcrWord[]>();
  for (const w of words) {
    const list = grouped.get(w.line) ?? [];
    list.push(w);
    grouped.set(w.line, list);
  }
  const kept = new Map<string, OcrWord[]>();
  for (const [key, all] of grouped) {
    const h = median(all.map((w) => w.height));
    const lineWords = all
      // A speck is a tiny mark, punctuation, or a one- or two-letter word read with almost no
      // confidence, standing apart from the words (a bullet or a full stop is tiny too, but
      // beside its word). Words are not judged by isolation alone (a table's cells stand apart)
      // nor by confidence alone (Tesseract reports 0 for some words it reads right, and a
      // degraded number or a list bullet beside its item is often read with low confidence).
      .filter((w) => {
        const apart = nearestWord(w, all);
        if (w.height < typical * MIN_HEIGHT_SHARE && apart > h * ADJACENT_LINE_HEIGHTS) return false;
        if (apart <= h * ISOLATED_LINE_HEIGHTS) return true;
        const length = [...w.text].length;
        // A number is never dropped for its confidence (the plausibility check marks a doubtful
        // one), unless its box is far wider than its digits could be: a smudge.
        const mayBeSpeck = !/\d/.test(w.text) || w.width > w.height * length * SMUDGE_WIDTH_PER_CHARACTER;
        const stray = w.confidence < STRAY_WORD_CONFIDENCE && length <= STRAY_WORD_MAX_LENGTH && mayBeSpeck;
        return !isPunctuation(w) && !stray;
      })
      .map((w) =>
        w.confidence < GLUED_SPECK_CONFIDENCE
          ? { ...w, text: w.text.replace(/^["“”'‘’`|]+(?=\p{L})/u, "") }
          : w,
      );
    if (lineWords.length > 0) kept.set(key, lineWords);
  }
  // Undo the skew (rotate every box about the origin), so a line's words share a baseline and a
  // table's columns and a page's margin stay vertical.
  const s = skewOf(kept.values());
  const cos = 1 / Math.sqrt(1 + s * s);
  const sin = s * cos;
  const levelled = [...kept.values()].map((lineWords) => {
    const level = lineWords.map((w) => {
      const bottom = w.top + w.height;
      return { w, x: w.left * cos + bottom * sin, bottom: -w.left * sin + bottom * cos };
    });
    // The line's baseline: the median bottom of its words (PDF coordinates grow upwards).
    return { lineWords, level, baseline: median(level.map((l) => l.bottom)) };
  });
  const typeSize = pageTypeSize(
    levelled.map((l) => l.baseline),
    typical,
  );
  const items: PositionedItem[] = [];
  for (const { lineWords, level, baseline } of levelled) {
    // The layout's line height is the type size, as pdf.js reports it. A box's height depends on
    // its letters (ascenders, descenders, a speck touching it, blur), so a line's own boxes say
    // little: a line is set in the page's type size unless its words are clearly larger (a
    // title). The blank lines the layout finds from the gaps between lines then do not come and
    // go with the letters of a one-word heading.
    const own = median(lineWords.map((w) => w.height));
    const height = own > typical * LARGER_TYPE ? own / BOX_TO_TYPE_SIZE : typeSize;
    for (const { w, x } of level)
      items.push({ str: w.text, x, y: -baseline, width: w.width, height, word: true });
  }
  if (items.length === 0) return null;
  return layoutLines(items);
}
