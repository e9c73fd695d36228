/**
 * Word boxes of a scan through the layout engine (issue 11): Tesseract's TSV rows as it writes
 * them (level, page, block, paragraph, line, word, left, top, width, height, confidence, text).
 */
import { describe, expect, it } from "vitest";
import { layoutOcrWords, parseTesseractTsv } from "./layout-ocr-words";

type Word = [
  line: number,
  left: number,
  top: number,
  width: number,
  text: string,
  conf?: number,
  height?: number,
];
const tsv = (words: readonly Word[]) =>
  [
    "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext",
    "4\t1\t1\t1\t1\t0\t0\t0\t900\t30\t-1\t",
    ...words.map(
      ([line, left, top, width, text, conf = 95, height = 30], i) =>
        `5\t1\t1\t1\t${line}\t${i + 1}\t${left}\t${top}\t${width}\t${height}\t${conf}\t${text}`,
    ),
  ].join("\n");

describe("parseTesseractTsv", () => {
  it("keeps word rows with their boxes, confidence and line", () => {
    const words = parseTesseractTsv(tsv([[1, 10, 20, 80, "Sodium", 91]]));
    expect(words).toEqual([
      { text: "Sodium", left: 10, top: 20, width: 80, height: 30, confidence: 91, line: "1.1.1" },
    ]);
    expect(parseTesseractTsv("")).toEqual([]);
  });
});

describe("layoutOcrWords", () => {
  it("puts a scanned table's cells under their titles, an empty title cell included", () => {
    const text = layoutOcrWords(
      parseTesseractTsv(
        tsv([
          [1, 300, 100, 70, "Units"],
          [1, 500, 100, 120, "12/01/2024"],
          [2, 40, 140, 130, "POTASSIUM"],
          [2, 300, 140, 90, "mmol/L"],
          [2, 500, 140, 40, "4.1"],
          [3, 40, 180, 40, "Na"],
          [3, 300, 180, 90, "mmol/L"],
          [3, 500, 180, 40, "139"],
        ]),
      ),
    )!;
    const lines = text.split("\n");
    expect(lines[1]!.indexOf("mmol/L")).toBe(lines[0]!.indexOf("Units"));
    expect(lines[2]!.indexOf("139")).toBe(lines[0]!.indexOf("12/01/2024"));
  });

  it("levels a skewed page: a line's words stay one line, the margin stays straight", () => {
    // One degree: each line falls 1.75 px per 100 px across the page.
    const skew = 0.0175;
    const line = (n: number, words: [number, string][]) =>
      words.map(([left, text]) => [n, left, 100 + n * 45 + left * skew, text.length * 18, text] as Word);
    const text = layoutOcrWords(
      parseTesseractTsv(
        tsv([
          ...line(1, [
            [40, "Sodium"],
            [600, "139"],
            [900, "mmol/L"],
            [1300, "133-146"],
          ]),
          ...line(2, [
            [40, "Potassium"],
            [600, "4.1"],
            [900, "mmol/L"],
            [1300, "3.5-5.3"],
          ]),
        ]),
      ),
    )!;
    const lines = text.split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[0]!.startsWith("Sodium")).toBe(true);
    expect(lines[1]!.startsWith("Potassium")).toBe(true);
    expect(lines[1]!.indexOf("mmol/L")).toBe(lines[0]!.indexOf("mmol/L"));
  });

  it("drops specks (tiny boxes, punctuation standing apart) and keeps real words read with low confidence", () => {
    const text = layoutOcrWords(
      parseTesseractTsv(
        tsv([
          [1, 40, 100, 60, "Platelet", 97],
          [1, 130, 100, 50, "count", 87],
          [1, 300, 100, 40, "392", 39],
          [1, 700, 100, 4, ":", 80, 3],
          [1, 1500, 100, 8, ";", 90],
          [1, 1300, 108, 30, "fg", 23, 8],
          [1, 420, 100, 6, "-", 20],
        ]),
      ),
    )!;
    expect(text.replace(/\s+/g, " ")).toBe("Platelet count 392");
  });

  it("drops a one- or two-letter word read with almost no confidence far from every word, keeps a confident one", () => {
    const text = layoutOcrWords(
      parseTesseractTsv(
        tsv([
          [1, 40, 100, 90, "Safety", 96],
          [1, 140, 100, 100, "netting", 96],
          [1, 1700, 104, 70, "oe", 10, 13],
          [2, 40, 140, 90, "Sodium", 96],
          [2, 300, 140, 40, "139", 90],
          [2, 700, 140, 14, "H", 88],
          [3, 40, 180, 90, "Urea", 96],
          [3, 300, 180, 14, "5", 12],
          [3, 1500, 180, 111, "0", 0, 35],
        ]),
      ),
    )!;
    const lines = text.split("\n").map((l) => l.replace(/\s+/g, " ").trim());
    // The stray "oe" and the wide smudge read as "0" go; the flag "H" in its own column and a
    // number read with low confidence in its cell stay (a number is never dropped for its
    // confidence: the plausibility check marks it instead).
    expect(lines).toEqual(["Safety netting", "Sodium 139 H", "Urea 5"]);
  });

  it("finds blank lines from the line pitch, whatever the letters (and blur) of a one-word heading", () => {
    // Body lines every 44 px with boxes 26-27 px tall; a blank line before "Driving", whose box
    // (a capital and a descender, blurred) is 42 px tall, and before "Background".
    const words: Word[] = [
      [1, 40, 100, 200, "No known drug", 95, 27],
      [2, 40, 144, 200, "allergies recorded", 95, 27],
      [3, 40, 215, 101, "Driving", 95, 42],
      [4, 40, 274, 200, "She may continue", 95, 26],
      [5, 40, 318, 200, "to drive", 95, 26],
      [6, 40, 405, 170, "Background", 95, 34],
      [7, 40, 454, 80, "Gout", 95, 26],
      [8, 40, 498, 80, "Asthma", 95, 26],
    ];
    const text = layoutOcrWords(parseTesseractTsv(tsv(words)))!;
    expect(text.split("\n").map((l) => l.trim())).toEqual([
      "No known drug",
      "allergies recorded",
      "",
      "Driving",
      "She may continue",
      "to drive",
      "",
      "Background",
      "Gout",
      "Asthma",
    ]);
  });

  it("keeps words apart whose boxes touch, and strips a speck read as a quote before a word", () => {
    expect(
      layoutOcrWords(
        parseTesseractTsv(
          tsv([
            [1, 40, 100, 121, "“Vitamin", 40],
            [1, 150, 100, 24, "D,", 0],
          ]),
        ),
      ),
    ).toBe("Vitamin D,");
  });

  it("gives null when no words are left", () => {
    expect(layoutOcrWords([])).toBeNull();
  });
});
