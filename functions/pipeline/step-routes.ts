/**
 * POST /pipeline/steps/{step}: one QStash delivery of one pipeline step, body {"jobId": uuid}.
 *
 * The Upstash-Signature is checked against the RAW body (current or next signing key, `sub`
 * = the URL this step is published to) before anything is parsed or looked up; anything
 * unsigned, forged, expired or tampered with is 401 and touches nothing. The shared plumbing
 * that runs first does not consume the body: bodyLimit only reads Content-Length when it is
 * sent (and otherwise re-wraps the bytes it counted in a fresh Request), requireJsonBody reads
 * a header.
 *
 * Answers: 200 when the delivery is done with (the step ran, was already done, or the job
 * ended, failed included: retrying would not change it); 503 when QStash should deliver again
 * (a retryable failure, the next publish failed, or another attempt holds the step).
 */
import type { Context } from "hono";
import { z } from "zod";
import type { AppConfig } from "../../shared/config/load-config";
import { requireKeyRing } from "../../shared/config/load-config";
import { type DomainError, err, ok, type Result } from "../../shared/core/result";
import type { AppEnv } from "../../shared/http/context";
import type { FunctionApp } from "../../shared/http/create-app";
import { HttpError } from "../../shared/http/errors";
import { STEP_DELIVERY_RETRIES, stepUrl } from "../../shared/jobs/job-settings";
import {
  isAcknowledged,
  type JobRunnerContext,
  type RunJobStepOutcome,
  runJobStep,
  type StepHandlers,
} from "../../shared/jobs/run-job-step";
import { createLlmGateway, type LlmGatewayDeps, type Redactor } from "../../shared/llm/create-llm-gateway";
import { type EmbeddingProvider, JOB_STEPS, type JobStep } from "../../shared/pipeline/pipeline-steps";
import { createQStashJobQueue } from "../../shared/queue/create-qstash-job-queue";
import type { JobQueue } from "../../shared/queue/job-queue";
import { readAndVerifyQStashRequest } from "../../shared/queue/read-and-verify-qstash-request";
import {
  createStorageServiceClient,
  type StorageFetcher,
} from "../../shared/storage/create-storage-service-client";
import type { ObjectStorage } from "../../shared/storage/object-storage";
import { readStorageInternalToken } from "../../shared/storage/storage-settings";
import type { OcrEngine, TextLimits, TextResult } from "../../shared/text";
import { type PipelineSettings, readPipelineSettings } from "./pipeline-settings";

export interface StepRouteOptions {
  /** The work of each step (shared/pipeline/steps STEP_HANDLERS in production). */
  handlers: StepHandlers;
  /** The isolate's OCR engine, created on first use (index.ts: the Worker's bundled assets). */
  getOcr: () => Promise<TextResult<OcrEngine>>;
  /** The on-box embedding provider, created once per isolate (the gateway's fallback). */
  embeddings: () => EmbeddingProvider;
  /** The gateway's external providers for this config; default: none (everything on-box). */
  externalProviders?: (config: AppConfig) => LlmGatewayDeps["providers"];
  /** The gateway's redactor; default none: a call that must be redacted stays on-box. */
  redactor?: Redactor;
  textLimits?: Partial<TextLimits>;
  /** Storage for tests; default: the STORAGE service binding with STORAGE_INTERNAL_TOKEN. */
  storageFor?: (c: Context<AppEnv>) => Result<ObjectStorage>;
  /** The queue next steps are published to; default: QStash with QSTASH_URL and QSTASH_TOKEN. */
  queueFor?: (c: Context<AppEnv>, settings: PipelineSettings) => JobQueue;
  now?: () => Date;
}

export const STEP_ROUTE_PATH = "/pipeline/steps/:step";

const StepBody = z.strictObject({ jobId: z.uuid() });

const storageClients = new WeakMap<AppConfig, ObjectStorage>();
const queues = new WeakMap<AppConfig, JobQueue>();

function misconfigured(): never {
  throw new HttpError("misconfigured", "The service is not configured correctly.");
}

