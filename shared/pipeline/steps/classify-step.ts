/**
 * Step classify: the version's pages -> document type, service date, facility and confidence on
 * the version row (shared/clinical classifyDocument, validated by the provider output schema).
 */
import { classifyDocument } from "../../clinical/classify-document";
import { ClinicalExtractionSchema } from "../../clinical/schema";
import type { StepHandler } from "../pipeline-steps";
import { failed, stepFailures } from "./step-failures";
import { loadBuildingTarget, pipelineScope, readVersionPages } from "./step-target";

/** document_versions.facility holds at most 300 characters. */
const MAX_FACILITY_CHARS = 300;

/** The schema checks the yyyy-mm-dd shape; Postgres also wants a day that exists. */
export function isCalendarDate(iso: string): boolean {
  const [y, m, d] = iso.split("-").map(Number) as [number, number, number];
  const date = new Date(Date.UTC(y, m - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
}

export const classifyStep: StepHandler = async (ctx, input) => {
  const scope = pipelineScope(ctx, input);
  const read = await ctx.db.withTenant(scope, async (tx) => {
    const found = await loadBuildingTarget(tx, input, "none");
    if (!found.ok) return found;
    return { ...found, pages: await readVersionPages(tx, input.versionId) };
  });
  if (!read.ok) return read.outcome;
  if (read.target.pageCount === null) return failed(stepFailures.pagesMissing());

  const parsed = ClinicalExtractionSchema.shape.classification.safeParse(classifyDocument(read.pages));
  if (!parsed.success) return failed(stepFailures.extractionInvalid());
  const c = parsed.data;
  const serviceDate = c.service_date && isCalendarDate(c.service_date) ? c.service_date : null;
  const facility = c.facility ? c.facility.slice(0, MAX_FACILITY_CHARS) : null;

  return ctx.db.withTenant(scope, async (tx) => {
    const locked = await loadBuildingTarget(tx, input, "version");
    if (!locked.ok) return locked.outcome;
    await tx`
      update medchr.document_versions set
        document_type = ${c.document_type}, service_date = ${serviceDate}::date,
        facility = ${facility}, classification_confidence = ${c.confidence}
      where id = ${input.versionId}`;
    return { ok: true as const, metrics: { pages: read.pages.length } };
  });
};
