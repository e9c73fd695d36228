/**
 * Parse one printed result row: "<test name> <value> [flag] [unit] [reference range] [flag]".
 * The name must be a known lab test (terminology), which is what keeps prose and headers out;
 * the rest is pattern matching that tolerates column order, dot leaders and common OCR damage.
 */
import { z } from "zod";
import { type LabNameMatch, matchLabNameAt } from "./lookup-lab-test";
import { toUcum } from "./terminology/units";

export const LabFlagSchema = z.enum(["H", "L", "A", "N"]);
export type LabFlag = z.infer<typeof LabFlagSchema>;

export interface ParsedRange {
  readonly low: number | null;
  readonly high: number | null;
  /** "<" / "<=" / ">" / ">=" for open ranges, "-" for closed, "qual" for a qualitative reference. */
  readonly kind: "-" | "<" | "<=" | ">" | ">=" | "qual";
  readonly text: string;
}

export interface ParsedValue {
  /** Number, or the printed string for "<0.01", ">90" and qualitative results. */
  readonly value: number | string;
  readonly numeric: number | null;
  readonly qualitative: boolean;
  readonly start: number;
  readonly end: number;
  readonly flag: LabFlag | null;
}

export interface ParsedLabRow {
  readonly name: LabNameMatch;
  readonly nameStart: number;
  readonly values: readonly ParsedValue[];
  readonly unit: { readonly printed: string; readonly ucum: string | null } | null;
  readonly range: ParsedRange | null;
  /** Printed flag that was not attached directly to a value (e.g. after the range). */
  readonly trailingFlag: LabFlag | null;
  readonly end: number;
}

interface Tok {
  text: string;
  start: number;
  end: number;
}

const QUALITATIVE_PHRASES = [
  "not detected",
  "none detected",
  "non reactive",
  "non-reactive",
  "not seen",
  "none seen",
  "pale yellow",
  "dark yellow",
  "light yellow",
  "slightly cloudy",
  "slightly hazy",
];
const QUALITATIVE_WORDS = new Set([
  "negative",
  "neg",
  "positive",
  "pos",
  "trace",
  "detected",
  "nonreactive",
  "reactive",
  "normal",
  "abnormal",
  "clear",
  "cloudy",
  "hazy",
  "turbid",
  "yellow",
  "straw",
  "amber",
  "colorless",
  "red",
  "brown",
  "orange",
  "small",
  "moderate",
  "large",
  "few",
  "many",
  "rare",
  "occasional",
  "none",
  "present",
  "absent",
  "equivocal",
  "indeterminate",
  "nil",
  "moderate",
  "heavy",
  "light",
]);
const FLAG_WORDS: Readonly<Record<string, LabFlag>> = {
  h: "H",
  hh: "H",
  "h*": "H",
  "*h": "H",
  high: "H",
  hi: "H",
  "(h)": "H",
  "[h]": "H",
  "h!": "H",
  ch: "H",
  l: "L",
  ll: "L",
  "l*": "L",
  "*l": "L",
  low: "L",
  lo: "L",
  "(l)": "L",
  "[l]": "L",
  "l!": "L",
  cl: "L",
  a: "A",
  abn: "A",
  abnormal: "A",
  "(a)": "A",
  "[a]": "A",
  "*": "A",
  "a*": "A",
  n: "N",
  normal: "N",
};
const REF_LABELS = /^(?:ref(?:erence)?(?:\s*range)?|range|normal(?:\s*range)?|nr|rr|ref\.?)[:.]?$/i;

function tokenize(text: string, from: number): Tok[] {
  const out: Tok[] = [];
  const re = /\S+/g;
  re.lastIndex = from;
  for (let m = re.exec(text); m; m = re.exec(text))
    out.push({ text: m[0], start: m.index, end: m.index + m[0].length });
  return out;
}

