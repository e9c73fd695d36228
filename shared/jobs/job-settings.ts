/**
 * The numbers and names the job runner, the api (first publish) and the sweeper (cron) agree on:
 * where a step is delivered, how its deduplication id is built, how often it is retried.
 */
import type { JobStep } from "../pipeline/pipeline-steps";

/** Steps are delivered as POST <PUBLIC_ORIGIN>/pipeline/steps/<step> with body {jobId}. */
export const PIPELINE_STEP_PATH_PREFIX = "/pipeline/steps/";

/**
 * QStash retries per published step message (Upstash-Retries). QStash backs off e^(2.5n) s:
 * 12 s, 2.5 min, 30 min, so three retries ride out a database or storage blip of half an hour
 * before the sweeper has to step in.
 */
export const STEP_DELIVERY_RETRIES = 3;

/**
 * Attempts of one step over the whole job, whatever delivered them (QStash retries and the
 * sweeper's re-publishes): the hard bound on work spent on one document, since the
 * Upstash-Retried header is not covered by the signature and a re-published message starts
 * again at 0.
 */
export const MAX_STEP_ATTEMPTS = 8;

/**
 * How long a started attempt owns its step. A Worker invocation ends within minutes (OCR of the
 * largest accepted document is well under this), so an attempt still "running" after it has
 * crashed: the step may be claimed again, and the sweeper re-publishes it.
 */
export const STEP_LEASE_SECONDS = 10 * 60;

/**
 * After a retryable failure, how long QStash's own retries are waited for before the sweeper
 * treats the step as stuck: a little more than QStash's longest backoff above (30 min).
 */
export const STEP_RETRY_GRACE_SECONDS = 45 * 60;

/**
 * A step queued (published) but never delivered is stuck after this long: matches
 * medchr.tenants_with_stuck_jobs (updated_at + 15 minutes when no lease is set).
 */
export const STEP_DELIVERY_GRACE_SECONDS = 15 * 60;

/** Re-publishes of one step by the sweeper before the job is failed as stuck. */
export const MAX_STEP_SWEEPS = 3;

export function stepPath(step: JobStep): string {
  return `${PIPELINE_STEP_PATH_PREFIX}${step}`;
}

/** The absolute URL a step is published to (and the `sub` its delivery's signature must name). */
export function stepUrl(publicOrigin: string, step: JobStep): string {
  return new URL(stepPath(step), publicOrigin).toString();
}

/**
 * One message per (job, step) within QStash's 10-minute deduplication window: a step
 * re-published after a crash between commit and publish is dropped if the first publish got
 * through. Built from ids only (DEDUPLICATION_ID_PATTERN).
 */
export function stepDeduplicationId(jobId: string, step: JobStep): string {
  return `${jobId}:${step}`;
}

/** The sweeper's re-publish: a new id per sweep, or QStash would drop it as a duplicate. */
export function sweepDeduplicationId(jobId: string, step: JobStep, sweep: number): string {
  return `${jobId}:${step}:sweep${sweep}`;
}
