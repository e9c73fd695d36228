/**
 * Allergy-list entries: substance and reaction ("Codeine — nausea and vomiting", "Penicillin: hives",
 * "Latex (contact dermatitis)"). "NKDA" / "No known drug allergies" yields no entries and sets
 * `noKnownAllergies`, so that "none" is distinguishable from "not documented".
 */
import { contentOf, type DocLine } from "./document-lines";
import type { Allergy } from "./schema";

const NKA_RE =
  /\b(?:nkda|nka|nkma|no known (?:drug |medication )?allergies|no known allergies|no drug allergies|no allergies|none known|no known allergy)\b/i;
const NONE_RE = /^(?:none|nil|n\/a|no)\.?$/i;

export interface AllergyExtraction {
  readonly allergies: Allergy[];
  readonly noKnownAllergies: boolean;
}

export function extractAllergies(lines: readonly DocLine[]): AllergyExtraction {
  const allergies: Allergy[] = [];
  let noKnownAllergies = false;
  for (const line of lines) {
    if (line.section !== "allergies") continue;
    const { text, offset } = contentOf(line);
    if (text.trim() === "") continue;
    if (NKA_RE.test(text)) {
      noKnownAllergies = true;
      continue;
    }
    for (const [from, to] of splitEntries(text)) {
      const parsed = parseAllergyItem(text.slice(from, to));
      if (!parsed) continue;
      allergies.push({
        substance: parsed.substance,
        reaction: parsed.reaction,
        provenance: {
          page: line.page,
          start: line.start + offset + from + parsed.at,
          end: line.start + offset + to,
        },
      });
    }
  }
  return { allergies, noKnownAllergies: noKnownAllergies && allergies.length === 0 };
}

/** Entries separated by ";" or by "," between "substance (reaction)" groups. */
function splitEntries(text: string): [number, number][] {
  const out: [number, number][] = [];
  let start = 0;
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === "(") depth++;
    else if (c === ")") depth = Math.max(0, depth - 1);
    else if (depth === 0 && (c === ";" || (c === "," && text.slice(start, i).includes(")")))) {
      out.push([start, i]);
      start = i + 1;
    }
  }
  out.push([start, text.length]);
  return out.filter(([a, b]) => /[A-Za-z]{2,}/.test(text.slice(a, b)));
}

export function parseAllergyItem(
  raw: string,
): { at: number; substance: string; reaction: string | null } | null {
  const lead = /^[\s\W_]*(?:\d{1,2}[.)]\s+)?[\s\W_]*/.exec(raw)?.[0].length ?? 0;
  const text = raw.slice(lead).replace(/[\s.;,:|~-]+$/, "");
  if (text === "" || NONE_RE.test(text)) return null;
  let substance = text;
  let reaction: string | null = null;
  const paren = /^(.+?)\s*\(([^)]+)\)\s*$/.exec(text);
  const sep = /^(.+?)\s*(?:\s[-–—]+\s|[:–—]\s*|\s-\s*|\s*=\s*|\s*->\s*)(.+)$/.exec(text);
  if (sep) {
    substance = sep[1]!;
    reaction = sep[2]!;
  } else if (paren) {
    substance = paren[1]!;
    reaction = paren[2]!;
  }
  substance = substance
    .replace(/\s+(?:allergy|allergic|intolerance)$/i, "")
    .replace(/[\s,;:]+$/, "")
    .trim();
  reaction =
    reaction
      ?.replace(/^(?:reaction|rxn)\s*[:-]?\s*/i, "")
      .replace(/[\s.;,:|~-]+$/, "")
      .trim() || null;
  if (substance.length < 2 || substance.split(/\s+/).length > 6 || !/[A-Za-z]{2,}/.test(substance))
    return null;
  return { at: lead, substance, reaction };
}
