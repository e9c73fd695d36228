/**
 * Lab results from result tables, result lists, cumulative tables (one column per collection date)
 * and attached result pages. Values quoted in narrative sections are deliberately skipped: they
 * repeat results reported elsewhere and carry no reference range.
 */
import { convertLabUnit } from "./convert-lab-unit";
import type { DocLine, SectionKind } from "./document-lines";
import { chooseLabTest } from "./lookup-lab-test";
import { type DateOrder, findDates } from "./parse-clinical-date";
import {
  type LabFlag,
  type ParsedLabRow,
  type ParsedRange,
  type ParsedValue,
  parseLabRow,
} from "./parse-lab-row";
import type { LabResult } from "./schema";
import type { LabTestDef } from "./terminology/lab-tests";

/** List sections whose lines are never results (doses and vital signs look like "name number unit"). */
const LIST_SECTIONS: ReadonlySet<SectionKind> = new Set(["medications", "allergies", "vitals"]);

/** Narrative sections where a "name value" pattern is usually prose, not a result. */
const SKIP_SECTIONS: ReadonlySet<SectionKind> = new Set([
  "medications",
  "allergies",
  "vitals",
  "hpi",
  "chief_complaint",
  "hospital_course",
  "family_history",
  "social_history",
  "ros",
  "exam",
  "problems",
  "pmh",
  "assessment_plan",
  "plan",
  "indication",
]);

interface DateColumn {
  readonly iso: string;
  readonly center: number;
  readonly start: number;
}

/** A cumulative table's header: its date columns, and where unit and range columns sit before them. */
interface DateColumns {
  readonly dates: DateColumn[];
  /** Start of the first unit/range column title when it comes before the dates, else null. */
  readonly unitsAt: number | null;
}

export interface ExtractLabOptions {
  /** Collection date of the document (lab reports) used when a row has no date of its own. */
  readonly defaultDate: string | null;
  /** How the document writes slashed dates (parse-clinical-date detectDateOrder); null: US order. */
  readonly dateOrder?: DateOrder | null;
}

export function extractLabResults(lines: readonly DocLine[], options: ExtractLabOptions): LabResult[] {
  const out: LabResult[] = [];
  let urineContext = false;
  let dateColumns: DateColumns | null = null;
  let lastPage = -1;
  for (const [index, line] of lines.entries()) {
    if (line.page !== lastPage) {
      lastPage = line.page;
      dateColumns = null;
      urineContext = false;
    }
    if (LIST_SECTIONS.has(line.section)) continue;
    const text = line.text;
    if (text.trim() === "") continue;
    const ocr = line.source === "ocr";
    // Units and ranges printed before the dated values ("Sodium  mmol/L  133-146  139  141"):
    // under such a header the row is read with those columns moved after the values, positions
    // of the values kept; otherwise (or when that fails) as a row of its own.
    let row = dateColumns?.unitsAt != null ? parseUnitsFirstRow(text, dateColumns, ocr) : null;
    row ??= parseLabRow(text, { ocr, allowMultipleValues: dateColumns !== null });
    // A name cell that wrapped onto the lines below ("Alanine" / "aminotransferase").
    let wrappedName: string | null = null;
    if (!row) {
      const wrapped = parseWrappedNameRow(lines, index, { ocr, allowMultipleValues: dateColumns !== null });
      if (wrapped) ({ row, name: wrappedName } = wrapped);
    }
    // In narrative sections only full table rows (unit and reference range) count: prose quotes
    // values ("creatinine 2.84 mg/dL on admission") but does not print reference ranges.
    if (row && SKIP_SECTIONS.has(line.section) && !(row.unit && row.range && row.range.kind !== "qual"))
      row = null;
    if (!row) {
      if (SKIP_SECTIONS.has(line.section)) continue;
      const columns = readDateColumns(text, options.dateOrder ?? null, ocr);
      if (columns) dateColumns = columns;
      else if (isColumnHeader(text)) dateColumns = null;
      else if (isPanelHeader(text) && !isColumnHeader(text)) {
        urineContext = /urin|\bUA\b|dipstick|pregnan/i.test(text);
      }
      continue;
    }
    const values = row.values;
    const qualitative = values[0]!.qualitative || typeof values[0]!.value === "string";
    const test = chooseLabTest(row.name.candidates, {
      context: { urine: urineContext || /urin/i.test(text.slice(row.nameStart, row.name.end)) },
      qualitative: values[0]!.qualitative,
      ucum: row.unit?.ucum ?? null,
    });
    if (!test) continue;
    // "name number" without unit, range or flag is accepted only for unitless tests (pH, SG).
    if (!qualitative && !row.unit && !row.range && !values[0]!.flag && !row.trailingFlag && test.unit !== "")
      continue;
    let printedName = wrappedName ?? text.slice(row.nameStart, row.name.end).replace(/[\s,:]+$/, "");
    // Close a parenthesis the name opened ("LDL Cholesterol (calc)").
    if (
      (printedName.match(/\(/g) ?? []).length > (printedName.match(/\)/g) ?? []).length &&
      text[row.name.end] === ")"
    ) {
      printedName += ")";
    }
    const assigned = assignDates(values, dateColumns?.dates ?? null, options.defaultDate);
    const places = ocr ? decimalPlacesOf(values, text) : null;
    for (const { value, date } of assigned) {
      const result = buildResult(test, printedName, value, row, date, line, ocr, places);
      if (ocr && isGarbledOcrValue(result)) continue;
      out.push(result);
    }
  }
  return out;
}

