/**
 * Asks for a new draft of a patient's report, in the caller's tenant transaction: the report
 * row (drafting) and its report.draft job (queued at draft_report), with job.create and
 * report.draft_requested. Nothing is published here: the caller publishes the first step after
 * commit (startReportDraft), because a message must never name a job a rollback could remove.
 *
 * Idempotent per patient: while a report of the patient is drafting, that report and its job
 * are returned and nothing is written. A patient without any processed document is refused
 * (409 record_empty): there is nothing to cite.
 */
import { type AuditContext, recordAudit } from "../audit/audit-context";
import { err, ok, type Result } from "../core/result";
import type { Database, RequestScope, Tx } from "../db/database";
import { initialSteps, JOB_KIND_REPORT_DRAFT } from "../jobs/job-view";
import { type PublishFirstStepDeps, publishFirstStep } from "../jobs/publish-first-step";
import { REPORT_DRAFT_STEPS } from "../pipeline/pipeline-steps";
import { type ReportError, reportErrors } from "./report-errors";

export interface RequestedReportDraft {
  reportId: string;
  jobId: string;
  /** False: a draft of this patient was already under way; that one is returned. */
  created: boolean;
}

export async function requestReportDraft(
  tx: Tx,
  input: { patientId: string },
  audit: AuditContext,
): Promise<Result<RequestedReportDraft, ReportError>> {
  // Locks the patient: two requests at once queue here and the second finds the first's report.
  const [patient] = await tx<{ id: string }[]>`
    select id from medchr.patients where id = ${input.patientId} for update`;
  if (!patient) return err(reportErrors.patientNotFound());

  const [active] = await tx<{ id: string; job_id: string }[]>`
    select id, job_id from medchr.reports
    where patient_id = ${input.patientId} and status = 'drafting' and job_id is not null
    order by created_at desc limit 1`;
  if (active) return ok({ reportId: active.id, jobId: active.job_id, created: false });

  const [processed] = await tx<{ id: string }[]>`
    select id from medchr.documents
    where patient_id = ${input.patientId} and current_version_id is not null limit 1`;
  if (!processed) return err(reportErrors.recordEmpty());

  const [job] = await tx<{ id: string }[]>`
    insert into medchr.jobs (tenant_id, kind, patient_id, status, current_step, steps)
    values (medchr.current_tenant_id(), ${JOB_KIND_REPORT_DRAFT}, ${input.patientId}, 'queued',
      ${REPORT_DRAFT_STEPS[0]}, ${tx.json(initialSteps(JOB_KIND_REPORT_DRAFT) as never)})
    returning id`;
  const jobId = job!.id;
  const [report] = await tx<{ id: string }[]>`
    insert into medchr.reports (tenant_id, patient_id, job_id)
    values (medchr.current_tenant_id(), ${input.patientId}, ${jobId})
    returning id`;
  const reportId = report!.id;
  await recordAudit(tx, audit, {
    action: "job.create",
    outcome: "SUCCESS",
    resource: { type: "job", id: jobId },
    details: { kind: JOB_KIND_REPORT_DRAFT, patientId: input.patientId },
  });
  await recordAudit(tx, audit, {
    action: "report.draft_requested",
    outcome: "SUCCESS",
    resource: { type: "report", id: reportId },
    details: { patientId: input.patientId, jobId },
  });
  return ok({ reportId, jobId, created: true });
}

export interface StartedReportDraft extends RequestedReportDraft {
  /** The first step was handed to the queue now (else the sweeper publishes it). */
  published: boolean;
}

/** requestReportDraft in its own transaction, then the first step published after commit. */
export async function startReportDraft(
  deps: { db: Database; scope: RequestScope; audit: AuditContext } & Omit<PublishFirstStepDeps, "requestId">,
  input: { patientId: string },
): Promise<Result<StartedReportDraft, ReportError>> {
  const requested = await deps.db.withTenant(deps.scope, (tx) => requestReportDraft(tx, input, deps.audit));
  if (!requested.ok) return requested;
  const published = requested.value.created
    ? await publishFirstStep(
        { queue: deps.queue, publicOrigin: deps.publicOrigin, requestId: deps.scope.requestId },
        requested.value.jobId,
        REPORT_DRAFT_STEPS[0],
      )
    : false;
  return ok({ ...requested.value, published });
}
