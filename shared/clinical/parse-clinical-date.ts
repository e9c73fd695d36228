/**
 * Dates as printed on clinical documents -> ISO yyyy-mm-dd. Slashed dates are ambiguous
 * (03/04/2025): a document's own convention decides (detectDateOrder: its unambiguous dates,
 * else its spelling and terms); without one, US order (mm/dd/yyyy) unless the first part cannot
 * be a month. Dotted dates are read day-first (European).
 */
const MONTHS: Readonly<Record<string, number>> = {
  jan: 1,
  feb: 2,
  mar: 3,
  apr: 4,
  may: 5,
  jun: 6,
  jul: 7,
  aug: 8,
  sep: 9,
  sept: 9,
  oct: 10,
  nov: 11,
  dec: 12,
};

export interface DateMatch {
  readonly iso: string;
  readonly start: number;
  readonly end: number;
}

const MONTH_NAME =
  "(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)";
const DATE_RE = new RegExp(
  [
    String.raw`\b(\d{4})-(\d{1,2})-(\d{1,2})\b`,
    String.raw`\b(\d{1,2})/(\d{1,2})/(\d{4}|\d{2})\b`,
    String.raw`\b(\d{1,2})\.(\d{1,2})\.(\d{4})\b`,
    String.raw`\b(\d{1,2})[- ]${MONTH_NAME}\.?[- ,]*(\d{4})\b`,
    String.raw`\b${MONTH_NAME}\.? (\d{1,2}),? (\d{4})\b`,
    String.raw`\b(\d{1,2})-(\d{1,2})-(\d{4})\b`,
    // Laboratory systems' short form, "25-Mar-25": the hyphens keep prose ("5 May 20 mg") out.
    String.raw`\b(\d{1,2})-${MONTH_NAME}-(\d{2})\b`,
  ].join("|"),
  "gi",
);

function iso(y: number, m: number, d: number): string | null {
  if (y < 100) y += y >= 70 ? 1900 : 2000;
  if (m < 1 || m > 12 || d < 1 || d > 31 || y < 1900 || y > 2100) return null;
  const dt = new Date(Date.UTC(y, m - 1, d));
  if (dt.getUTCMonth() !== m - 1) return null;
  return `${String(y).padStart(4, "0")}-${String(m).padStart(2, "0")}-${String(d).padStart(2, "0")}`;
}

/** How a document writes slashed dates: day first (UK, most of the world) or month first (US). */
export type DateOrder = "dmy" | "mdy";

/**
 * Spelling and terms that place a document in the UK or the US (where dates are written day-first
 * and month-first). Each counts once; used only when no date settles the order by itself.
 */
