/**
 * Medication-list entries ("Metformin 1000 mg PO BID"). Only the document's medication lists are
 * read: drugs named in narrative (given in hospital, held, stopped, discussed) are not current
 * medications. Names are kept as printed; the generic name is resolved from the drug table.
 */
import { bulletLength, contentOf, type DocLine } from "./document-lines";
import type { Medication } from "./schema";
import { BRAND_TO_GENERIC, GENERIC_DRUGS } from "./terminology/drugs";

const ROUTES: ReadonlyArray<readonly [RegExp, string]> = [
  [/^(?:po|p\.o\.|oral(?:ly)?|by mouth)$/i, "PO"],
  [/^(?:iv|intravenous(?:ly)?)$/i, "IV"],
  [/^(?:im|intramuscular(?:ly)?)$/i, "IM"],
  [/^(?:sc|sq|subq|subcut|subcutaneous(?:ly)?|s\.c\.)$/i, "SC"],
  [/^(?:sl|sublingual(?:ly)?)$/i, "SL"],
  [/^(?:pr|rectal(?:ly)?)$/i, "PR"],
  [/^(?:inh|inhaled|inhalation|via inhaler|nebulized|neb)$/i, "inhaled"],
  [/^(?:topical(?:ly)?|top)$/i, "topical"],
  [/^(?:transdermal(?:ly)?|td)$/i, "transdermal"],
  [/^(?:intranasal(?:ly)?|nasal(?:ly)?|in)$/i, "intranasal"],
  [/^(?:ophthalmic|ou|os|od)$/i, "ophthalmic"],
  [/^(?:vaginal(?:ly)?|pv)$/i, "vaginal"],
];

const DOSE_UNIT = `(?:mg|mcg|meg|µg|ug|g|gm|ml|mL|units?|iu|IU|meq|mEq|mmol|%|puffs?|tabs?|tablets?|caps?|capsules?|drops?|sprays?|patch(?:es)?|applications?|pens?|vials?|ampoules?|sachets?|lozenges?|suppositor(?:y|ies)|inhalations?)`;
const AMOUNT = String.raw`(?:\d+(?:\.\d+)?|\.\d+|one|two|three|half|½)`;
/** "875-125 mg", "0.25 mg-35 mcg", "160/4.5 mcg", "1000 mg", "2 puffs", "1 tablet". */
const DOSE_RE = new RegExp(
  String.raw`^${AMOUNT}(?:\s*(?:${DOSE_UNIT}))?(?:\s*[-/]\s*${AMOUNT})*\s*(?:${DOSE_UNIT})\b\.?`,
  "i",
);
const FORM_RE =
  /^\s*(?:puffs?|tabs?|tablets?|caps?|capsules?|drops?|sprays?|patch(?:es)?|applications?|inhalations?|pens?|vials?|sachets?|lozenges?|suppositor(?:y|ies))\b/i;

const NONE_RE = /^(?:none|no (?:current |home |regular |known )?(?:medications|meds)|nil|n\/a)\b/i;
const HEADER_ROW_RE = /^(?:medication|drug|name)\s{2,}|\b(?:dose|route|frequency|sig)\s{2,}/i;

const GENERIC_SET = new Set(GENERIC_DRUGS.map((g) => g.toLowerCase()));

/** Generic name for a printed drug name (brand resolved), or null when the drug is not in the table. */
export function resolveGenericName(name: string): string | null {
  const words = name
    .toLowerCase()
    .replace(/\([^)]*\)/g, " ")
    .split(/[^a-z0-9-]+/)
    .filter(Boolean);
  for (let n = Math.min(4, words.length); n >= 1; n--) {
    const phrase = words.slice(0, n).join(" ");
    if (GENERIC_SET.has(phrase)) return phrase;
    const brand = BRAND_TO_GENERIC[phrase];
    if (brand) return brand;
  }
  // Combination products written with a slash or hyphen: every part must be a known generic.
  const first = words[0] ?? "";
  const parts = first.split("-");
  if (parts.length > 1 && parts.every((p) => GENERIC_SET.has(p))) return first;
  return null;
}