/** The pipeline's storage: the storage function behind the STORAGE binding; it never holds the Supabase key. */
function bindingStorageFor(c: Context<AppEnv>): Result<ObjectStorage> {
  const config = c.var.config;
  const cached = storageClients.get(config);
  if (cached) return ok(cached);
  const binding = (c.env as Record<string, unknown> | undefined)?.STORAGE as StorageFetcher | undefined;
  const token = readStorageInternalToken(config);
  if (!binding || typeof binding.fetch !== "function" || !token.ok) {
    console.error(
      `medchr-pipeline storage is not configured: ${
        !binding || typeof binding.fetch !== "function"
          ? "the STORAGE service binding is missing"
          : token.ok
            ? ""
            : token.error.problems.join("; ")
      }`,
    );
    return err<DomainError>({ code: "unavailable", message: "Object storage is not configured." });
  }
  const client = createStorageServiceClient({ fetcher: binding, internalToken: token.value });
  storageClients.set(config, client);
  return ok(client);
}

function qstashQueueFor(c: Context<AppEnv>, settings: PipelineSettings): JobQueue {
  const config = c.var.config;
  let queue = queues.get(config);
  if (!queue) {
    queue = createQStashJobQueue({ token: settings.qstashToken, baseUrl: settings.qstashUrl });
    queues.set(config, queue);
  }
  return queue;
}

function isStep(value: string): value is JobStep {
  return (JOB_STEPS as readonly string[]).includes(value);
}

function responseOf(outcome: RunJobStepOutcome): Record<string, string> {
  switch (outcome.result) {
    case "ignored":
      return { result: outcome.result, reason: outcome.reason };
    case "advanced":
    case "republished":
      return { result: outcome.result, next: outcome.next };
    case "failed":
    case "retry":
      return { result: outcome.result, code: outcome.code };
    default:
      return { result: outcome.result };
  }
}

export function registerStepRoutes(app: FunctionApp, options: StepRouteOptions): void {
  app.post(STEP_ROUTE_PATH, async (c) => {
    const step = c.req.param("step");
    if (!isStep(step)) throw new HttpError("not_found", "Not found.");
    const settings = readPipelineSettings(c.var.config);
    if (!settings.ok) misconfigured();

    const verified = await readAndVerifyQStashRequest(
      c.req.raw,
      settings.value.signingKeys,
      stepUrl(settings.value.publicOrigin, step),
    );
    if (!verified.ok) {
      if (verified.error.code === "invalid_input") {
        throw new HttpError("payload_too_large", "The request body is too large.");
      }
      throw new HttpError("unauthorized", "A valid QStash signature is required.");
    }

    let parsed: z.infer<typeof StepBody>;
    try {
      const body = StepBody.safeParse(JSON.parse(verified.value.body));
      if (!body.success) throw new Error("invalid");
      parsed = body.data;
    } catch {
      // Signed by QStash, so published by us: a malformed body is a bug, not an attack.
      throw new HttpError("validation_failed", "The step body must be {jobId}.");
    }

    const storage = (options.storageFor ?? bindingStorageFor)(c);
    if (!storage.ok) misconfigured();
    const ctx: JobRunnerContext = {
      db: c.var.db,
      storage: storage.value,
      getOcr: options.getOcr,
      ...(options.textLimits ? { textLimits: options.textLimits } : {}),
      llm: createLlmGateway({
        db: c.var.db,
        auditKeys: requireKeyRing(c.var.config, "AUDIT_KEYS"),
        deployment: {
          phiProcessors: c.var.config.phiProcessors,
          redactionEnabled: c.var.config.phiRedactionEnabled,
        },
        providers: options.externalProviders?.(c.var.config) ?? {},
        onBoxEmbeddings: options.embeddings(),
        ...(options.redactor ? { redactor: options.redactor } : {}),
      }),
      now: options.now ?? (() => new Date()),
      requestId: c.var.requestId,
      queue: (options.queueFor ?? qstashQueueFor)(c, settings.value),
      publicOrigin: settings.value.publicOrigin,
      auditKeys: requireKeyRing(c.var.config, "AUDIT_KEYS"),
    };
    const outcome = await runJobStep(ctx, options.handlers, {
      jobId: parsed.jobId,
      step,
      deliveryAttempt: verified.value.retried + 1,
      maxAttempts: STEP_DELIVERY_RETRIES + 1,
    });
    if (!isAcknowledged(outcome)) {
      throw new HttpError(
        "unavailable",
        "The step did not finish; it will be delivered again.",
        responseOf(outcome),
      );
    }
    return c.json(responseOf(outcome), 200);
  });
}
