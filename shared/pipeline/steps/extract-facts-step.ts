/**
 * Step extract_facts: the version's pages -> extracted_facts of the version (labs, medications,
 * diagnoses, allergies, vitals), each with the page and characters it was read from and the key
 * the patient record de-duplicates on. The provider's output is validated by the one schema every
 * provider answers to, and every citation is checked against the stored page text, before
 * anything is written: a fact that cannot be shown where it came from is not stored. The
 * extractor recorded on the version names who answered (the on-box rules and their version, or
 * `llm:<model>`), so a record can say which facts a model read.
 */

import { clinicalExtractionTask } from "../../clinical/clinical-extraction-task";
import type { PageText } from "../../clinical/document-lines";
import { type ClinicalExtraction, ClinicalExtractionSchema, type Provenance } from "../../clinical/schema";
import {
  allergyDedupKey,
  diagnosisDedupKey,
  type FactKind,
  labDedupKey,
  medicationDedupKey,
  vitalDedupKey,
} from "../../records/fact-dedup-key";
import type { StepHandler } from "../pipeline-steps";
import { extractorName } from "./extractor-name";
import { failed, stepFailures } from "./step-failures";
import { llmScope, loadBuildingTarget, pipelineScope, readVersionPages } from "./step-target";

interface FactRow {
  kind: FactKind;
  ordinal: number;
  data: Record<string, unknown>;
  page: number;
  char_start: number;
  char_end: number;
  dedup_key: string;
}

/** One insert statement carries at most this many facts (bounded statement size). */
const INSERT_BATCH = 500;

export function factRows(extraction: ClinicalExtraction): FactRow[] {
  const rows: FactRow[] = [];
  const add = <T extends { provenance: Provenance }>(
    kind: FactKind,
    items: readonly T[],
    key: (item: T) => string,
  ) => {
    items.forEach((item, ordinal) => {
      rows.push({
        kind,
        ordinal,
        data: item as unknown as Record<string, unknown>,
        page: item.provenance.page,
        char_start: item.provenance.start,
        char_end: item.provenance.end,
        dedup_key: key(item),
      });
    });
  };
  const serviceDate = extraction.classification.service_date;
  add("lab", extraction.labs, labDedupKey);
  add("medication", extraction.medications, medicationDedupKey);
  add("diagnosis", extraction.diagnoses, diagnosisDedupKey);
  add("allergy", extraction.allergies, allergyDedupKey);
  add("vital", extraction.vitals, (v) => vitalDedupKey(v, serviceDate));
  return rows;
}

/** Every cited span lies inside the text of a page of this version. */
export function citationsFit(rows: readonly FactRow[], pages: readonly PageText[]): boolean {
  const lengths = new Map(pages.map((p) => [p.pageNumber, p.text.length]));
  return rows.every((r) => {
    const length = lengths.get(r.page);
    return length !== undefined && r.char_start <= r.char_end && r.char_end <= length;
  });
}

export const extractFactsStep: StepHandler = async (ctx, input) => {
  const scope = pipelineScope(ctx, input);
  const read = await ctx.db.withTenant(scope, async (tx) => {
    const found = await loadBuildingTarget(tx, input, "none");
    if (!found.ok) return found;
    return { ...found, pages: await readVersionPages(tx, input.versionId) };
  });
  if (!read.ok) return read.outcome;
  if (read.target.pageCount === null) return failed(stepFailures.pagesMissing());

  // Through the gateway: the clinic's policy decides whether a model or the on-box rules answer;
  // both answers are validated by the one schema and grounded in the page text (the gateway
  // applies the task's ground()), then checked once more here before anything is written.
  const answer = await ctx.llm.runStructured(
    llmScope(ctx, input, read.target),
    clinicalExtractionTask,
    read.pages,
  );
  // Only the on-box answer failing its own schema gets here (external failures fall back).
  if (!answer.ok) return failed(stepFailures.extractionInvalid());
  const parsed = ClinicalExtractionSchema.safeParse(answer.value.output);
  if (!parsed.success) return failed(stepFailures.extractionInvalid());
  const rows = factRows(parsed.data);
  if (!citationsFit(rows, read.pages)) return failed(stepFailures.extractionInvalid());

  return ctx.db.withTenant(scope, async (tx) => {
    const locked = await loadBuildingTarget(tx, input, "version");
    if (!locked.ok) return locked.outcome;
    const { patientId, documentId } = locked.target;
    await tx`delete from medchr.extracted_facts where version_id = ${input.versionId}`;
    for (let i = 0; i < rows.length; i += INSERT_BATCH) {
      const batch = rows.slice(i, i + INSERT_BATCH);
      await tx`
        insert into medchr.extracted_facts
          (tenant_id, patient_id, document_id, version_id, kind, ordinal, data, page, char_start, char_end, dedup_key)
        select (select medchr.current_tenant_id()), ${patientId}, ${documentId}, ${input.versionId},
          r.kind, r.ordinal, r.data, r.page, r.char_start, r.char_end, r.dedup_key
        from jsonb_to_recordset(${tx.json(batch as never)}) as r(kind text, ordinal integer, data jsonb,
          page integer, char_start integer, char_end integer, dedup_key text)`;
    }
    const extractor = answer.value.provider === "on-box" ? extractorName : `llm:${answer.value.model}`;
    await tx`update medchr.document_versions set extractor = ${extractor} where id = ${input.versionId}`;
    const count = (kind: FactKind) => rows.filter((r) => r.kind === kind).length;
    return {
      ok: true as const,
      metrics: {
        labs: count("lab"),
        medications: count("medication"),
        diagnoses: count("diagnosis"),
        allergies: count("allergy"),
        vitals: count("vital"),
      },
    };
  });
};
