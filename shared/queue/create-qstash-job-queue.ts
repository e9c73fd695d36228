/**
 * JobQueue over @upstash/qstash's `Client` (publishJSON). Production points it at
 * https://qstash.upstash.io; the local stack and tests at scripts/local/qstash (same
 * protocol), through QSTASH_URL.
 *
 * Settings passed deliberately rather than left to the SDK's defaults:
 *  - devMode: false. With QSTASH_DEV=true in the environment the SDK would otherwise ignore
 *    our token and URL and publish to its dev server on 127.0.0.1:8080 with its public dev
 *    credentials; an environment variable must not be able to re-route the queue.
 *  - enableTelemetry: false: no SDK/platform/runtime headers sent to a third party.
 *  - retry: the SDK retries only when fetch throws (network errors), 5 times over ~4 s by
 *    default; a request handler cannot wait that long, so 2 quick retries. A retry after a
 *    lost response can enqueue twice unless a deduplicationId is given; consumers are
 *    idempotent anyway (job-queue.ts).
 *  - a timeout of our own (the SDK has none): past it the outcome is unknown and the caller
 *    gets `unavailable`; re-publishing with the same deduplicationId is then safe.
 */
import { Client, QstashError, QstashRatelimitError } from "@upstash/qstash";
import { err, ok, type Result } from "../core/result";
import {
  assertPublishJobOptions,
  isAllowedServiceUrl,
  type JobQueue,
  type JobQueueError,
  MAX_JOB_BODY_BYTES,
  type PublishedJob,
  type PublishJobOptions,
  resolveJobDestination,
} from "./job-queue";

/** QStash's global endpoint (the SDK's default too). */
export const DEFAULT_QSTASH_URL = "https://qstash.upstash.io";
/** QStash answers a publish in tens of ms; past this a request handler stops waiting. */
export const DEFAULT_PUBLISH_TIMEOUT_MS = 5_000;
const DEFAULT_PUBLISH_RETRY = { retries: 2, backoff: (retryCount: number) => 100 * 2 ** retryCount };

export interface QStashJobQueueOptions {
  /** QSTASH_TOKEN. */
  token: string;
  /** QSTASH_URL; default DEFAULT_QSTASH_URL. https, or http on loopback only. */
  baseUrl?: string;
  /** Origin that destination paths resolve against (the public origin of the pipeline function). */
  destinationOrigin?: string;
  /** Network-error retries of the publish request itself; false disables them. */
  retry?: { retries: number; backoff: (retryCount: number) => number } | false;
  /** Default DEFAULT_PUBLISH_TIMEOUT_MS. */
  timeoutMs?: number;
  /** Called when a publish fails (metrics, logs). Default: a warning naming the error class and status only. */
  onError?: (error: unknown) => void;
}

/** QSTASH_URL from an env record (Worker bindings or process.env), defaulting to QStash's endpoint. */
export function qstashBaseUrlFromEnv(env: Readonly<Record<string, unknown>>): string {
  const value = env.QSTASH_URL;
  return typeof value === "string" && value.trim() !== "" ? value.trim() : DEFAULT_QSTASH_URL;
}

export function createQStashJobQueue(options: QStashJobQueueOptions): JobQueue {
  if (typeof options.token !== "string" || options.token === "") {
    throw new TypeError("the QStash token is required");
  }
  const baseUrl = (options.baseUrl ?? DEFAULT_QSTASH_URL).replace(/\/+$/, "");
  let parsedBase: URL;
  try {
    parsedBase = new URL(baseUrl);
  } catch {
    throw new TypeError("QSTASH_URL must be an absolute URL");
  }
  if (!isAllowedServiceUrl(parsedBase))
    throw new TypeError("QSTASH_URL must be https (http only on loopback)");
  if (options.destinationOrigin !== undefined) {
    // Fails fast at start-up rather than on the first publish.
    resolveJobDestination("/", options.destinationOrigin);
  }
  const timeoutMs = options.timeoutMs ?? DEFAULT_PUBLISH_TIMEOUT_MS;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new TypeError("timeoutMs must be > 0");
  const onError = options.onError ?? reportPublishFailure;

  const client = new Client({
    baseUrl,
    token: options.token,
    devMode: false,
    enableTelemetry: false,
    retry: options.retry === undefined ? DEFAULT_PUBLISH_RETRY : options.retry,
  });

  return {
    async publishJson(
      destination: string,
      body: unknown,
      publishOptions: PublishJobOptions = {},
    ): Promise<Result<PublishedJob, JobQueueError>> {
      const url = resolveJobDestination(destination, options.destinationOrigin);
      assertPublishJobOptions(publishOptions);
      const serialised = JSON.stringify(body);
      if (serialised === undefined) throw new TypeError("job body must be JSON-serialisable");
      if (new TextEncoder().encode(serialised).length > MAX_JOB_BODY_BYTES) {
        return err({ code: "invalid_input", message: "job body too large; jobs carry ids, not data" });
      }

      let timer: ReturnType<typeof setTimeout> | undefined;
      try {
        const published = client.publishJSON({
          url,
          // Parsed back so the SDK serialises exactly what was size-checked.
          body: JSON.parse(serialised) as unknown,
          ...(publishOptions.deduplicationId !== undefined
            ? { deduplicationId: publishOptions.deduplicationId }
            : {}),
          ...(publishOptions.delaySeconds !== undefined ? { delay: publishOptions.delaySeconds } : {}),
          ...(publishOptions.retries !== undefined ? { retries: publishOptions.retries } : {}),
        });
        const timeout = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new PublishTimeoutError(timeoutMs)), timeoutMs);
        });
        // A late rejection after the timeout won must not surface as an unhandled one.
        published.catch(() => undefined);
        const response = await Promise.race([published, timeout]);
        if (typeof response?.messageId !== "string" || response.messageId === "") {
          throw new Error("QStash answered without a message id");
        }
        return ok({ messageId: response.messageId, deduplicated: response.deduplicated === true });
      } catch (error) {
        onError(error);
        if (error instanceof QstashRatelimitError || (error instanceof QstashError && error.status === 429)) {
          return err({ code: "rate_limited", message: "job queue rate limited" });
        }
        return err({ code: "unavailable", message: "job queue unavailable" });
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

export class PublishTimeoutError extends Error {
  constructor(ms: number) {
    super(`QStash did not answer within ${ms} ms`);
    this.name = "PublishTimeoutError";
  }
}

/**
 * Logs the error's class and HTTP status only: a QstashError's message is QStash's response
 * body, and errors from fetch can name the destination URL.
 */
function reportPublishFailure(error: unknown): void {
  const kind = error instanceof Error ? error.name : typeof error;
  const status = error instanceof QstashError && error.status !== undefined ? ` ${error.status}` : "";
  console.warn(`[queue] QStash publish failed (${kind}${status})`);
}
