/**
 * The stored report content: the grounded narrative with every claim's support decided and
 * every citation resolved to document, page and characters, and the tables built from the
 * structured record, each row citing where it was read. The tables come from the record for
 * every drafter (a model never writes a lab value into a table), so what a table shows is what
 * extraction stored.
 */
import type { PatientRecord } from "../records/build-patient-record";
import {
  type DiagnosisRow,
  type DraftNarrative,
  FACT_SECTIONS,
  MAX_CITATIONS_PER_CLAIM,
  MAX_TABLE_ROWS,
  NARRATIVE_SECTIONS,
  type ReportCitation,
  type ReportClaim,
  type ReportContent,
} from "./report-schema";
import { citeFacts, indexChunksByPage, type SourceChunks, verifyCitation } from "./report-sources";

export interface BuiltReportContent {
  content: ReportContent;
  /** Fact claims without a verified citation. */
  unsupportedClaims: number;
}

const TABLE_CITATIONS = 3;

export function buildReportContent(
  narrative: DraftNarrative,
  record: PatientRecord,
  chunks: SourceChunks,
): BuiltReportContent {
  let unsupportedClaims = 0;
  const narrativeSections = {} as Pick<ReportContent, (typeof NARRATIVE_SECTIONS)[number]>;
  for (const section of NARRATIVE_SECTIONS) {
    narrativeSections[section] = narrative[section].map((claim): ReportClaim => {
      const citations: ReportCitation[] = [];
      for (const c of claim.citations) {
        const resolved = verifyCitation(chunks, c);
        if (resolved && citations.length < MAX_CITATIONS_PER_CLAIM) citations.push(resolved);
      }
      const support =
        citations.length > 0 ? "verified" : FACT_SECTIONS.has(section) ? "unsupported" : "not_required";
      if (support === "unsupported") unsupportedClaims += 1;
      return { text: claim.text, support, citations };
    });
  }

  const byPage = indexChunksByPage(chunks);
  const cite = (provenance: Parameters<typeof citeFacts>[1]) =>
    citeFacts(byPage, provenance, TABLE_CITATIONS);
  const rows = <T>(items: T[]) => items.slice(0, MAX_TABLE_ROWS);
  const assertion = (d: PatientRecord["diagnoses"][number]): DiagnosisRow["assertion"] =>
    d.familyHistory ? "family" : d.negated ? "negated" : "present";

  const content: ReportContent = {
    ...narrativeSections,
    labs: rows(
      record.labs.map((l) => ({
        name: l.name.slice(0, 200),
        loinc: l.loinc,
        value: typeof l.value === "string" ? l.value.slice(0, 60) : l.value,
        unit: l.unit?.slice(0, 40) ?? null,
        refLow: l.refLow,
        refHigh: l.refHigh,
        refText: l.refText?.slice(0, 120) ?? null,
        flag: l.flag,
        observedAt: l.observedAt,
        citations: cite(l.provenance),
      })),
    ),
    medications: rows(
      record.medications.map((m) => ({
        name: m.name.slice(0, 200),
        dose: m.dose?.slice(0, 120) ?? null,
        route: m.route?.slice(0, 60) ?? null,
        frequency: m.frequency?.slice(0, 120) ?? null,
        citations: cite(m.provenance),
      })),
    ),
    // The patient's problems first; ruled-out and relatives' conditions after, marked.
    diagnoses: rows(
      [...record.diagnoses]
        .sort((a, b) => Number(a.negated || a.familyHistory) - Number(b.negated || b.familyHistory))
        .map((d) => ({
          text: d.text.slice(0, 300),
          icd10: d.icd10,
          assertion: assertion(d),
          citations: cite(d.provenance),
        })),
    ),
    allergies: rows(
      record.allergies.map((a) => ({
        substance: a.substance.slice(0, 200),
        reaction: a.reaction?.slice(0, 200) ?? null,
        citations: cite(a.provenance),
      })),
    ),
    vitals: rows(
      record.vitals.map((v) => ({
        type: v.type,
        value: v.value.slice(0, 40),
        unit: v.unit?.slice(0, 20) ?? null,
        observedAt: v.observedAt,
        citations: cite(v.provenance),
      })),
    ),
  };
  return { content, unsupportedClaims };
}
