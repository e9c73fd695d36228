/**
 * The sweeper (cron): finds active jobs whose current step is stuck, and re-publishes that step
 * or, after MAX_STEP_SWEEPS re-publishes, fails the job. Stuck means past its deadline:
 *  - running with an expired lease: the Worker died mid-step;
 *  - retrying past the retry grace: QStash gave up (the message is in its DLQ);
 *  - pending (queued, or the previous step done) for STEP_DELIVERY_GRACE_SECONDS: the publish
 *    was lost (queue down at the time) or never attempted (no queue configured).
 *
 *   const summary = await sweepStuckJobs(db, queue, { now, publicOrigin, auditKeys });
 *   // ids-free counts: { tenants, requeued, jobsFailed, failed }
 *
 * Each re-publish carries a fresh deduplication id (sweepDeduplicationId), or QStash would drop
 * it as a duplicate of the original message. Publishing happens after the tenant's transaction
 * committed; a failed publish is counted and left for the next sweep (the job's deadline was
 * moved on, so it is retried after one grace period).
 */
import { type AuditContext, recordAudit } from "../audit/audit-context";
import type { KeyRing } from "../config/key-ring";
import type { Database } from "../db/database";
import { type JobStep, stepsOfKind } from "../pipeline/pipeline-steps";
import type { JobQueue } from "../queue/job-queue";
import { failJob } from "./fail-job";
import { RUNNER_FAILURE_MESSAGES } from "./job-errors";
import {
  MAX_STEP_SWEEPS,
  STEP_DELIVERY_GRACE_SECONDS,
  STEP_LEASE_SECONDS,
  sweepDeduplicationId,
} from "./job-settings";
import { type JobRow, parseSteps, stepRecord, withStep } from "./job-view";
import { publishJobStep } from "./publish-job-step";

export const JOB_SWEEPER_ACTOR = "cron.job_sweeper";
/** Jobs handled per tenant per run; the rest wait for the next run. */
export const DEFAULT_SWEEP_LIMIT = 200;

export interface StuckJobSweepOptions {
  now: Date;
  publicOrigin: string;
  auditKeys: KeyRing;
  requestId?: string;
  limit?: number;
}

export interface StuckJobSweepSummary {
  tenants: number;
  /** Steps re-published. */
  requeued: number;
  /** Jobs failed as stuck. */
  jobsFailed: number;
  /** Re-publishes the queue refused (tried again next run). */
  failed: number;
}

export async function sweepStuckJobs(
  db: Database,
  queue: JobQueue,
  options: StuckJobSweepOptions,
): Promise<StuckJobSweepSummary> {
  const requestId = options.requestId ?? `sweep-jobs-${crypto.randomUUID()}`;
  const limit = options.limit ?? DEFAULT_SWEEP_LIMIT;
  const summary: StuckJobSweepSummary = { tenants: 0, requeued: 0, jobsFailed: 0, failed: 0 };
  const tenants = await db.withoutTenant(
    { requestId },
    (tx) => tx<{ tenant_id: string }[]>`
      select tenant_id from medchr.tenants_with_stuck_jobs(${options.now}) as s(tenant_id)`,
  );
  const audit: AuditContext = {
    auditKeys: options.auditKeys,
    actor: { type: "system", id: JOB_SWEEPER_ACTOR },
    ip: null,
    userAgent: null,
    requestId,
  };

  for (const { tenant_id: tenantId } of tenants) {
    summary.tenants += 1;
    const toPublish = await db.withTenant({ tenantId, actorId: JOB_SWEEPER_ACTOR, requestId }, async (tx) => {
      const stuck = await tx<JobRow[]>`
        select id, tenant_id, kind, patient_id, document_id, status, current_step, steps, attempts,
          lease_expires_at, error_code, error_message, created_at, updated_at, finished_at
        from medchr.jobs
        where status in ('queued', 'running')
          and coalesce(lease_expires_at, updated_at + ${STEP_DELIVERY_GRACE_SECONDS} * interval '1 second') < ${options.now}
        order by updated_at
        limit ${limit}
        for update skip locked`;
      const publish: Array<{ jobId: string; step: JobStep; sweep: number }> = [];
      for (const job of stuck) {
        const step = job.current_step ?? stepsOfKind(job.kind)[0];
        if (!step) continue;
        const steps = parseSteps(job.steps, job.kind);
        const record = stepRecord(steps, step);
        const sweeps = record.sweeps + 1;
        if (sweeps > MAX_STEP_SWEEPS) {
          await failJob(
            tx,
            job,
            { code: "step_stuck", message: RUNNER_FAILURE_MESSAGES.step_stuck, reason: "stuck", step },
            audit,
            options.now,
            steps,
          );
          summary.jobsFailed += 1;
          continue;
        }
        // A "running" attempt past its lease is dead: the re-published delivery must be able
        // to claim the step at once, not find it held.
        const swept = withStep(steps, step, {
          sweeps,
          status: record.status === "running" ? "retrying" : record.status,
        });
        const deadline = new Date(options.now.getTime() + STEP_LEASE_SECONDS * 1000);
        await tx`
          update medchr.jobs set lease_expires_at = ${deadline}, steps = ${tx.json(swept as never)}
          where id = ${job.id}`;
        await recordAudit(tx, audit, {
          action: "job.step_requeued",
          outcome: "SUCCESS",
          resource: { type: "job", id: job.id },
          details: { step, sweeps },
        });
        publish.push({ jobId: job.id, step, sweep: sweeps });
      }
      return publish;
    });

    for (const item of toPublish) {
      const result = await publishJobStep(queue, {
        publicOrigin: options.publicOrigin,
        jobId: item.jobId,
        step: item.step,
        deduplicationId: sweepDeduplicationId(item.jobId, item.step, item.sweep),
      });
      if (result.ok) summary.requeued += 1;
      else summary.failed += 1;
    }
  }
  return summary;
}
