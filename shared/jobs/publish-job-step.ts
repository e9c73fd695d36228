import type { Result } from "../core/result";
import type { JobStep } from "../pipeline/pipeline-steps";
import type { JobQueue, JobQueueError, PublishedJob } from "../queue/job-queue";
import { STEP_DELIVERY_RETRIES, stepDeduplicationId, stepUrl } from "./job-settings";

export interface PublishJobStepInput {
  /** Where the pipeline function is reached (PUBLIC_ORIGIN). */
  publicOrigin: string;
  jobId: string;
  step: JobStep;
  /** Default `${jobId}:${step}` (stepDeduplicationId); the sweeper passes its own. */
  deduplicationId?: string;
}

/**
 * Publishes one step delivery. The body names the job only: QStash stores and shows bodies,
 * and the tenant, document and version are found from the job id (medchr.find_job).
 */
export function publishJobStep(
  queue: JobQueue,
  input: PublishJobStepInput,
): Promise<Result<PublishedJob, JobQueueError>> {
  return queue.publishJson(
    stepUrl(input.publicOrigin, input.step),
    { jobId: input.jobId },
    {
      deduplicationId: input.deduplicationId ?? stepDeduplicationId(input.jobId, input.step),
      retries: STEP_DELIVERY_RETRIES,
    },
  );
}
