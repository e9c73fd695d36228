/**
 * Reading order from geometry (issue 11): two columns that share baselines are read one after
 * the other, with full-width lines (a title, a paragraph) in place; tables, forms and value
 * columns are not mistaken for columns. Items are built as pdf.js reports them: position of the
 * baseline start and width, 5 units per character (Helvetica 10 pt on average).
 */
import { describe, expect, it } from "vitest";
import { layoutLines, type PositionedItem } from "./layout-page-text";

const CHAR = 5;
const item = (str: string, x: number, y: number): PositionedItem => ({
  str,
  x,
  y,
  width: str.length * CHAR,
  height: 10,
});
/** Lines of one column from the top, 13 units apart. */
const column = (x: number, top: number, lines: readonly string[]) =>
  lines.map((l, i) => item(l, x, top - i * 13)).filter((i) => i.str !== "");

describe("layoutLines: columns", () => {
  const left = ["MEDICATIONS", "Metformin 500 mg BD", "Ramipril 5 mg OD", "", "PROBLEMS", "Asthma", "Gout"];
  const right = [
    "ALLERGIES",
    "Penicillin - rash",
    "Latex (hives)",
    "",
    "PLAN",
    "Review in three months",
    "Bloods in two weeks",
  ];

  it("reads the left column, then the right, when their lines share baselines", () => {
    const text = layoutLines([...column(50, 700, left), ...column(320, 700, right)]);
    const lines = text.split("\n");
    expect(lines).toEqual([...left, "", ...right]);
  });

  it("keeps a full-width title above and a paragraph's short last line with it", () => {
    const title = item(
      "OUTPATIENT CLINIC LETTER - RIVERSIDE HOSPITAL DIABETES AND ENDOCRINE CENTRE",
      50,
      760,
    );
    const para1 = item(
      "I reviewed this patient today. She denies chest pain; however she has known type 2",
      50,
      740,
    );
    const para2 = item("diabetes mellitus.", 50, 727);
    const text = layoutLines([title, para1, para2, ...column(50, 700, left), ...column(320, 700, right)]);
    const lines = text.split("\n");
    expect(lines[0]).toBe(title.str);
    expect(lines.slice(1, 3)).toEqual([para1.str, para2.str]);
    expect(lines.indexOf("Gout")).toBeLessThan(lines.indexOf("ALLERGIES"));
    expect(text).not.toMatch(/Metformin 500 mg BD\s+Penicillin/);
  });
});

describe("layoutLines: what is not two columns", () => {
  it("keeps a results table's rows whole (values right of the names)", () => {
    const rows = [
      ["Glucose", "105", "H", "mg/dL", "70-99"],
      ["Potassium", "4.1", "", "mmol/L", "3.5-5.1"],
      ["Sodium", "140", "", "mmol/L", "135-145"],
      ["Creatinine", "1.1", "", "mg/dL", "0.6-1.3"],
      ["ALT", "68", "H", "U/L", "7-56"],
    ];
    const xs = [50, 250, 300, 340, 420];
    const items = rows.flatMap((cells, r) =>
      cells.map((c, k) => item(c, xs[k]!, 700 - r * 13)).filter((i) => i.str),
    );
    const lines = layoutLines(items).split("\n");
    expect(lines).toHaveLength(rows.length);
    expect(lines[0]).toMatch(/^Glucose\s{2,}105\s{2,}H\s{2,}mg\/dL\s{2,}70-99$/);
  });

  it("keeps a table whose right half is units and ranges (gaps inside both halves)", () => {
    const rows = ["Cholesterol", "Triglycerides", "HDL Cholesterol", "LDL Cholesterol", "Non-HDL"];
    const items = rows.flatMap((name, r) => [
      item(name, 50, 700 - r * 13),
      item(String(150 + r), 200, 700 - r * 13),
      item("mg/dL", 330, 700 - r * 13),
      item(`<${200 - r * 10}`, 420, 700 - r * 13),
    ]);
    const lines = layoutLines(items).split("\n");
    expect(lines).toHaveLength(rows.length);
    expect(lines[2]).toMatch(/^HDL Cholesterol\s+152\s+mg\/dL\s+<180$/);
  });

  it("keeps a banner of labels and values together", () => {
    const labels = ["Patient:", "DOB:", "MRN:", "Collected:", "Ordering:"];
    const values = [
      "TESTPATIENT, SYNTHETIC",
      "01/02/1960",
      "QV-0029-5508",
      "06/20/2023 07:42",
      "Aurelio Vance, MD",
    ];
    const items = labels.flatMap((l, r) => [item(l, 50, 700 - r * 13), item(values[r]!, 320, 700 - r * 13)]);
    const lines = layoutLines(items).split("\n");
    expect(lines).toHaveLength(labels.length);
    expect(lines[3]).toMatch(/^Collected:\s+06\/20\/2023 07:42$/);
  });

  it("reads a one-column page line by line", () => {
    const lines = ["Clinic note", "She is well.", "Plan: review in one year.", "Signed", "Dr Marsh"];
    expect(layoutLines(column(50, 700, lines))).toBe(lines.join("\n"));
  });
});

describe("layoutLines: one character grid per block", () => {
  it("puts a table's cells under their titles, an empty first cell and proportional widths included", () => {
    // A cumulative table whose title row has no name cell; names in capitals run wider than the grid.
    const rows = [
      [null, "Units", "Range", "12/01/2024", "03/02/2024"],
      ["POTASSIUM", "mmol/L", "3.5-5.1", "4.1", "5.6"],
      ["Na", "mmol/L", "135-145", "139", "141"],
    ] as const;
    const xs = [40, 120, 180, 250, 320];
    const items = rows.flatMap((cells, r) =>
      cells.flatMap((cell, c) =>
        cell === null
          ? []
          : [
              {
                ...item(cell, xs[c]!, 700 - r * 13),
                width: cell.length * (/^[A-Z]+$/.test(cell) ? 7.2 : CHAR),
              },
            ],
      ),
    );
    const lines = layoutLines(items).split("\n");
    const at = (line: string, s: string) => line.indexOf(s);
    expect(at(lines[1]!, "mmol/L")).toBe(at(lines[0]!, "Units"));
    expect(at(lines[2]!, "mmol/L")).toBe(at(lines[0]!, "Units"));
    expect(at(lines[1]!, "4.1")).toBe(at(lines[0]!, "12/01/2024"));
    expect(at(lines[2]!, "141")).toBe(at(lines[0]!, "03/02/2024"));
  });
});