function buildResult(
  test: LabTestDef,
  printedName: string,
  v: ParsedValue,
  row: ParsedLabRow,
  observedAt: string | null,
  line: DocLine,
  ocr: boolean,
  /** The decimal places the row's values are printed with (OCR rows; null when none has any). */
  places: RowPrecision | null,
): LabResult {
  let numeric = v.numeric;
  let restored = false;
  if (ocr && numeric !== null) {
    const printed = line.text.slice(v.start, v.end);
    let repaired = row.range ? repairDroppedDecimal(numeric, printed, row.range) : numeric;
    if (repaired === numeric) repaired = repairDecimalFromSiblings(numeric, printed, places);
    restored = repaired !== numeric;
    numeric = repaired;
  }
  const printedUnit = row.unit?.printed ?? null;
  const norm = convertLabUnit(test, numeric, printedUnit);
  const ref = rangeBounds(row.range);
  const flag = decideFlag(v, row, numeric, row.range);
  return {
    name: printedName,
    loinc: test.loinc,
    value: numeric ?? v.value,
    unit: printedUnit,
    unit_ucum: norm.unitUcum,
    value_normalized: norm.value,
    unit_normalized: norm.unit,
    ref_low: ref.low,
    ref_high: ref.high,
    ref_text: row.range?.text ?? null,
    flag,
    // The decimal point was put back from the range: likely right, but a person checks it.
    ...(restored ? { review: ["decimal_restored" as const] } : {}),
    observed_at: observedAt,
    provenance: {
      page: line.page,
      start: line.start + row.nameStart,
      end: line.start + Math.max(row.end, v.end),
    },
  };
}

function rangeBounds(range: ParsedRange | null): { low: number | null; high: number | null } {
  if (range?.kind !== "-") return { low: null, high: null };
  return { low: range.low, high: range.high };
}

/**
 * H/L/N against the printed range. A printed H or L wins; qualitative rows get null (their
 * "abnormal" is not a direction); numeric rows without a range get the printed flag or null.
 */
