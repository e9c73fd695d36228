/**
 * The HTTP edge of the jobs API: response shapes, how a request gets its queue, and how a job
 * error value becomes the error contract. Domain code (shared/jobs) knows nothing of this.
 */
import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { AppConfig } from "../../../../shared/config/load-config";
import type { AppEnv } from "../../../../shared/http/context";
import { HttpError, toHttpError } from "../../../../shared/http/errors";
import type { JobError } from "../../../../shared/jobs/job-errors";
import { JOB_STATUSES, STEP_STATUSES } from "../../../../shared/jobs/job-view";
import { JOB_STEPS } from "../../../../shared/pipeline/pipeline-steps";
import { createQStashJobQueue, qstashBaseUrlFromEnv } from "../../../../shared/queue/create-qstash-job-queue";
import type { JobQueue } from "../../../../shared/queue/job-queue";

export { commonErrors, errorResponse, jsonContent } from "../../../../shared/http/openapi-responses";

export const JobStepSchema = z
  .object({
    step: z.enum(JOB_STEPS),
    status: z.enum(STEP_STATUSES),
    startedAt: z.string().nullable().describe("Start of the latest attempt (ISO 8601)"),
    finishedAt: z.string().nullable(),
    ms: z.number().int().nullable().describe("Duration of the latest attempt"),
    attempts: z.number().int(),
  })
  .openapi("JobStep");

export const JobSchema = z
  .object({
    id: z.uuid(),
    kind: z.string(),
    status: z.enum(JOB_STATUSES),
    currentStep: z.enum(JOB_STEPS).nullable(),
    steps: z.array(JobStepSchema),
    attempts: z.number().int().describe("Step attempts so far, all steps"),
    error: z
      .object({ code: z.string(), message: z.string() })
      .nullable()
      .describe("Set when the job failed: a stable code and a message safe to show"),
    documentId: z.uuid().nullable(),
    patientId: z.uuid(),
    createdAt: z.string(),
    updatedAt: z.string(),
    finishedAt: z.string().nullable(),
  })
  .openapi("Job");

export const JobEnvelope = z.object({ job: JobSchema }).openapi("JobEnvelope");

export const ProcessDocumentResponse = z
  .object({
    jobId: z.uuid(),
    status: z.enum(JOB_STATUSES),
    created: z.boolean().describe("false: the document already had an active job, which is the one returned"),
  })
  .openapi("ProcessDocumentResponse");

/** The edge: a job error value becomes an HTTP error with its reason in details. */
export function fail(error: JobError): never {
  const base = toHttpError(error);
  throw new HttpError(base.code, error.message, { reason: error.reason });
}

const queues = new WeakMap<AppConfig, JobQueue | null>();

/**
 * The api's queue for first steps: QStash with QSTASH_TOKEN (a strict secret: always set in
 * prod) and QSTASH_URL. Without a token (dev or tests without the stand-in) there is none and
 * jobs wait for the sweeper; said once per isolate, by setting name.
 */
export function defaultQueueFor(c: Context<AppEnv>): JobQueue | null {
  const config = c.var.config;
  if (queues.has(config)) return queues.get(config) ?? null;
  const token = config.secrets.QSTASH_TOKEN;
  let queue: JobQueue | null = null;
  if (!token) {
    console.warn("medchr-api has no QSTASH_TOKEN: processing jobs are created but not published");
  } else if (!config.publicOrigin) {
    console.warn("medchr-api has no PUBLIC_ORIGIN: processing jobs are created but not published");
  } else {
    try {
      queue = createQStashJobQueue({ token, baseUrl: qstashBaseUrlFromEnv(config.env) });
    } catch {
      console.error("medchr-api QSTASH_URL is not usable: processing jobs are created but not published");
    }
  }
  queues.set(config, queue);
  return queue;
}
