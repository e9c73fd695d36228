/**
 * Requests a processing run of one document, in the caller's tenant transaction: the job
 * (queued, at the first step), the run's document_versions row (next version number,
 * building) and the document's status (processing), with the job.create audit event.
 *
 * Idempotent: while the document has an active (queued or running) job, that job is returned
 * and nothing is written, so a repeated POST or a registration retried after a lost response
 * never starts a second run. The document row is locked first, so two concurrent requests
 * queue on it and the second one finds the first one's job (the unique index
 * jobs_one_active_per_document is the backstop).
 *
 * Nothing is published here: the caller publishes the first step after commit
 * (start-document-processing.ts), because a message must never name a job that a rollback
 * could still remove.
 */
import type { AuditContext } from "../audit/audit-context";
import { recordAudit } from "../audit/audit-context";
import { err, ok, type Result } from "../core/result";
import type { Tx } from "../db/database";
import { PIPELINE_STEPS, type PipelineStep } from "../pipeline/pipeline-steps";
import { type JobError, jobErrors } from "./job-errors";
import { initialSteps, JOB_KIND_DOCUMENT_PROCESS, type JobStatus } from "./job-view";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export interface DocumentProcessingJobInput {
  documentId: string;
}

export interface CreatedDocumentProcessingJob {
  jobId: string;
  status: JobStatus;
  /** The step to publish when the job was created now; null when an active job was returned. */
  publish: PipelineStep | null;
  /** False: the document already had an active job, which is the one returned. */
  created: boolean;
  versionId: string | null;
}

export async function createDocumentProcessingJob(
  tx: Tx,
  input: DocumentProcessingJobInput,
  audit: AuditContext,
): Promise<Result<CreatedDocumentProcessingJob, JobError>> {
  const documentId = typeof input.documentId === "string" ? input.documentId.toLowerCase() : "";
  if (!UUID.test(documentId)) return err(jobErrors.documentNotFound());

  const [document] = await tx<{ id: string; patient_id: string; status: string }[]>`
    select id, patient_id, status from medchr.documents where id = ${documentId} for update`;
  if (!document) return err(jobErrors.documentNotFound());
  if (document.status === "quarantined") return err(jobErrors.documentQuarantined());

  const [active] = await tx<{ id: string; status: JobStatus }[]>`
    select id, status from medchr.jobs
    where document_id = ${documentId} and status in ('queued', 'running')`;
  if (active)
    return ok({ jobId: active.id, status: active.status, publish: null, created: false, versionId: null });

  const first = PIPELINE_STEPS[0];
  const [job] = await tx<{ id: string }[]>`
    insert into medchr.jobs (tenant_id, kind, patient_id, document_id, status, current_step, steps)
    values (medchr.current_tenant_id(), ${JOB_KIND_DOCUMENT_PROCESS}, ${document.patient_id}, ${documentId},
      'queued', ${first}, ${tx.json(initialSteps(JOB_KIND_DOCUMENT_PROCESS) as never)})
    returning id`;
  const jobId = job!.id;
  const [version] = await tx<{ id: string }[]>`
    insert into medchr.document_versions (tenant_id, document_id, job_id, version, status)
    select medchr.current_tenant_id(), ${documentId}, ${jobId}, coalesce(max(version), 0) + 1, 'building'
    from medchr.document_versions where document_id = ${documentId}
    returning id`;
  await tx`update medchr.documents set status = 'processing' where id = ${documentId}`;
  await recordAudit(tx, audit, {
    action: "job.create",
    outcome: "SUCCESS",
    resource: { type: "job", id: jobId },
    details: { kind: JOB_KIND_DOCUMENT_PROCESS, patientId: document.patient_id, documentId },
  });
  return ok({ jobId, status: "queued", publish: first, created: true, versionId: version!.id });
}