function decideFlag(
  v: ParsedValue,
  row: ParsedLabRow,
  numeric: number | null,
  range: ParsedRange | null,
): "H" | "L" | "N" | null {
  const printed: LabFlag | null = v.flag ?? row.trailingFlag;
  if (numeric === null) return null;
  if (printed === "H" || printed === "L") return printed;
  if (!range) return printed === "N" ? "N" : null;
  const bound = Number(range.text.replace(/^[^\d.-]*/, "").replace(/[^\d.]+$/, ""));
  switch (range.kind) {
    case "-":
      if (range.low !== null && numeric < range.low) return "L";
      if (range.high !== null && numeric > range.high) return "H";
      return "N";
    case "<":
      return Number.isFinite(bound) && numeric >= bound ? "H" : "N";
    case "<=":
      return Number.isFinite(bound) && numeric > bound ? "H" : "N";
    case ">":
      return Number.isFinite(bound) && numeric <= bound ? "L" : "N";
    case ">=":
      return Number.isFinite(bound) && numeric < bound ? "L" : "N";
    default:
      return null;
  }
}

/**
 * OCR often loses a decimal point ("3.9" read as "39"). When the printed range has decimals, the
 * value has none and lies far outside the range, the decimal is restored if that lands it near the range.
 */
function repairDroppedDecimal(value: number, printed: string, range: ParsedRange): number {
  if (range.kind !== "-" || range.low === null || range.high === null || range.low <= 0) return value;
  if (printed.includes(".") || !range.text.includes(".")) return value;
  if (value <= range.high * 5) return value;
  for (const div of [10, 100, 1000]) {
    const candidate = value / div;
    if (candidate >= range.low / 3 && candidate <= range.high * 3) return candidate;
  }
  return value;
}

/** How a cumulative row prints its values: the most decimal places seen, and those values. */
interface RowPrecision {
  readonly places: number;
  readonly withPlaces: readonly number[];
}

function decimalPlacesOf(values: readonly ParsedValue[], text: string): RowPrecision | null {
  let places = 0;
  const withPlaces: number[] = [];
  for (const v of values) {
    if (v.numeric === null) continue;
    const d = /\.(\d+)/.exec(text.slice(v.start, v.end))?.[1]?.length ?? 0;
    if (d > places) {
      places = d;
      withPlaces.length = 0;
    }
    if (d === places && d > 0) withPlaces.push(v.numeric);
  }
  return places > 0 ? { places, withPlaces } : null;
}

/**
 * A laboratory prints every result of one test with the same decimal places, so in a cumulative
 * row a value printed without the point its neighbours have ("15.9  12.7  168") lost it on the
 * scan, when it is far from them and putting the point back brings it among them. Rows whose
 * values are rightly of different magnitudes (CRP 3 then 120) have no decimals to compare, or
 * stay within the factor.
 */
const SIBLING_MAGNITUDE = 3;

function repairDecimalFromSiblings(value: number, printed: string, row: RowPrecision | null): number {
  if (!row || printed.includes(".") || value <= 0) return value;
  const low = Math.min(...row.withPlaces) / SIBLING_MAGNITUDE;
  const high = Math.max(...row.withPlaces) * SIBLING_MAGNITUDE;
  if (value >= low && value <= high) return value;
  const candidate = value / 10 ** row.places;
  return candidate >= low && candidate <= high ? candidate : value;
}

/**
 * How far above the upper reference limit a scanned value may lie before it is taken for merged or
 * misread glyphs ("1.92" read as "175925") rather than a result. Real extremes stay well below it
 * (CRP 300 mg/L against 5 is 60x, lipase 3000 U/L against 60 is 50x, ferritin 10000 against 300 is
 * ~33x); dropping the row keeps a wrong number out of the record.
 */
const MAX_OCR_RATIO_TO_RANGE = 1000;

function isGarbledOcrValue(result: LabResult): boolean {
  const v = typeof result.value === "number" ? result.value : null;
  if (v === null || result.ref_high === null || result.ref_high <= 0) return false;
  return v > result.ref_high * MAX_OCR_RATIO_TO_RANGE;
}

