/**
 * Vital signs as printed (values kept as strings: "134/82" mmHg, "98.1" F). Read from vitals
 * sections and from any line that carries a labelled blood pressure.
 */
import type { DocLine } from "./document-lines";
import type { Vital } from "./schema";

type VitalType = Vital["type"];

const PATTERNS: ReadonlyArray<readonly [VitalType, RegExp]> = [
  ["bp", /\b(?:BP|B\/P|blood pressure)\s*[:=]?\s*(\d{2,3}\s*\/\s*\d{2,3})\s*(mm\s?Hg)?/i],
  ["hr", /\b(?:HR|pulse|heart rate|P)\s*[:=]?\s*(\d{2,3})\s*(bpm|beats\/min|\/min)?(?![\d/.])/i],
  [
    "rr",
    /\b(?:RR|resp(?:iratory)?(?:\s+rate)?|R)\s*[:=]?\s*(\d{1,2})\s*(breaths\/min|\/min|bpm)?(?![\d/.])/i,
  ],
  ["temp", /\b(?:T|temp|temperature)\s*[:=]?\s*(\d{2,3}(?:\.\d)?)\s*°?\s*([CF])\b/i],
  ["spo2", /\b(?:SpO2|SaO2|O2\s*sat(?:uration)?|oxygen saturation|sat)\s*[:=]?\s*(\d{2,3})\s*(%)/i],
  ["weight", /\b(?:wt|weight)\s*[:=]?\s*(\d{1,3}(?:\.\d{1,2})?)\s*(kg|lbs?|Ib|1b)\b/i],
  ["height", /\b(?:ht|height)\s*[:=]?\s*(\d{1,3}(?:\.\d{1,2})?)\s*(cm|in|m)\b/i],
  ["bmi", /\bBMI\s*[:=]?\s*(\d{2}(?:\.\d{1,2})?)\s*(kg\/m2|kg\/m²)?/i],
];

export function extractVitals(lines: readonly DocLine[]): Vital[] {
  const out: Vital[] = [];
  const seen = new Set<VitalType>();
  for (const line of lines) {
    const inVitals = line.section === "vitals";
    if (!inVitals && !/\b(?:BP|blood pressure)\s*[:=]?\s*\d{2,3}\s*\/\s*\d{2,3}/i.test(line.text)) continue;
    for (const [type, re] of PATTERNS) {
      if (seen.has(type)) continue;
      const m = re.exec(line.text);
      if (!m?.[1]) continue;
      let unit = m[2] ?? null;
      if (unit && /^(?:Ib|1b|lbs)$/i.test(unit)) unit = "lb";
      seen.add(type);
      out.push({
        type,
        value: m[1].replace(/\s+/g, ""),
        unit: unit ?? (type === "bp" ? "mmHg" : null),
        provenance: { page: line.page, start: line.start + m.index, end: line.start + m.index + m[0].length },
      });
    }
  }
  return out;
}
