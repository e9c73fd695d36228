/**
 * On-box (deterministic, offline) clinical extraction provider: page texts in, one
 * ClinicalExtraction out. Uses only the curated terminology and patterns in this folder; no network
 * and no model. The document id and extraction version are added by the caller.
 */
import { assessClinicalFacts } from "./assess-fact-confidence";
import { assessLabResults } from "./check-lab-plausibility";
import { classifyDocument } from "./classify-document";
import { type DocLine, type PageText, segmentDocument } from "./document-lines";
import { extractAllergies } from "./extract-allergies";
import { extractDiagnoses } from "./extract-diagnoses";
import { extractLabResults } from "./extract-lab-results";
import { extractMedications } from "./extract-medications";
import { extractVitals } from "./extract-vitals";
import { type DateOrder, detectDateOrder, findDates } from "./parse-clinical-date";
import type { ClinicalExtraction } from "./schema";

export const ON_BOX_PROVIDER = "on-box-rules@1";

export function extractClinicalFacts(pages: readonly PageText[]): ClinicalExtraction {
  const lines = segmentDocument(pages);
  const dateOrder = detectDateOrder(pages.map((p) => p.text).join("\n"));
  const classification = classifyDocument(pages, { lines, dateOrder });
  const labs = assessLabResults(
    extractLabsWithPageDates(lines, classification.service_date, dateOrder),
    pages,
  );
  const { allergies, noKnownAllergies } = extractAllergies(lines);
  const facts = assessClinicalFacts(
    {
      medications: extractMedications(lines),
      diagnoses: extractDiagnoses(lines),
      allergies,
      vitals: extractVitals(lines),
    },
    pages,
  );
  return {
    provider: ON_BOX_PROVIDER,
    classification,
    labs,
    medications: facts.medications,
    diagnoses: facts.diagnoses,
    allergies: facts.allergies,
    no_known_allergies: noKnownAllergies,
    vitals: facts.vitals,
  };
}

/**
 * Result rows take the collection date printed on their own page (attached result pages of a
 * discharge summary carry their own), else the document's service date.
 */
function extractLabsWithPageDates(
  lines: readonly DocLine[],
  serviceDate: string | null,
  dateOrder: DateOrder | null,
) {
  const byPage = new Map<number, DocLine[]>();
  for (const line of lines) {
    const list = byPage.get(line.page) ?? [];
    list.push(line);
    byPage.set(line.page, list);
  }
  const out: ReturnType<typeof extractLabResults> = [];
  for (const pageLines of byPage.values()) {
    out.push(
      ...extractLabResults(pageLines, {
        defaultDate: pageCollectionDate(pageLines, dateOrder) ?? serviceDate,
        dateOrder,
      }),
    );
  }
  return out;
}

function pageCollectionDate(lines: readonly DocLine[], dateOrder: DateOrder | null): string | null {
  for (const line of lines) {
    const m = /\b(?:collected|collection date|date collected|specimen collected|drawn)\b/i.exec(line.text);
    if (!m) continue;
    const date = findDates(line.text.slice(m.index + m[0].length, m.index + m[0].length + 60), dateOrder)[0];
    if (date && date.start < 40) return date.iso;
  }
  return null;
}