/** Number as printed; OCR pages also accept the usual glyph swaps inside digit strings. */
export function parseNumber(raw: string, ocr: boolean): number | null {
  let s = raw.replace(/^[([{]+|[)\]},;:]+$/g, "");
  if (ocr) {
    if (/^\d+:\d{1,2}$/.test(s)) s = s.replace(":", ".");
    // A speck or a cell rule read as "=", a quote or an apostrophe beside the digits ("=13", "7.2"").
    // A cell rule read as a hyphen after the digits ("104-").
    s = s.replace(/^[=~'"`‘’“”]+(?=\d)/, "").replace(/(?<=\d)['"`‘’“”~-]+$/, "");
    if (/\d/.test(s) && /^[0-9OoIl.,]+$/.test(s)) s = s.replace(/[Oo]/g, "0").replace(/[Il]/g, "1");
    // Results are never printed with a bare trailing point: on a scan "9." means the digits after
    // it were lost, and reading it as 9 would report a wrong value instead of none.
    if (/^\d+\.$/.test(s)) return null;
  }
  if (/^\d{1,3}(,\d{3})+(\.\d+)?$/.test(s)) s = s.replace(/,/g, "");
  else if (/^\d+,\d{1,2}$/.test(s)) s = s.replace(",", "."); // decimal comma ("0,9")
  if (!/^-?(\d+\.?\d*|\.\d+)$/.test(s)) return null;
  const n = Number(s);
  return Number.isFinite(n) ? n : null;
}

function parseFlag(raw: string): LabFlag | null {
  const key = raw.toLowerCase().replace(/^[:;,.]+|[:;,.]+$/g, "");
  return FLAG_WORDS[key] ?? null;
}

/** Reference range from the text starting at token i; returns the range and tokens consumed. */
/**
 * `lostHyphen`: on an OCR page, where only a range can follow (after the values and unit), two
 * ascending numbers are a range whose thin hyphen the scan lost. Not among values: a cumulative
 * row's next two results would read as one.
 */
function parseRange(
  toks: Tok[],
  i: number,
  ocr: boolean,
  lostHyphen = false,
): { range: ParsedRange; used: number } | null {
  const first = toks[i];
  if (!first) return null;
  for (let n = Math.min(4, toks.length - i); n >= 1; n--) {
    const span = toks.slice(i, i + n);
    const joined = span.map((t) => t.text).join(" ");
    let s = joined.replace(/^[([]+|[)\],;]+$/g, "").trim();
    // A scan reads a hyphen as "=", a decimal point as ":" ("3:5-5.0"), the "o" of "to" as a
    // zero and loses the spaces around it ("3.0t020.0", "180t0900"), and a zero before "to" as
    // the letter ("Oto21").
    if (ocr)
      s = s
        .replace(/(\d)\s*=\s*(\d)/g, "$1-$2")
        .replace(/(\d):(\d)/g, "$1.$2")
        .replace(/^[Oo](?=\s*t[o0]\s*\d)/, "0")
        .replace(/(\d)\s*t[o0]\s*(?=\d)/gi, "$1 to ");
    s = s.replace(/(\d),(\d{1,2})(?!\d)/g, "$1.$2");
    const closed =
      /^(-?\d*\.?\d+)\s*(?:-|–|—|~|to)\s*(-?\d*\.?\d+)$/i.exec(s) ??
      (ocr && lostHyphen && n === 2 ? /^(\d*\.?\d+)\s+(\d*\.?\d+)$/.exec(s) : null);
    if (closed) {
      const low = Number(closed[1]);
      const high = Number(closed[2]);
      if (Number.isFinite(low) && Number.isFinite(high) && low <= high) {
        return { range: { low, high, kind: "-", text: joined }, used: n };
      }
    }
    const open = /^(<=|>=|≤|≥|=<|=>|<|>|less than|greater than|up to)\s*(-?\d*\.?\d+)$/i.exec(s);
    if (open) {
      const op = open[1]!.toLowerCase();
      const kind: ParsedRange["kind"] =
        op === "<=" || op === "≤" || op === "=<" || op === "up to"
          ? "<="
          : op === ">=" || op === "≥" || op === "=>"
            ? ">="
            : op === "<" || op === "less than"
              ? "<"
              : ">";
      return { range: { low: null, high: null, kind, text: joined }, used: n };
    }
  }
  const word = first.text.replace(/[,;.]+$/, "").toLowerCase();
  const two = toks[i + 1] ? `${word} ${toks[i + 1]!.text.replace(/[,;.]+$/, "").toLowerCase()}` : "";
  if (QUALITATIVE_PHRASES.includes(two)) {
    return {
      range: { low: null, high: null, kind: "qual", text: `${first.text} ${toks[i + 1]!.text}` },
      used: 2,
    };
  }
  if (QUALITATIVE_WORDS.has(word))
    return { range: { low: null, high: null, kind: "qual", text: first.text }, used: 1 };
  return null;
}

interface RawValue extends ParsedValue {
  readonly gluedFlag?: LabFlag | null;
  readonly gluedUnit?: string;
}

function parseValue(toks: Tok[], i: number, ocr: boolean): { value: RawValue; used: number } | null {
  const t = toks[i];
  if (!t) return null;
  const clean = t.text.replace(/[,;]+$/, "");
  // "<0.01", "> 90", "<=5"
  const cmp = /^(<=|>=|<|>|≤|≥)(\d*\.?\d+)$/.exec(clean);
  if (cmp) {
    return {
      value: {
        value: clean,
        numeric: null,
        qualitative: false,
        start: t.start,
        end: t.start + clean.length,
        flag: null,
      },
      used: 1,
    };
  }
  if (/^(<=|>=|<|>)$/.test(clean) && toks[i + 1] && parseNumber(toks[i + 1]!.text, ocr) !== null) {
    const next = toks[i + 1]!;
    return {
      value: {
        value: `${clean}${next.text.replace(/[,;]+$/, "")}`,
        numeric: null,
        qualitative: false,
        start: t.start,
        end: next.end,
        flag: null,
      },
      used: 2,
    };
  }
  // Flag glued to the value ("276H", "5.9*", "58L*") or unit glued to it ("5.4mmol/L").
  const glued = /^(-?\d+(?:\.\d+)?)(HH|LL|H|L|\*|A)\*?$/.exec(clean);
  if (glued) {
    return {
      value: {
        ...numberAt(glued[1]!, t.start),
        gluedFlag: parseFlag(glued[2]!),
      },
      used: 1,
    };
  }
  const withUnit = /^(-?\d+(?:\.\d+)?)([A-Za-zµμ%][^\s]*)$/.exec(clean);
  if (withUnit && toUcum(withUnit[2]!)) {
    return {
      value: {
        ...numberAt(withUnit[1]!, t.start),
        gluedUnit: withUnit[2]!,
      },
      used: 1,
    };
  }
  const n = parseNumber(clean, ocr);
  if (n !== null) {
    // A closed range glued to nothing else is not a value ("4.0-11.0" fails parseNumber already).
    return {
      value: { value: n, numeric: n, qualitative: false, start: t.start, end: t.end, flag: null },
      used: 1,
    };
  }
  const lower = clean.toLowerCase();
  const next = toks[i + 1];
  if (next) {
    const two = `${lower} ${next.text.replace(/[,;.]+$/, "").toLowerCase()}`;
    if (QUALITATIVE_PHRASES.includes(two)) {
      return {
        value: {
          value: `${clean} ${next.text.replace(/[,;.]+$/, "")}`,
          numeric: null,
          qualitative: true,
          start: t.start,
          end: next.end,
          flag: null,
        },
        used: 2,
      };
    }
  }
  if (/^(?:[1-4]\+|\+{1,4})$/.test(clean) || QUALITATIVE_WORDS.has(lower.replace(/\.$/, ""))) {
    const v = clean.replace(/\.$/, "");
    return {
      value: {
        value: v,
        numeric: null,
        qualitative: true,
        start: t.start,
        end: t.start + v.length,
        flag: null,
      },
      used: 1,
    };
  }
  return null;
}

/** Printed unit at token i (one or two tokens), with its UCUM code when known. */
function parseUnit(
  toks: Tok[],
  i: number,
  ocr: boolean,
): { printed: string; ucum: string | null; used: number } | null {
  const t = toks[i];
  if (!t) return null;
  const fix = (s: string) => {
    let u = s.replace(/[,;]+$/, "");
    if (ocr) {
      // A speck read as a full stop after the unit ("mg/dL."), a slash too thin to read ("UL").
      u = u.replace(/(?<=[A-Za-z])\.$/, "");
      u = u.replace(/^([mk]?I?U)(L)$/, "$1/$2").replace(/^([mun]?g|mmol|umol)(d?L)$/, "$1/$2");
      u = u.replace(/^x?10[7^*”"'’]?([369])\/(u[lL]|L)$/, (_m, e: string, per: string) => `x10^${e}/${per}`);
      u = u.replace(/^(x?10)7([369])\//, "$1^$2/");
    }
    return u;
  };
  const two = toks[i + 1] ? fix(`${t.text}${toks[i + 1]!.text}`) : null;
  const one = fix(t.text);
  if (two) {
    const u2 = toUcum(two);
    if (u2 && !toUcum(one))
      return { printed: `${t.text} ${toks[i + 1]!.text}`.replace(/[,;]+$/, ""), ucum: u2, used: 2 };
  }
  const u1 = toUcum(one);
  if (u1) return { printed: one, ucum: u1, used: 1 };
  // Unknown but unit-shaped ("mg/24h", "copies/mL"): letters around a slash, no digits-only parts.
  if (/^[A-Za-zµμ%^*]+[A-Za-z0-9µμ%^*.]*\/[A-Za-z0-9µμ.^*]+$/.test(one) && /[A-Za-z]/.test(one)) {
    return { printed: one, ucum: null, used: 1 };
  }
  return null;
}

export interface ParseLabRowOptions {
  readonly ocr: boolean;
  readonly allowMultipleValues: boolean;
}

/** Specimens printed before a test name, as words or as a Nordic/German prefix ("S-", "fP-", "B-"). */
const SPECIMEN_BEFORE_NAME =
  /^(?:(?:serum|plasma|whole blood|venous|capillary|arterial)\s+|(?:f?[SP]|[BSP]t?|[acv]B)-(?=[A-Za-z]))/i;
/**
 * A specimen or method written after a name with a comma or a dash ("Sodium, serum",
 * "Glucose - plasma", "LDL, calculated"); parenthesised ones are skipped with the other short
 * parenthesised qualifiers.
 */
const SPECIMEN_AFTER_NAME = String.raw`\s*(?:,|\s-)\s*(?:serum|plasma|whole blood|blood|venous|arterial|capillary|calc(?:ulated)?|direct|measured|[SPB])(?=[\s,:]|$)`;

/** What closes a name before its value: brackets, ":", "=", dot leaders, a qualifier, a specimen. */
const NAME_CLOSER = new RegExp(
  String.raw`^(?:[)\]]|\s*[:=]|\s*\.{2,}|\s*_{2,}|\s*…+|\s*\((?:[A-Za-z][A-Za-z0-9 ,./-]{0,18})\)(?=[\s:])|\s+(?:serum|plasma|blood|whole blood|ser\/plas|ser\/pl|urine)(?=\s+[\d<>])|${SPECIMEN_AFTER_NAME}|\s+-\s+(?=[\d<>A-Za-z]))`,
  "i",
);

const LEADING_JUNK = /^\s*(?:[-–—•*·+~«»¢:;|_.,'"`‘’“”]+\s*|\d{1,2}[.)]?\s+)*/;

export function parseLabRow(printed: string, options: ParseLabRowOptions): ParsedLabRow | null {
  // On a scan a lower-case "l" between capitals is a one ("AlC", "HbAlC"): no name is spelt so,
  // and reading it as a letter would turn HbA1c into ALC (absolute lymphocytes). Same length, so
  // every offset still points into the printed text.
  const text = options.ocr ? printed.replace(/(?<=[A-Z])l(?=[A-Z])/g, "1") : printed;
  const lead = LEADING_JUNK.exec(text);
  const nameStart = lead ? lead[0].length : 0;
  let name = matchLabNameAt(text, nameStart);
  // A specimen written before the name ("Serum sodium", "Plasma glucose", Nordic "S-Natrium",
  // "fP-Gluk"): the name after it. Urine is not skipped: it names another test, and the caller
  // reads it from the printed name.
  if (!name) {
    const specimen = SPECIMEN_BEFORE_NAME.exec(text.slice(nameStart));
    if (specimen) name = matchLabNameAt(text, nameStart + specimen[0].length);
  }
  if (!name) return null;
  // Skip what closes the name: ")", "]", ":", "=", dot leaders, short parenthesised qualifiers "(S)",
  // "(HbA1c)"; a parenthesised unit ("Hemoglobin (g/dL)  11.2") is kept as the row's unit.
  let pos = name.end;
  let unitInName: string | null = null;
  for (;;) {
    const rest = text.slice(pos);
    const paren = /^\s*\(([^()]{1,24})\)(?=\s)/.exec(rest);
    // "(S)", "(P)", "(B)" name the specimen (serum, plasma, blood), not siemens or a unit.
    if (paren && !unitInName && !/^[SPB]$/i.test(paren[1]!.trim()) && toUcum(paren[1]!.trim())) {
      unitInName = paren[1]!.trim();
      pos += paren[0].length;
      continue;
    }
    const m = NAME_CLOSER.exec(rest);
    if (!m || m[0].length === 0) break;
    pos += m[0].length;
  }
  // The name must end at a word boundary, or at the ":" or "=" that closes it ("GGT =13").
  if (pos < text.length && !/\s/.test(text[pos]!) && !/[:=]$/.test(text.slice(0, pos))) return null;
  const cleaned =
    text.slice(0, pos) + text.slice(pos).replace(/\.{3,}|_{3,}|…+/g, (m) => " ".repeat(m.length));
  const toks = tokenize(cleaned, pos);
  let i = 0;
  const values: ParsedValue[] = [];
  let gluedUnit: string | null = null;
  // OCR specks between name and value (". 139", ": 26") are skipped.
  if (options.ocr) while (i < toks.length - 1 && /^[^\w<>+]{1,2}$/.test(toks[i]!.text)) i++;
  while (i < toks.length) {
    const v = parseValue(toks, i, options.ocr);
    if (!v) {
      // A cumulative row's cell that the scan made unreadable ("aL" for "15 L") between values:
      // skipped, so the values after it are still read under their dates.
      if (options.ocr && options.allowMultipleValues && values.length > 0 && isUnreadableCell(toks, i)) {
        i++;
        continue;
      }
      break;
    }
    // A qualitative word right after a numeric value is a range or flag, not another value.
    if (values.length > 0 && v.value.qualitative) break;
    if (values.length > 0 && v.value.numeric !== null && parseRange(toks, i, options.ocr)?.range.kind === "-")
      break;
    i += v.used;
    let flag: LabFlag | null = v.value.gluedFlag ?? null;
    const f = toks[i] ? parseFlag(toks[i]!.text) : null;
    if (!flag && f && !(f === "N" && values.length === 0 && v.value.qualitative)) {
      flag = f;
      i++;
    }
    if (v.value.gluedUnit && gluedUnit === null) gluedUnit = v.value.gluedUnit;
    const { gluedFlag: _f, gluedUnit: _u, ...plain } = v.value;
    values.push({ ...plain, flag });
    if (!options.allowMultipleValues) break;
  }
  if (values.length === 0) return null;
  const firstUnit = gluedUnit ?? unitInName;
  let unit: ParsedLabRow["unit"] = firstUnit ? { printed: firstUnit, ucum: toUcum(firstUnit) } : null;
  let range: ParsedRange | null = null;
  let trailingFlag: LabFlag | null = null;
  let wordy = 0;
  let end = values[values.length - 1]!.end;
  while (i < toks.length) {
    const t = toks[i]!;
    if (REF_LABELS.test(t.text)) {
      i++;
      continue;
    }
    if (!unit) {
      const u = parseUnit(toks, i, options.ocr);
      if (u) {
        unit = { printed: u.printed, ucum: u.ucum };
        end = toks[i + u.used - 1]!.end;
        i += u.used;
        continue;
      }
    }
    if (!range) {
      const r = parseRange(toks, i, options.ocr, values.length === 1);
      if (r) {
        range = r.range;
        end = toks[i + r.used - 1]!.end;
        i += r.used;
        continue;
      }
    }
    const f = parseFlag(t.text);
    if (f && !trailingFlag && t.text.length <= 8) {
      trailingFlag = f;
      end = t.end;
      i++;
      continue;
    }
    if (/[A-Za-z]{3,}/.test(t.text)) wordy++;
    i++;
  }
  // Prose ("Potassium 4.8 mmol/L by 02/06/2024 (attached result)") carries several unexplained words.
  if (wordy >= 2) return null;
  const first = values[0]!;
  if (first.qualitative || typeof first.value === "string") {
    if (!range && !unit && !first.flag && !trailingFlag && wordy > 0) return null;
  } else if (!unit && !range && !first.flag && !trailingFlag) {
    // A bare "name number" is accepted only for unitless tests; the caller checks that.
    if (wordy > 0) return null;
  }
  return { name, nameStart, values, unit, range, trailingFlag, end };
}

/** Longest a scanned cell may be and still be skipped as unreadable between two values. */
const MAX_UNREADABLE_CELL = 3;

/** A short token without digits that is no unit, with a number (not a range) right after it. */
function isUnreadableCell(toks: Tok[], i: number): boolean {
  const t = toks[i]!;
  if (t.text.length > MAX_UNREADABLE_CELL || /\d/.test(t.text) || parseUnit(toks, i, true)) return false;
  const next = toks[i + 1];
  if (!next || parseNumber(next.text, true) === null) return false;
  return parseRange(toks, i + 1, true)?.range.kind !== "-";
}

/** A plain number printed at `start` (digits only; a glued flag or unit is added by the caller). */
function numberAt(digits: string, start: number) {
  const num = Number(digits);
  return { value: num, numeric: num, qualitative: false, start, end: start + digits.length, flag: null };
}
