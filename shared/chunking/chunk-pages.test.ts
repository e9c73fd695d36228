import { describe, expect, it } from "vitest";
import { type ChunkablePage, chunkPages, DEFAULT_CHUNK_OPTIONS, type TextChunk } from "./chunk-pages";

/** Deterministic filler prose: numbered sentences of varying length, no real patient. */
function sentences(count: number, seed = 1): string[] {
  const words = [
    "glucose",
    "stable",
    "patient",
    "reports",
    "mild",
    "fatigue",
    "follow",
    "review",
    "renal",
    "panel",
  ];
  const out: string[] = [];
  let x = seed;
  for (let i = 0; i < count; i++) {
    const n = 6 + (i % 9);
    const parts: string[] = [];
    for (let j = 0; j < n; j++) {
      x = (x * 1103515245 + 12345) % 2147483648;
      parts.push(words[x % words.length]!);
    }
    out.push(`Sentence ${i + 1} ${parts.join(" ")}.`);
  }
  return out;
}

/** The invariants every chunking must keep, whatever the input. */
function checkInvariants(pages: readonly ChunkablePage[], chunks: readonly TextChunk[], max = 1500) {
  const byNumber = new Map(pages.map((p) => [p.pageNumber, p.text]));
  chunks.forEach((c, i) => {
    expect(c.ordinal).toBe(i);
    const text = byNumber.get(c.page)!;
    expect(text.slice(c.charStart, c.charEnd)).toBe(c.text);
    expect(c.text.length).toBeGreaterThan(0);
    expect(c.text.length).toBeLessThanOrEqual(max);
    expect(c.text).toBe(c.text.trim());
  });
  // Chunks of one page advance, and together cover every non-space character of it.
  for (const page of pages) {
    const own = chunks.filter((c) => c.page === page.pageNumber);
    for (let i = 1; i < own.length; i++) {
      expect(own[i]!.charStart).toBeGreaterThan(own[i - 1]!.charStart);
      expect(own[i]!.charEnd).toBeGreaterThan(own[i - 1]!.charEnd);
    }
    const covered = new Array<boolean>(page.text.length).fill(false);
    for (const c of own) for (let k = c.charStart; k < c.charEnd; k++) covered[k] = true;
    for (let k = 0; k < page.text.length; k++) {
      if (!/\s/.test(page.text[k]!)) expect(covered[k]).toBe(true);
    }
  }
}

const isWordChar = (c: string | undefined) => c !== undefined && /[\p{L}\p{N}]/u.test(c);

