/**
 * After a job was created and committed: publish its first step. A failed publish (or no
 * queue configured) leaves the job queued for the sweeper, logged by ids only; the caller still
 * has its job id either way.
 */
import type { JobStep } from "../pipeline/pipeline-steps";
import type { JobQueue } from "../queue/job-queue";
import { publishJobStep } from "./publish-job-step";

export interface PublishFirstStepDeps {
  /** Resolved only when there is a step to publish; null: not configured. */
  queue: JobQueue | null | (() => JobQueue | null);
  /** PUBLIC_ORIGIN, where the pipeline function is reached; null: not configured. */
  publicOrigin: string | null;
  requestId: string;
}

/** Whether the step was handed to the queue now. */
export async function publishFirstStep(
  deps: PublishFirstStepDeps,
  jobId: string,
  step: JobStep | null,
): Promise<boolean> {
  if (!step || !deps.publicOrigin) return false;
  const queue = typeof deps.queue === "function" ? deps.queue() : deps.queue;
  if (!queue) return false;
  const result = await publishJobStep(queue, { publicOrigin: deps.publicOrigin, jobId, step });
  if (!result.ok) {
    console.warn(
      JSON.stringify({
        level: "warn",
        event: "job.publish_failed",
        jobId,
        step,
        code: result.error.code,
        requestId: deps.requestId,
      }),
    );
  }
  return result.ok;
}