function assignDates(
  values: readonly ParsedValue[],
  columns: readonly DateColumn[] | null,
  fallback: string | null,
): { value: ParsedValue; date: string | null }[] {
  if (!columns || columns.length === 0) return [{ value: values[0]!, date: fallback }];
  if (values.length === columns.length) return values.map((value, i) => ({ value, date: columns[i]!.iso }));
  // Fewer values than dates (blank cells): nearest column by horizontal position.
  return values.map((value) => {
    const center = (value.start + value.end) / 2;
    let best = columns[0]!;
    for (const c of columns) if (Math.abs(c.center - center) < Math.abs(best.center - center)) best = c;
    return { value, date: best.iso };
  });
}

const COLUMN_WORDS = new Set([
  "test",
  "tests",
  "analyte",
  "component",
  "result",
  "results",
  "units",
  "unit",
  "range",
  "reference",
  "ref",
  "flag",
  "flags",
  "normal",
  "name",
  "lab",
  "value",
  "values",
  "interval",
  "date",
  "dates",
  "latest",
  "prior",
  "previous",
  "current",
  "trend",
  "and",
  "investigation",
  "parameter",
  "am",
  "pm",
]);

/**
 * A row of a cumulative table whose unit and range columns come before the dates: the same row
 * with the unit-and-range cells blanked in place and appended after the values, so the usual row
 * parser reads it and every value keeps its position under its date. Provenance ends on the
 * row as printed.
 */
function parseUnitsFirstRow(text: string, columns: DateColumns, ocr: boolean): ParsedLabRow | null {
  const firstDate = columns.dates[0]?.start ?? -1;
  if (columns.unitsAt === null || firstDate <= columns.unitsAt || text.length <= firstDate) return null;
  // The unit cell starts at the Units title, a few characters either way (a proportional font
  // laid on a character grid drifts): the first cell that starts in that window.
  let a = columns.unitsAt;
  while (a > 0 && /\S/.test(text[a - 1]!)) a--;
  for (let k = Math.max(1, columns.unitsAt - UNIT_COLUMN_DRIFT); k < a; k++)
    if (/\s/.test(text[k - 1]!) && /\S/.test(text[k]!)) {
      a = k;
      break;
    }
  let b = firstDate;
  while (b > a && /\S/.test(text[b - 1]!)) b--;
  const cells = text.slice(a, b);
  if (!/\S/.test(cells) || !/\S/.test(text.slice(b))) return null;
  const moved = (tail: string) => `${text.slice(0, a)}${" ".repeat(b - a)}${text.slice(b)}   ${tail}`;
  let row = parseLabRow(moved(cells.trim()), { ocr, allowMultipleValues: true });
  // On a scan the unit cell may be unreadable ("LAT FaS" for "U/L"): the row with its range alone.
  const range = ocr && !row ? RANGE_CELL.exec(cells)?.[0] : undefined;
  if (range) row = parseLabRow(moved(range), { ocr, allowMultipleValues: true });
  if (!row || row.values.some((v) => v.end > text.length)) return null;
  return { ...row, end: Math.min(row.end, text.length) };
}

/** A reference range cell: "3.5-5.1", "10 to 40", "<150", ">= 60". */
const RANGE_CELL = /(?:[<>]=?\s*\d[\d.]*|\d[\d.:]*\s*(?:-|–|to)\s*\d[\d.]*)/;

/** How far (characters) a unit cell may start left of its column title and still be its cell. */
const UNIT_COLUMN_DRIFT = 3;

/** Longest a wrapped name's continuation line is (a name cell is narrow, or it would not wrap). */
const MAX_NAME_CONTINUATION = 40;

/**
 * A result row whose name cell wrapped onto the next line or two, as tables with narrow name
 * columns print ("Alanine   32  U/L  7-56" over "aminotransferase"): the row read with the
 * continuation joined to its name, accepted only when the joined name as a whole is a known
 * test. Positions (values under their date columns, provenance) stay those of the printed row;
 * the continuation lines hold no values and are otherwise skipped.
 */
