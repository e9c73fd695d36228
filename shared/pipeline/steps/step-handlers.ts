/**
 * The handler of every pipeline step, for the job runner (shared/jobs), which calls
 * STEP_HANDLERS[step](ctx, input) once per QStash delivery, records the outcome on the job and
 * publishes the next step. Handlers return failures as values; they throw only when the
 * database itself fails, which the runner treats like a retryable failure.
 */
import { draftReportStep } from "../../reports/draft-report-step";
import type { JobStepHandlers } from "../pipeline-steps";
import { chunkStep } from "./chunk-step";
import { classifyStep } from "./classify-step";
import { embedStep } from "./embed-step";
import { extractFactsStep } from "./extract-facts-step";
import { extractTextStep } from "./extract-text-step";
import { finalizeStep } from "./finalize-step";

export { extractorName } from "./extractor-name";
export { PIPELINE_ACTOR_ID } from "./step-target";

export const STEP_HANDLERS: JobStepHandlers = {
  extract_text: extractTextStep,
  classify: classifyStep,
  extract_facts: extractFactsStep,
  chunk: chunkStep,
  embed: embedStep,
  finalize: finalizeStep,
  // report.draft jobs (shared/reports)
  draft_report: draftReportStep,
};
