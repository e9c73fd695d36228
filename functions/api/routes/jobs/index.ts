/**
 * Processing jobs (issue 5): start processing a document, and follow a job. Both routes are
 * protectedRoutes (patient.write / patient.read), tenant-scoped by RLS (another clinic's ids are
 * 404) and audited (job.create, job.read). The seed's partner path GET /jobs/{job_id} is an
 * alias of GET /api/v1/jobs/{jobId}.
 *
 * startDocumentProcessing is also how the documents API starts processing after an upload is
 * registered (documentProcessingHook).
 */
import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { Result } from "../../../../shared/core/result";
import type { DocumentRegisteredHook } from "../../../../shared/documents/document-services";
import { auditContextOf } from "../../../../shared/http/audit-context";
import type { AppEnv } from "../../../../shared/http/context";
import type { FunctionApp } from "../../../../shared/http/create-app";
import { protectedRoute } from "../../../../shared/http/define-route";
import { tenantScopeOf } from "../../../../shared/http/tenant-scope";
import { getJob } from "../../../../shared/jobs/get-job";
import type { JobError } from "../../../../shared/jobs/job-errors";
import {
  type StartedJob,
  startDocumentProcessing as startProcessing,
} from "../../../../shared/jobs/start-document-processing";
import type { JobQueue } from "../../../../shared/queue/job-queue";
import {
  commonErrors,
  defaultQueueFor,
  errorResponse,
  fail,
  JobEnvelope,
  jsonContent,
  ProcessDocumentResponse,
} from "./job-http";

export const JOBS_BASE = "/api/v1/jobs";
export const PARTNER_JOBS_BASE = "/jobs";

export interface JobRouteOptions {
  /** The queue first steps are published to; default QStash from the config (defaultQueueFor). */
  queueFor?: (c: Context<AppEnv>) => JobQueue | null;
}

export const processDocumentRoute = protectedRoute({
  method: "post",
  path: "/api/v1/documents/{documentId}/process",
  audit: { actions: ["job.create"] },
  tags: ["jobs"],
  summary: "Process a document: text, OCR, classification, extraction, embeddings",
  description:
    "Answers 202 with the job to follow at GET /api/v1/jobs/{jobId}. Idempotent: while the document has a queued or running job, that job is returned (created: false). A processed or failed document is processed again as a new version. Send an empty JSON object as the body (state-changing calls are JSON only).",
  permission: "patient.write",
  request: { params: z.object({ documentId: z.uuid() }) },
  responses: {
    202: jsonContent(ProcessDocumentResponse, "Accepted; Location names the job"),
    ...commonErrors,
    404: errorResponse("No such document in this clinic"),
    409: errorResponse("The document is quarantined (details.reason)"),
  },
});

const getJobConfig = {
  method: "get",
  summary: "A processing job: status, current step, per-step timings and attempts, safe error",
  audit: { actions: ["job.read"] },
  permission: "patient.read",
  responses: {
    200: jsonContent(JobEnvelope, "The job"),
    ...commonErrors,
    404: errorResponse("No such job in this clinic"),
  },
} as const;

export const getJobRoute = protectedRoute({
  ...getJobConfig,
  tags: ["jobs"],
  path: `${JOBS_BASE}/{jobId}`,
  request: { params: z.object({ jobId: z.uuid() }) },
});

export const partnerGetJobRoute = protectedRoute({
  ...getJobConfig,
  summary: `${getJobConfig.summary} (partner path, same as ${JOBS_BASE}/{jobId})`,
  tags: ["partner"],
  path: `${PARTNER_JOBS_BASE}/{job_id}`,
  request: { params: z.object({ job_id: z.uuid() }) },
});

/**
 * Creates the document's processing job in the caller's tenant (as the signed-in caller, for
 * the audit log) and publishes its first step after commit. `tenantId` must be the caller's.
 */
export async function startDocumentProcessing(
  c: Context<AppEnv>,
  input: { tenantId: string; documentId: string },
  options: JobRouteOptions = {},
): Promise<Result<StartedJob, JobError>> {
  const scope = tenantScopeOf(c);
  if (scope.tenantId !== input.tenantId)
    throw new Error("startDocumentProcessing: tenant is not the caller's");
  return startProcessing(
    {
      db: c.var.db,
      scope,
      audit: auditContextOf(c),
      queue: () => (options.queueFor ?? defaultQueueFor)(c),
      publicOrigin: c.var.config.publicOrigin ?? null,
    },
    { documentId: input.documentId },
  );
}

/**
 * The documents API's registration hook for this request: processing starts as soon as an
 * upload is registered. A failure is thrown for the documents module to log (the upload stays).
 */
export function documentProcessingHook(
  c: Context<AppEnv>,
  options: JobRouteOptions = {},
): DocumentRegisteredHook {
  return async (document, context) => {
    const started = await startDocumentProcessing(
      c,
      { tenantId: context.tenantId, documentId: document.id },
      options,
    );
    if (!started.ok) throw new Error(`processing not started: ${started.error.reason}`);
  };
}

export function registerJobRoutes(app: FunctionApp, options: JobRouteOptions = {}): void {
  app.openapi(processDocumentRoute, async (c) => {
    const { documentId } = c.req.valid("param");
    const started = await startDocumentProcessing(
      c,
      { tenantId: tenantScopeOf(c).tenantId, documentId },
      options,
    );
    if (!started.ok) fail(started.error);
    c.header("Location", `${JOBS_BASE}/${started.value.jobId}`);
    return c.json(
      { jobId: started.value.jobId, status: started.value.status, created: started.value.created },
      202,
    );
  });

  const read = async (c: Context<AppEnv>, jobId: string) => {
    const result = await c.var.db.withTenant(tenantScopeOf(c), (tx) => getJob(tx, jobId, auditContextOf(c)));
    if (!result.ok) fail(result.error);
    return { job: result.value };
  };
  app.openapi(getJobRoute, async (c) => c.json(await read(c, c.req.valid("param").jobId), 200));
  app.openapi(partnerGetJobRoute, async (c) => c.json(await read(c, c.req.valid("param").job_id), 200));
}
