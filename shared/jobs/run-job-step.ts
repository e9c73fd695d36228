/**
 * The job runner: what the pipeline function does with one QStash delivery of one step.
 *
 *   1. find the job before the tenant is known (medchr.find_job); a finished or vanished job
 *      is acknowledged and nothing happens;
 *   2. claim the step in a short tenant transaction: check it is the job's current step,
 *      that no live attempt holds it, that the document and its version still exist; mark it
 *      running with a lease;
 *   3. run the handler (its own transactions; it never touches the job row);
 *   4. record the outcome in a second short transaction, and only after that commit publish
 *      the next step with the deduplication id `${jobId}:${next}`.
 *
 * Redeliveries are harmless: a step recorded as succeeded is not run again. If the Worker died
 * between the commit in 4 and the publish, the redelivery of the same step finds it succeeded
 * with the next step still pending and publishes the next step again; QStash drops the
 * duplicate if the first publish did get through (same deduplication id).
 *
 * A failed attempt is recorded; a retryable one is answered with `retry` (the route says 5xx
 * and QStash retries with backoff) until the last delivery of the message or MAX_STEP_ATTEMPTS,
 * then the job fails (fail-job.ts: job, version and document together, in one transaction).
 * A failure the step calls permanent fails the job at once.
 */
import type { AuditContext } from "../audit/audit-context";
import { recordAudit } from "../audit/audit-context";
import type { KeyRing } from "../config/key-ring";
import type { RequestScope, Tx } from "../db/database";
import {
  isPipelineStep,
  type JobKind,
  type JobStep,
  type JobStepHandlers,
  nextStep,
  type ReportStepInput,
  type StepContext,
  type StepInput,
  type StepOutcome,
} from "../pipeline/pipeline-steps";
import type { JobQueue } from "../queue/job-queue";
import { auditFailureCode, failJob, safeErrorCode } from "./fail-job";
import { RUNNER_FAILURE_MESSAGES } from "./job-errors";
import { MAX_STEP_ATTEMPTS, STEP_LEASE_SECONDS, STEP_RETRY_GRACE_SECONDS } from "./job-settings";
import {
  JOB_KIND_REPORT_DRAFT,
  type JobRow,
  parseSteps,
  readJobRow,
  type StepRecord,
  stepRecord,
  TERMINAL_JOB_STATUSES,
  withStep,
} from "./job-view";
import { publishJobStep } from "./publish-job-step";

/** The audit log's name for the runner, and the actor of its transactions. */
export const PIPELINE_RUNNER_ACTOR = "pipeline.runner";

export interface JobRunnerContext extends StepContext {
  /** Where the next step is published. */
  queue: JobQueue;
  /** PUBLIC_ORIGIN: the pipeline function's origin, the destination of every step. */
  publicOrigin: string;
  /** Default STEP_LEASE_SECONDS. */
  leaseSeconds?: number;
}

export interface RunJobStepInput {
  jobId: string;
  step: JobStep;
  /** 1 for a message's first delivery (Upstash-Retried + 1). */
  deliveryAttempt: number;
  /** Deliveries one message gets (its retries + 1). */
  maxAttempts: number;
}

export type RunJobStepOutcome =
  /** Nothing to do: acknowledge. */
  | { result: "ignored"; reason: "job_not_found" | "job_finished" | "step_not_current" | "step_done" }
  /** The step had already succeeded and its next step was published again. */
  | { result: "republished"; next: JobStep }
  /** The step succeeded and the next one was published. */
  | { result: "advanced"; next: JobStep }
  /** The last step succeeded: the job is done. */
  | { result: "succeeded" }
  /** The job failed (recorded); acknowledge so the message is not retried. */
  | { result: "failed"; code: string }
  /** Not done: answer 5xx so QStash delivers again later. */
  | { result: "retry"; code: string }
  /** Another live attempt holds the step: answer 5xx, a later retry will find it finished. */
  | { result: "busy" };

export type StepHandlers = JobStepHandlers;