describe("chunkPages", () => {
  it("keeps a short page whole, trimmed, with offsets into the page", () => {
    const pages = [{ pageNumber: 1, text: "\n  Glucose 105 mg/dL 70-99 H\nSodium 139 mmol/L\n\n" }];
    const chunks = chunkPages(pages);
    expect(chunks).toEqual([
      {
        ordinal: 0,
        page: 1,
        charStart: 3,
        charEnd: 46,
        text: "Glucose 105 mg/dL 70-99 H\nSodium 139 mmol/L",
      },
    ]);
    checkInvariants(pages, chunks);
  });

  it("skips empty and whitespace-only pages but keeps page numbers of the others", () => {
    const pages = [
      { pageNumber: 1, text: "" },
      { pageNumber: 2, text: " \n\t \f" },
      { pageNumber: 3, text: "Impression: no acute process." },
    ];
    expect(chunkPages(pages)).toEqual([
      { ordinal: 0, page: 3, charStart: 0, charEnd: 29, text: "Impression: no acute process." },
    ]);
    expect(chunkPages([])).toEqual([]);
  });

  it("splits long prose on sentence boundaries into 1,000-1,500 character chunks with ~150 of overlap", () => {
    const text = sentences(120).join(" ");
    const pages = [{ pageNumber: 1, text }];
    const chunks = chunkPages(pages);
    expect(chunks.length).toBeGreaterThan(4);
    checkInvariants(pages, chunks);
    chunks.forEach((c, i) => {
      // Every chunk but the last is within the target; each ends at a sentence end.
      if (i < chunks.length - 1) {
        expect(c.text.length).toBeGreaterThanOrEqual(1000);
        expect(c.text.endsWith(".")).toBe(true);
      }
      // Each starts at a sentence start (the first character of "Sentence N").
      expect(c.text.startsWith("Sentence ")).toBe(true);
      if (i > 0) {
        const overlap = chunks[i - 1]!.charEnd - c.charStart;
        expect(overlap).toBeGreaterThan(0);
        expect(overlap).toBeLessThanOrEqual(DEFAULT_CHUNK_OPTIONS.overlapChars);
      }
    });
  });

  it("prefers line breaks, and paragraph breaks over lines, to sentence ends", () => {
    // Lab-report-like lines: no sentence punctuation at all.
    const rows = Array.from({ length: 80 }, (_, i) => `Test ${i + 1}   ${100 + i} mg/dL   70-${120 + i}`);
    const lines = { pageNumber: 1, text: rows.join("\n") };
    const lineChunks = chunkPages([lines]);
    checkInvariants([lines], lineChunks);
    for (const c of lineChunks) {
      expect(c.charStart === 0 || lines.text[c.charStart - 1] === "\n").toBe(true);
      expect(c.charEnd === lines.text.length || lines.text[c.charEnd] === "\n").toBe(true);
    }

    // A paragraph break inside the window wins over later line breaks.
    const para = `${"A line of text here.\n".repeat(55)}\n${"Another paragraph line.\n".repeat(40)}`;
    const paraPage = { pageNumber: 1, text: para };
    const paraChunks = chunkPages([paraPage]);
    checkInvariants([paraPage], paraChunks);
    expect(paraChunks[0]!.charEnd).toBe(para.indexOf("\n\n"));
  });

  it("never cuts a word when words are available, and cuts a huge token only at the maximum", () => {
    const words = Array.from({ length: 600 }, (_, i) => `w${i}abc`).join(" ");
    const page = { pageNumber: 1, text: words };
    const chunks = chunkPages([page]);
    checkInvariants([page], chunks);
    for (const c of chunks) {
      expect(isWordChar(page.text[c.charStart - 1])).toBe(false);
      expect(isWordChar(page.text[c.charEnd])).toBe(false);
    }

    const token = "X".repeat(4000);
    const huge = { pageNumber: 2, text: `before ${token} after` };
    const hugeChunks = chunkPages([huge]);
    checkInvariants([huge], hugeChunks);
    // The token is cut at the maximum, continues without overlap (no word start to overlap to).
    expect(hugeChunks.map((c) => c.text.length)).toEqual([1500, 1500, 1013]);
    expect(hugeChunks.map((c) => c.charStart)).toEqual([0, 1500, 3000]);
  });

  it("does not split a surrogate pair when cutting a huge token", () => {
    const emoji = "\u{1F600}".repeat(1000); // 2,000 UTF-16 code units, no spaces
    const page = { pageNumber: 1, text: `a${emoji}` };
    const chunks = chunkPages([page]);
    checkInvariants([page], chunks);
    expect(chunks[0]!.text.length).toBe(1499);
    const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
    for (const c of chunks) expect(loneSurrogate.test(c.text)).toBe(false);
  });

  it("never lets a chunk span pages, and numbers chunks across the document", () => {
    const pages = [
      { pageNumber: 1, text: sentences(30).join(" ") },
      { pageNumber: 2, text: "Page two is short." },
      { pageNumber: 3, text: sentences(30, 7).join("\n") },
    ];
    const chunks = chunkPages(pages);
    checkInvariants(pages, chunks);
    expect(new Set(chunks.map((c) => c.page))).toEqual(new Set([1, 2, 3]));
    expect(chunks.find((c) => c.page === 2)).toMatchObject({ charStart: 0, charEnd: 18 });
  });

  it("honours other sizes, including no overlap", () => {
    const page = { pageNumber: 1, text: sentences(60).join(" ") };
    const small = chunkPages([page], { minChars: 200, maxChars: 300, overlapChars: 0 });
    checkInvariants([page], small, 300);
    for (let i = 1; i < small.length; i++)
      expect(small[i]!.charStart).toBeGreaterThanOrEqual(small[i - 1]!.charEnd);
  });

  it("refuses options that could not make progress", () => {
    const page = [{ pageNumber: 1, text: "x" }];
    expect(() => chunkPages(page, { minChars: 100, maxChars: 50 })).toThrow(RangeError);
    expect(() => chunkPages(page, { minChars: 100, overlapChars: 100 })).toThrow(RangeError);
    expect(() => chunkPages(page, { minChars: 0 })).toThrow(RangeError);
    expect(() => chunkPages(page, { overlapChars: -1 })).toThrow(RangeError);
    expect(() => chunkPages(page, { maxChars: 1.5e3 + 0.5 })).toThrow(RangeError);
  });
});
