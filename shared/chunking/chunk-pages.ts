/**
 * Splits page texts into retrieval chunks of about 1,000-1,500 characters that end on the
 * strongest break available (paragraph, then line, then sentence, then word) and overlap the
 * previous chunk by about 150 characters, starting again on a line, sentence or word start.
 * A chunk never spans pages and never cuts a word, unless one token alone is longer than the
 * window. Every chunk is an exact slice of its page: page.text.slice(charStart, charEnd) === text,
 * so a retrieved chunk cites the page and characters it came from.
 */

export interface ChunkablePage {
  readonly pageNumber: number;
  readonly text: string;
}

export interface TextChunk {
  /** Position in the document, 0-based, across pages. */
  readonly ordinal: number;
  readonly page: number;
  /** [charStart, charEnd) in UTF-16 code units into the page's text. */
  readonly charStart: number;
  readonly charEnd: number;
  readonly text: string;
}

export interface ChunkOptions {
  /** A chunk ends on a break no earlier than this many characters after its start (unless the page ends). */
  readonly minChars: number;
  /** ...and no later than this. */
  readonly maxChars: number;
  /** How far back the next chunk may start, so a fact cut at a chunk edge is whole in one of them. */
  readonly overlapChars: number;
}

/**
 * 1,000-1,500 characters is a paragraph or two of a clinical note, a lab panel of 15-25 rows:
 * enough context for retrieval, small enough that one chunk stays about one topic; 150 characters
 * of overlap is one or two lines (a lab row, a medication line).
 */
export const DEFAULT_CHUNK_OPTIONS: ChunkOptions = { minChars: 1000, maxChars: 1500, overlapChars: 150 };

/** Break strength after an end position / before a start position. */
const WORD = 0;
const SENTENCE = 1;
const LINE = 2;
const PARAGRAPH = 3;

const isSpace = (c: string | undefined) => c !== undefined && /\s/.test(c);
const SENTENCE_END = /[.!?;:]["')\]]?$/;

function assertOptions(o: ChunkOptions): void {
  const ints = [o.minChars, o.maxChars, o.overlapChars].every((n) => Number.isSafeInteger(n));
  // overlap < min guarantees every chunk starts after the previous one: the loop always advances.
  if (
    !ints ||
    o.minChars < 1 ||
    o.maxChars < o.minChars ||
    o.overlapChars < 0 ||
    o.overlapChars >= o.minChars
  ) {
    throw new RangeError("chunk options need 0 <= overlapChars < minChars <= maxChars");
  }
}

/** The strength of the break that follows a chunk ending at `end` (t[end] is whitespace). */
function breakAfter(t: string, end: number): number {
  let newlines = 0;
  let i = end;
  while (i < t.length && isSpace(t[i])) {
    if (t[i] === "\n" || t[i] === "\f" || t[i] === "\r" || t[i] === "\u2028" || t[i] === "\u2029") {
      if (!(t[i] === "\n" && t[i - 1] === "\r")) newlines++;
    }
    i++;
  }
  if (i === t.length || newlines >= 2) return PARAGRAPH;
  if (newlines === 1) return LINE;
  return SENTENCE_END.test(t.slice(Math.max(0, end - 2), end)) ? SENTENCE : WORD;
}

/** The strength of the break before a chunk starting at `start` (t[start - 1] is whitespace). */
function breakBefore(t: string, start: number): number {
  let i = start - 1;
  let newline = false;
  while (i >= 0 && isSpace(t[i])) {
    if (t[i] === "\n" || t[i] === "\r" || t[i] === "\f" || t[i] === "\u2028" || t[i] === "\u2029")
      newline = true;
    i--;
  }
  if (i < 0 || newline) return LINE;
  return SENTENCE_END.test(t.slice(Math.max(0, i - 1), i + 1)) ? SENTENCE : WORD;
}

/** Where the chunk that starts at `start` ends, exclusive; `limit` is the end of the page's text. */
function chooseEnd(t: string, start: number, limit: number, o: ChunkOptions): number {
  const from = start + o.minChars;
  const to = Math.min(start + o.maxChars, limit);
  let best = -1;
  let bestStrength = -1;
  for (let end = from; end <= to; end++) {
    if (isSpace(t[end - 1]) || !(end === limit || isSpace(t[end]))) continue;
    const strength = breakAfter(t, end);
    // Strongest break wins; among equals the later one, so chunks come out as large as allowed.
    if (strength >= bestStrength) {
      best = end;
      bestStrength = strength;
    }
  }
  if (best !== -1) return best;
  // One token longer than the window: cut it, but never between the halves of a surrogate pair.
  let cut = to;
  const code = t.charCodeAt(cut - 1);
  if (code >= 0xd800 && code <= 0xdbff && cut - 1 > start) cut -= 1;
  while (cut - 1 > start && isSpace(t[cut - 1])) cut--;
  return cut;
}

/** Where the chunk after [start, end) starts: inside the overlap window, on the strongest start. */
function chooseNextStart(t: string, start: number, end: number, o: ChunkOptions): number {
  let best = -1;
  let bestStrength = -1;
  for (let p = Math.max(start + 1, end - o.overlapChars); p < end; p++) {
    if (isSpace(t[p]) || !isSpace(t[p - 1])) continue;
    const strength = breakBefore(t, p);
    // Strongest start wins; among equals the earliest, for the most overlap within the window.
    if (strength > bestStrength) {
      best = p;
      bestStrength = strength;
    }
  }
  if (best !== -1) return best;
  let next = end;
  while (next < t.length && isSpace(t[next])) next++;
  return next;
}

export function chunkPages(
  pages: readonly ChunkablePage[],
  options: Partial<ChunkOptions> = {},
): TextChunk[] {
  const o: ChunkOptions = { ...DEFAULT_CHUNK_OPTIONS, ...options };
  assertOptions(o);
  const chunks: TextChunk[] = [];
  for (const page of pages) {
    const t = page.text;
    let limit = t.length;
    while (limit > 0 && isSpace(t[limit - 1])) limit--;
    let start = 0;
    while (start < limit && isSpace(t[start])) start++;
    while (start < limit) {
      const end = limit - start <= o.maxChars ? limit : chooseEnd(t, start, limit, o);
      chunks.push({
        ordinal: chunks.length,
        page: page.pageNumber,
        charStart: start,
        charEnd: end,
        text: t.slice(start, end),
      });
      if (end >= limit) break;
      start = chooseNextStart(t, start, end, o);
    }
  }
  return chunks;
}