/** Whether the delivery is done with (2xx) or must come again (5xx). */
export function isAcknowledged(outcome: RunJobStepOutcome): boolean {
  return outcome.result !== "retry" && outcome.result !== "busy";
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

type Claim =
  | { kind: "done"; outcome: RunJobStepOutcome }
  | { kind: "republish"; next: JobStep }
  | { kind: "run"; target: JobTarget; attempt: number };

/**
 * What a job works on, found again at every claim and every outcome: a document.process job's
 * document and the version it builds, a report.draft job's report. Gone: the job fails.
 */
type JobTarget = { kind: "document"; input: StepInput } | { kind: "report"; input: ReportStepInput };

export async function runJobStep(
  ctx: JobRunnerContext,
  handlers: StepHandlers,
  input: RunJobStepInput,
): Promise<RunJobStepOutcome> {
  const handler = handlers[input.step];
  if (typeof handler !== "function") throw new TypeError(`no handler for step ${input.step}`);
  if (!UUID.test(input.jobId)) return { result: "ignored", reason: "job_not_found" };
  const jobId = input.jobId.toLowerCase();

  const [found] = await ctx.db.withoutTenant(
    { requestId: ctx.requestId },
    (tx) => tx<{ tenant_id: string; status: string }[]>`
      select tenant_id, status from medchr.find_job(${jobId})`,
  );
  if (!found) return { result: "ignored", reason: "job_not_found" };
  if (TERMINAL_JOB_STATUSES.has(found.status as never)) return { result: "ignored", reason: "job_finished" };

  const scope: RequestScope = {
    tenantId: found.tenant_id,
    actorId: PIPELINE_RUNNER_ACTOR,
    requestId: ctx.requestId,
  };
  const audit: AuditContext = {
    auditKeys: ctx.auditKeys,
    actor: { type: "system", id: PIPELINE_RUNNER_ACTOR },
    ip: null,
    userAgent: null,
    requestId: ctx.requestId,
  };

  const claim = await ctx.db.withTenant(
    scope,
    (tx): Promise<Claim> => claimStep(tx, ctx, audit, jobId, input),
  );
  if (claim.kind === "done") return claim.outcome;
  if (claim.kind === "republish") {
    const published = await publishJobStep(ctx.queue, {
      publicOrigin: ctx.publicOrigin,
      jobId,
      step: claim.next,
    });
    return published.ok
      ? { result: "republished", next: claim.next }
      : { result: "retry", code: "queue_unavailable" };
  }

  const startedMs = Date.now();
  let outcome: StepOutcome;
  try {
    outcome = await runHandler(handlers, input.step, stepContextOf(ctx), claim.target);
  } catch (error) {
    // A throw is a bug or an infrastructure fault (a dropped connection): retryable, and
    // logged by class only, since driver and parser messages can quote data.
    console.error(
      JSON.stringify({
        level: "error",
        event: "job.step_crashed",
        jobId,
        step: input.step,
        error: error instanceof Error ? error.name : typeof error,
        requestId: ctx.requestId,
      }),
    );
    outcome = {
      ok: false,
      failure: { code: "step_crashed", message: RUNNER_FAILURE_MESSAGES.step_crashed, retryable: true },
    };
  }
  const ms = Math.max(0, Date.now() - startedMs);

  const recorded = await ctx.db.withTenant(scope, (tx) =>
    recordOutcome(tx, ctx, audit, jobId, input, claim.attempt, outcome, ms),
  );
  if (recorded.result !== "advanced") return recorded;
  const published = await publishJobStep(ctx.queue, {
    publicOrigin: ctx.publicOrigin,
    jobId,
    step: recorded.next,
  });
  // The step is recorded; a redelivery of it publishes the next step again (see above).
  return published.ok ? recorded : { result: "retry", code: "queue_unavailable" };
}

/** What a handler may use: the StepContext fields only, not the runner's queue and keys. */
function stepContextOf(ctx: JobRunnerContext): StepContext {
  return {
    db: ctx.db,
    storage: ctx.storage,
    getOcr: ctx.getOcr,
    ...(ctx.textLimits ? { textLimits: ctx.textLimits } : {}),
    llm: ctx.llm,
    auditKeys: ctx.auditKeys,
    now: ctx.now,
    requestId: ctx.requestId,
  };
}

/** A step of one kind never runs with another kind's target (the step names its kind). */
function runHandler(
  handlers: StepHandlers,
  step: JobStep,
  ctx: StepContext,
  target: JobTarget,
): Promise<StepOutcome> {
  if (isPipelineStep(step)) {
    if (target.kind !== "document") throw new TypeError(`step ${step} needs a document job`);
    return handlers[step](ctx, target.input);
  }
  if (target.kind !== "report") throw new TypeError(`step ${step} needs a report job`);
  return handlers[step](ctx, target.input);
}

async function targetOf(tx: Tx, job: JobRow): Promise<JobTarget | null> {
  if (job.kind === JOB_KIND_REPORT_DRAFT) {
    const [report] = await tx<{ id: string }[]>`
      select id from medchr.reports where job_id = ${job.id}`;
    return report
      ? {
          kind: "report",
          input: { tenantId: job.tenant_id, jobId: job.id, patientId: job.patient_id, reportId: report.id },
        }
      : null;
  }
  if (!job.document_id) return null;
  const [row] = await tx<{ document_id: string; version_id: string }[]>`
    select d.id as document_id, v.id as version_id
    from medchr.documents d join medchr.document_versions v on v.document_id = d.id
    where d.id = ${job.document_id} and v.job_id = ${job.id}`;
  return row
    ? {
        kind: "document",
        input: {
          tenantId: job.tenant_id,
          jobId: job.id,
          documentId: row.document_id,
          patientId: job.patient_id,
          versionId: row.version_id,
        },
      }
    : null;
}

async function failForMissingTarget(
  tx: Tx,
  job: JobRow,
  steps: StepRecord[],
  step: JobStep,
  audit: AuditContext,
  now: Date,
): Promise<RunJobStepOutcome> {
  const code = job.kind === JOB_KIND_REPORT_DRAFT ? "report_deleted" : "document_deleted";
  await failJob(
    tx,
    job,
    { code, message: RUNNER_FAILURE_MESSAGES[code], reason: code, step },
    audit,
    now,
    steps,
  );
  return { result: "failed", code };
}

async function claimStep(
  tx: Tx,
  ctx: JobRunnerContext,
  audit: AuditContext,
  jobId: string,
  input: RunJobStepInput,
): Promise<Claim> {
  const now = ctx.now();
  const job = await readJobRow(tx, jobId, { forUpdate: true });
  if (!job) return { kind: "done", outcome: { result: "ignored", reason: "job_not_found" } };
  if (TERMINAL_JOB_STATUSES.has(job.status)) {
    return { kind: "done", outcome: { result: "ignored", reason: "job_finished" } };
  }
  const steps = parseSteps(job.steps, job.kind);
  if (!steps.some((s) => s.step === input.step)) {
    return { kind: "done", outcome: { result: "ignored", reason: "step_not_current" } };
  }
  const record = stepRecord(steps, input.step);
  if (record.status === "succeeded") {
    const next = nextStep(input.step);
    // Only the gap "committed, not yet published" is repaired: the job is waiting on exactly
    // the next step, which has not started. Anything later means the publish got through.
    if (next && job.current_step === next && stepRecord(steps, next).status === "pending") {
      return { kind: "republish", next };
    }
    return { kind: "done", outcome: { result: "ignored", reason: "step_done" } };
  }
  if (job.current_step !== input.step) {
    return { kind: "done", outcome: { result: "ignored", reason: "step_not_current" } };
  }
  if (record.status === "running" && job.lease_expires_at && job.lease_expires_at.getTime() > now.getTime()) {
    return { kind: "done", outcome: { result: "busy" } };
  }
  const target = await targetOf(tx, job);
  if (!target) {
    return { kind: "done", outcome: await failForMissingTarget(tx, job, steps, input.step, audit, now) };
  }

  const attempt = record.attempts + 1;
  const lease = new Date(now.getTime() + (ctx.leaseSeconds ?? STEP_LEASE_SECONDS) * 1000);
  const running = withStep(steps, input.step, {
    status: "running",
    startedAt: now.toISOString(),
    finishedAt: null,
    ms: null,
    attempts: attempt,
  });
  await tx`
    update medchr.jobs set status = 'running', current_step = ${input.step}, attempts = attempts + 1,
      lease_expires_at = ${lease}, steps = ${tx.json(running as never)}
    where id = ${jobId}`;
  return { kind: "run", attempt, target };
}

async function recordOutcome(
  tx: Tx,
  ctx: JobRunnerContext,
  audit: AuditContext,
  jobId: string,
  input: RunJobStepInput,
  attempt: number,
  outcome: StepOutcome,
  ms: number,
): Promise<RunJobStepOutcome> {
  const now = ctx.now();
  const job = await readJobRow(tx, jobId, { forUpdate: true });
  // The patient was deleted (jobs cascade) or the job ended meanwhile (sweeper, cancel).
  if (!job) return { result: "ignored", reason: "job_not_found" };
  if (TERMINAL_JOB_STATUSES.has(job.status)) return { result: "ignored", reason: "job_finished" };
  const steps = parseSteps(job.steps, job.kind);
  // Another attempt (after this one's lease ran out) finished the step first.
  if (stepRecord(steps, input.step).status === "succeeded") return { result: "ignored", reason: "step_done" };
  if (job.current_step !== input.step) return { result: "ignored", reason: "step_not_current" };
  if (!(await targetOf(tx, job))) {
    return failForMissingTarget(tx, job, steps, input.step, audit, now);
  }

  if (outcome.ok) {
    const done = withStep(steps, input.step, {
      status: "succeeded",
      finishedAt: now.toISOString(),
      ms,
      errorCode: null,
    });
    const next = nextStep(input.step);
    if (next) {
      await tx`
        update medchr.jobs set current_step = ${next}, lease_expires_at = null, steps = ${tx.json(done as never)}
        where id = ${jobId}`;
      return { result: "advanced", next };
    }
    await tx`
      update medchr.jobs set status = 'succeeded', finished_at = ${now}, lease_expires_at = null,
        steps = ${tx.json(done as never)}
      where id = ${jobId}`;
    await recordAudit(tx, audit, {
      action: "job.succeeded",
      outcome: "SUCCESS",
      resource: { type: "job", id: jobId },
      details: {
        kind: job.kind as JobKind,
        ...(job.document_id ? { documentId: job.document_id } : {}),
        attempts: job.attempts,
      },
    });
    return { result: "succeeded" };
  }

  const { failure } = outcome;
  const code = safeErrorCode(failure.code);
  const retryable = failure.retryable === true;
  const lastAttempt = input.deliveryAttempt >= input.maxAttempts || attempt >= MAX_STEP_ATTEMPTS;
  await recordAudit(tx, audit, {
    action: "job.step_failed",
    outcome: "FAILURE",
    resource: { type: "job", id: jobId },
    details: { step: input.step, attempt, retryable, code: auditFailureCode(code) },
  });
  const failedAttempt = withStep(steps, input.step, { finishedAt: now.toISOString(), ms, errorCode: code });
  if (!retryable || lastAttempt) {
    await failJob(
      tx,
      job,
      {
        code,
        message: failure.message,
        reason: retryable ? "retries_exhausted" : "permanent",
        step: input.step,
      },
      audit,
      now,
      failedAttempt,
    );
    return { result: "failed", code };
  }
  const retrying = withStep(failedAttempt, input.step, { status: "retrying" });
  const grace = new Date(now.getTime() + STEP_RETRY_GRACE_SECONDS * 1000);
  await tx`
    update medchr.jobs set lease_expires_at = ${grace}, steps = ${tx.json(retrying as never)}
    where id = ${jobId}`;
  return { result: "retry", code };
}