const DAY_FIRST_CUES: readonly RegExp[] = [
  // British spellings: anaemia, hyperlipidaemia, oedema, oesophagus, paediatric, haem-, colour...
  /\b\w*(?:aemi|oedem|oesoph|paed|haem|ischaem|colour|centre|programme|tumour|behaviour|organis|randomis)\w*\b/gi,
  /\b(?:yours sincerely|yours faithfully|kind regards|best wishes|consultant (?:physician|surgeon)|specialty registrar|registrar|general practitioner|postcode|mobile|practice nurse|nocte|micrograms)\b/gi,
  // British approved names where the US name differs.
  /\b(?:paracetamol|salbutamol|adrenaline|noradrenaline|frusemide|glyceryl trinitrate|co-codamol|co-amoxiclav)\b/gi,
  /\b(?:GP|NHS|A&E|FRCP|MRCP|MRCGP|FRCS|OD|BD|TDS|QDS)\b/g,
  // SI units that US laboratories do not print (they report mg/dL, K/uL, %): the laboratory is
  // outside the US, where dates are written day-first.
  /(?:[uµμ]mol\/L|mmol\/mol|pmol\/L|nmol\/L|10\^?\*?(?:9|12)\/L|\bg\/L|\bIU\/L|\bmU\/L)/gi,
  /\b(?:full blood count|FBC|U&Es?|urea and electrolytes|biomedical scientist|blood sciences|haematinics)\b/gi,
];
const MONTH_FIRST_CUES: readonly RegExp[] = [
  /\b\w*(?:hemoglobin|anemia|edema|esophag|pediatr|ischemi|color|center|tumor|behavior|organiz)\w*\b/gi,
  /\b(?:insurance|medicare|medicaid|zip code|cell phone|primary care provider)\b/gi,
  /\b(?:acetaminophen|albuterol|epinephrine|norepinephrine|nitroglycerin|hydrocodone)\b/gi,
  // A US letter closes "Sincerely,"; a UK one "Yours sincerely,".
  /^\s*sincerely\b/gim,
  /\b(?:[A-Z]{2} \d{5}(?:-\d{4})?|MD|DO|PA-C|NP|PCP|ER|SSN|BID|TID|QID|QHS|PRN)\b/g,
  // Conventional units of US laboratories.
  /(?:\bmg\/dL|\b[KM]\/uL|x10\^?[36]\/uL|\buIU\/mL|\bng\/dL|\bpg\/mL|\bmEq\/L)/gi,
  /\b(?:CBC|BMP|CMP|basic metabolic panel|comprehensive metabolic panel|complete blood count)\b/gi,
];
const cueCount = (text: string, cues: readonly RegExp[]) =>
  new Set(cues.flatMap((re) => [...text.matchAll(re)].map((m) => m[0].toLowerCase()))).size;

export function detectDateOrder(text: string): DateOrder | null {
  let dayFirst = 0;
  let monthFirst = 0;
  for (const m of text.matchAll(/\b(\d{1,2})\/(\d{1,2})\/(?:\d{4}|\d{2})\b/g)) {
    const a = Number(m[1]);
    const b = Number(m[2]);
    if (a > 12 && b <= 12) dayFirst++;
    else if (b > 12 && a <= 12) monthFirst++;
  }
  if (dayFirst !== monthFirst) return dayFirst > monthFirst ? "dmy" : "mdy";
  const uk = cueCount(text, DAY_FIRST_CUES);
  const us = cueCount(text, MONTH_FIRST_CUES);
  if (uk >= us + 2) return "dmy";
  if (us >= uk + 2) return "mdy";
  return null;
}

export function findDates(text: string, order: DateOrder | null = null): DateMatch[] {
  const out: DateMatch[] = [];
  DATE_RE.lastIndex = 0;
  for (let m = DATE_RE.exec(text); m; m = DATE_RE.exec(text)) {
    const g = m.slice(1);
    let value: string | null = null;
    if (g[0]) value = iso(Number(g[0]), Number(g[1]), Number(g[2]));
    else if (g[3]) {
      const a = Number(g[3]);
      const b = Number(g[4]);
      const dayFirst = a > 12 && b <= 12 ? true : b > 12 && a <= 12 ? false : order === "dmy";
      value = dayFirst ? iso(Number(g[5]), b, a) : iso(Number(g[5]), a, b);
    } else if (g[6]) value = iso(Number(g[8]), Number(g[7]), Number(g[6]));
    else if (g[9])
      value = iso(
        Number(g[11]),
        MONTHS[g[10]!.slice(0, 4).toLowerCase().replace(/t$/, "")] ??
          MONTHS[g[10]!.slice(0, 3).toLowerCase()] ??
          0,
        Number(g[9]),
      );
    else if (g[12]) value = iso(Number(g[14]), MONTHS[g[12]!.slice(0, 3).toLowerCase()] ?? 0, Number(g[13]));
    else if (g[15]) value = iso(Number(g[17]), Number(g[15]), Number(g[16]));
    else if (g[18]) value = iso(Number(g[20]), MONTHS[g[19]!.slice(0, 3).toLowerCase()] ?? 0, Number(g[18]));
    if (value) out.push({ iso: value, start: m.index, end: m.index + m[0].length });
  }
  return out;
}

export function parseClinicalDate(text: string): string | null {
  return findDates(text)[0]?.iso ?? null;
}
