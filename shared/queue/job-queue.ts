/**
 * The queue the app publishes background jobs to (ingestion pipeline steps). One
 * implementation today: QStash (create-qstash-job-queue.ts); locally the same code talks to
 * scripts/local/qstash.
 *
 * Delivery is AT LEAST ONCE: a job can arrive twice (QStash retries after a lost response,
 * and can redeliver after its own restart). Consumers must be idempotent, keyed on an id in
 * the body (the job id), never on the transport's message id, which is not signed.
 *
 * Job bodies leave our infrastructure (QStash stores them and shows them in its console),
 * so they carry identifiers only (tenant id, job id, document id), never PHI or personal
 * data; MAX_JOB_BODY_BYTES keeps them small enough that a document cannot ride along.
 */
import type { DomainError, Result } from "../core/result";

export interface PublishJobOptions {
  /**
   * Same id within QStash's 10-minute window -> one message (the first one's id comes
   * back with `deduplicated: true`). Makes re-publishing after an unknown outcome safe.
   * Built from ids (e.g. `job:<uuid>:extract`), never from personal data: it travels in
   * a header and shows in QStash's console.
   */
  deduplicationId?: string;
  /** Deliver no earlier than this many seconds from now. */
  delaySeconds?: number;
  /** Retries after the first failed delivery; default: QStash's (the plan's maximum). */
  retries?: number;
}

export interface PublishedJob {
  messageId: string;
  /** The message already existed (same deduplication id within the window). */
  deduplicated: boolean;
}

/**
 * `unavailable`: the queue could not be reached or refused the request; the outcome may be
 * unknown (a timeout after the request left), so retry with the same deduplicationId.
 * `rate_limited`: QStash said 429. `invalid_input`: the body is too large to be a job.
 */
export type JobQueueError = DomainError & { code: "unavailable" | "rate_limited" | "invalid_input" };

export interface JobQueue {
  /**
   * Publishes `body` (JSON-serialised) for delivery as a POST to `destination`: a path
   * ("/pipeline/extract", resolved against the queue's destination origin) or an absolute
   * URL. Invalid options or destinations are programming errors and throw TypeError;
   * queue failures never throw.
   */
  publishJson(
    destination: string,
    body: unknown,
    options?: PublishJobOptions,
  ): Promise<Result<PublishedJob, JobQueueError>>;
}

/**
 * Ids from our own alphabet only: no "@", spaces or "/", so an email or a name cannot become
 * a deduplication id by accident; UUIDs and `<kind>:<uuid>:<step>` fit.
 */
export const DEDUPLICATION_ID_PATTERN = /^[A-Za-z0-9_.:-]{1,128}$/;
/** QStash's smallest plan allows delays up to 7 days; a pipeline step never needs more. */
export const MAX_JOB_DELAY_SECONDS = 7 * 24 * 60 * 60;
/** QStash itself refuses retries beyond the plan's maximum; this only catches typos. */
export const MAX_JOB_RETRIES = 20;
/**
 * A job names its data, it does not carry it (see above). 64 KiB is far above any list of
 * ids and far below a document; the receiving side reads no more than this either.
 */
export const MAX_JOB_BODY_BYTES = 64 * 1024;

export function assertPublishJobOptions(options: PublishJobOptions): void {
  const { deduplicationId, delaySeconds, retries } = options;
  if (deduplicationId !== undefined && !DEDUPLICATION_ID_PATTERN.test(deduplicationId)) {
    // Never echo the id: it might be the personal data this check keeps out.
    throw new TypeError("deduplicationId must match [A-Za-z0-9_.:-]{1,128}; build it from ids");
  }
  if (
    delaySeconds !== undefined &&
    (!Number.isInteger(delaySeconds) || delaySeconds < 0 || delaySeconds > MAX_JOB_DELAY_SECONDS)
  ) {
    throw new TypeError(`delaySeconds must be an integer from 0 to ${MAX_JOB_DELAY_SECONDS}`);
  }
  if (retries !== undefined && (!Number.isInteger(retries) || retries < 0 || retries > MAX_JOB_RETRIES)) {
    throw new TypeError(`retries must be an integer from 0 to ${MAX_JOB_RETRIES}`);
  }
}

/**
 * https anywhere, plain http only to loopback (the local stack). The QStash token travels
 * as a bearer header and job bodies name tenants and documents: neither may cross a
 * network in clear text (ASVS 9.1.1, HIPAA 164.312(e)(1) transmission security).
 */
export function isAllowedServiceUrl(url: URL): boolean {
  if (url.protocol === "https:") return true;
  if (url.protocol !== "http:") return false;
  const host = url.hostname.toLowerCase();
  return host === "localhost" || host === "[::1]" || /^127(?:\.\d{1,3}){3}$/.test(host);
}

/** A path joins the origin; an absolute URL is used as is. Both must pass isAllowedServiceUrl. */
export function resolveJobDestination(destination: string, origin: string | undefined): string {
  if (typeof destination !== "string" || destination === "") {
    throw new TypeError("destination must be a path or an absolute URL");
  }
  let url: URL;
  if (destination.startsWith("/")) {
    if (destination.startsWith("//")) throw new TypeError("destination path must not start with //");
    if (!origin) throw new TypeError("a destination path needs the queue's destinationOrigin");
    url = new URL(destination, origin);
  } else {
    try {
      url = new URL(destination);
    } catch {
      throw new TypeError("destination must be a path or an absolute URL");
    }
  }
  if (!isAllowedServiceUrl(url)) throw new TypeError("destination must be https (http only on loopback)");
  if (url.username || url.password) throw new TypeError("destination must not carry credentials");
  return url.toString();
}
