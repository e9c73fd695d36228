/**
 * Starts processing a document: creates the job in one tenant transaction, then, after commit,
 * publishes its first step. If the publish fails (or no queue is configured) the job stays
 * queued and the sweeper publishes it later; the caller still gets the job id.
 *
 *   const started = await startDocumentProcessing(deps, { documentId });
 *   // ok: { jobId, status, created, published }
 */
import type { AuditContext } from "../audit/audit-context";
import { ok, type Result } from "../core/result";
import type { Database, RequestScope } from "../db/database";
import type { JobQueue } from "../queue/job-queue";
import { createDocumentProcessingJob } from "./create-document-processing-job";
import type { JobError } from "./job-errors";
import type { JobStatus } from "./job-view";
import { publishFirstStep } from "./publish-first-step";

export interface StartDocumentProcessingDeps {
  db: Database;
  scope: RequestScope;
  audit: AuditContext;
  /**
   * The queue, resolved only when there is a step to publish (a refused request never touches
   * it); null when not configured: the job is created and left for the sweeper.
   */
  queue: JobQueue | null | (() => JobQueue | null);
  /** PUBLIC_ORIGIN, where the pipeline function is reached; null: not configured. */
  publicOrigin: string | null;
}

export interface StartedJob {
  jobId: string;
  status: JobStatus;
  /** False: the document already had an active job, which is the one returned. */
  created: boolean;
  /** The first step was handed to the queue now. */
  published: boolean;
}

export async function startDocumentProcessing(
  deps: StartDocumentProcessingDeps,
  input: { documentId: string },
): Promise<Result<StartedJob, JobError>> {
  const created = await deps.db.withTenant(deps.scope, (tx) =>
    createDocumentProcessingJob(tx, input, deps.audit),
  );
  if (!created.ok) return created;
  const { jobId, status, publish } = created.value;
  const published = await publishFirstStep(
    { queue: deps.queue, publicOrigin: deps.publicOrigin, requestId: deps.scope.requestId },
    jobId,
    publish,
  );
  return ok({ jobId, status, created: created.value.created, published });
}