function parseWrappedNameRow(
  lines: readonly DocLine[],
  index: number,
  options: { ocr: boolean; allowMultipleValues: boolean },
): { row: ParsedLabRow; name: string } | null {
  const line = lines[index]!;
  // The name cell: words that each hold a letter, up to a column gap or the first number.
  const cell = /^(\s*)((?=\S*[A-Za-z])\S+(?: (?=\S*[A-Za-z])\S+)*)(?=\s{2,}|\s+[<>]?\d)/.exec(line.text);
  if (!cell || !/\d/.test(line.text.slice(cell[0].length))) return null;
  const tails: string[] = [];
  for (let j = index + 1; j <= index + 2 && j < lines.length; j++) {
    const next = lines[j]!;
    const t = next.text.trim();
    if (next.page !== line.page || !t || t.length > MAX_NAME_CONTINUATION || /\d|\s{2,}|:$/.test(t)) break;
    tails.push(t);
  }
  const lead = cell[1]!.length;
  for (let k = tails.length; k >= 1; k--) {
    const name = `${cell[2]} ${tails.slice(0, k).join(" ")}`;
    const shift = name.length - cell[2]!.length;
    const row = parseLabRow(cell[1] + name + line.text.slice(cell[0].length), options);
    // The whole joined name must be the name: the first value comes after it.
    if (!row || row.values[0]!.start < lead + name.length) continue;
    const back = (at: number) => Math.max(lead, at - shift);
    return {
      name,
      row: {
        ...row,
        name: { ...row.name, end: cell[0].length },
        values: row.values.map((v) => ({ ...v, start: back(v.start), end: back(v.end) })),
        end: back(row.end),
      },
    };
  }
  return null;
}

/** A cumulative-table header: two or more dates and only column words around them. */
function readDateColumns(text: string, order: DateOrder | null, ocr: boolean): DateColumns | null {
  const dates = findDates(text, order);
  if (dates.length < 2) return null;
  let rest = text;
  for (const d of [...dates].reverse()) rest = rest.slice(0, d.start) + rest.slice(d.end);
  // "Admission Date: ... Discharge Date: ..." is a banner, not a table header.
  if (/:\s*$|[A-Za-z]:/.test(rest.replace(/\d{1,2}:\d{2}/g, ""))) return null;
  const words = rest.match(/[A-Za-z]{2,}/g) ?? [];
  // On a scan one title may be unreadable ("sell" for "Ref range") beside two that are not.
  const unknown = words.filter((w) => !COLUMN_WORDS.has(w.toLowerCase())).length;
  const allowed = ocr && words.length - unknown >= 2 ? 1 : 0;
  if (words.length > 8 || unknown > allowed) return null;
  const firstDate = dates[0]!.start;
  const unitsTitle = /\b(?:units?|ref(?:erence)?|range|normal|interval)\b/i.exec(text.slice(0, firstDate));
  return {
    dates: dates.map((d) => ({ iso: d.iso, center: (d.start + d.end) / 2, start: d.start })),
    unitsAt: unitsTitle && unitsTitle.index > 0 ? unitsTitle.index : null,
  };
}

/** "Test  Result  Flag  Units  Reference Range": table column titles, not a panel name. */
function isColumnHeader(text: string): boolean {
  return (
    (text.match(/\b(?:result|units?|flag|reference|ref|range|test|analyte|component|value)\b/gi) ?? [])
      .length >= 2
  );
}

function isPanelHeader(text: string): boolean {
  const t = text.trim();
  if (t.length > 70) return false;
  const words = t.match(/[A-Za-z]{2,}/g) ?? [];
  return words.length >= 1 && words.length <= 8 && !/\d{2,}\/\d/.test(t);
}