export function extractMedications(lines: readonly DocLine[]): Medication[] {
  const out: Medication[] = [];
  let last: Medication | null = null;
  for (const line of lines) {
    if (line.section !== "medications") {
      last = null;
      continue;
    }
    const { text, offset } = contentOf(line);
    if (text.trim() === "" || HEADER_ROW_RE.test(text.trim())) continue;
    // Inline lists ("Medications: lisinopril 10 mg daily; metformin 500 mg BID") split on ";".
    const parts = splitItems(text);
    let continued = false;
    for (const [from, to] of parts) {
      const med = parseMedicationItem(text.slice(from, to));
      if (med) {
        const start = line.start + offset + from + med.at;
        out.push({
          name: med.name,
          generic_name: med.generic,
          dose: med.dose,
          route: med.route,
          frequency: med.frequency,
          provenance: { page: line.page, start, end: line.start + offset + to },
        });
        last = out[out.length - 1]!;
      } else if (last && parts.length === 1 && bulletLength(text) === 0 && /^\s*[a-z(]/.test(text)) {
        // Wrapped instruction of the previous entry ("...during\n  menses").
        last.frequency = [last.frequency, text.trim()].filter(Boolean).join(" ");
        continued = true;
      }
    }
    if (!continued && parts.length === 0) last = null;
  }
  return out;
}

function splitItems(text: string): [number, number][] {
  const out: [number, number][] = [];
  let start = 0;
  const re = /;\s*/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    out.push([start, m.index]);
    start = m.index + m[0].length;
  }
  out.push([start, text.length]);
  return out.filter(([a, b]) => text.slice(a, b).trim() !== "");
}

interface ParsedMedication {
  at: number;
  name: string;
  generic: string | null;
  dose: string | null;
  route: string | null;
  frequency: string | null;
}

export function parseMedicationItem(raw: string): ParsedMedication | null {
  // Leading bullets, numbering and OCR specks.
  const lead = /^[\s\W_]*(?:\d{1,2}[.)]\s+)?[\s\W_]*/.exec(raw)?.[0].length ?? 0;
  const text = raw.slice(lead).replace(/\s+$/, "");
  if (text === "" || NONE_RE.test(text) || !/^[A-Za-z]/.test(text)) return null;
  // Table rows: columns separated by 2+ spaces (name | dose | route | frequency).
  const columns = text.split(/\s{2,}/);
  const words = text.split(/(\s+)/);
  let nameEnd = text.length;
  let doseStart = -1;
  let pos = 0;
  for (const w of words) {
    if (/^\s+$/.test(w) || w === "") {
      pos += w.length;
      continue;
    }
    if (pos > 0 && /^(?:\d|\.\d|½)/.test(w)) {
      doseStart = pos;
      break;
    }
    pos += w.length;
  }
  if (doseStart < 0 && columns.length > 1) doseStart = text.indexOf(columns[1]!, columns[0]!.length);
  if (doseStart >= 0) nameEnd = doseStart;
  let name = text
    .slice(0, nameEnd)
    .trim()
    .replace(/[,:;-]+$/, "")
    .trim();
  let rest = doseStart >= 0 ? text.slice(doseStart) : "";
  let dose: string | null = null;
  const d1 = DOSE_RE.exec(rest);
  if (d1) {
    dose = d1[0].trim();
    rest = rest.slice(d1[0].length);
    // "Albuterol HFA 90 mcg 2 puffs": the first amount is the strength (part of the product name),
    // the second the dose taken.
    const d2 = /^\s*(\d+(?:\.\d+)?|one|two|half|½)\s*/.exec(rest);
    if (d2 && FORM_RE.test(rest.slice(d2[0].length))) {
      const form = FORM_RE.exec(rest.slice(d2[0].length))![0];
      name = `${name} ${dose}`;
      dose = `${d2[1]} ${form.trim()}`;
      rest = rest.slice(d2[0].length + form.length);
    }
  }
  let route: string | null = null;
  const restWords = rest.trim().split(/\s+/).filter(Boolean);
  let routeIdx = -1;
  for (let i = 0; i < Math.min(3, restWords.length); i++) {
    const w = restWords[i]!.replace(/[,;.]$/, "");
    const two = `${w} ${restWords[i + 1] ?? ""}`.trim();
    if (/^by mouth$/i.test(two)) {
      route = "PO";
      routeIdx = i + 1;
      break;
    }
    const r = ROUTES.find(([re]) => re.test(w));
    if (r) {
      route = w;
      routeIdx = i;
      break;
    }
  }
  const freqWords = routeIdx >= 0 ? restWords.slice(routeIdx + 1) : restWords;
  const frequency =
    freqWords
      .join(" ")
      .replace(/^[,;.-]+\s*/, "")
      .trim() || null;
  const generic = resolveGenericName(name);
  // Unknown names are accepted only when the line reads like a dosing instruction.
  if (!generic && !(dose && (route || frequency))) return null;
  if (name.length < 2 || name.split(/\s+/).length > 8) return null;
  return { at: lead, name, generic, dose, route, frequency };
}
