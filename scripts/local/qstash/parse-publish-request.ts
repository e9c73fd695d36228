/**
 * Turns a QStash publish request (destination + headers + body) into what the stand-in
 * stores, with the header semantics @upstash/qstash 2.12.0 relies on (processHeaders in
 * its client):
 *
 *   Upstash-Method                 GET | POST | PUT | DELETE | PATCH (default POST)
 *   Upstash-Delay                  "<n>s" (the SDK's form), also m, h, d, ms and sums ("1m30s")
 *   Upstash-Not-Before             unix seconds; wins over Upstash-Delay, as on QStash
 *   Upstash-Retries                retries after the first attempt (default DEFAULT_RETRIES)
 *   Upstash-Deduplication-Id       same id within the window -> the first message's id
 *   Upstash-Content-Based-Deduplication: true -> id = hash(destination, body, content type,
 *                                  forwarded headers), as QStash documents
 *   Upstash-Timeout                per-attempt time limit (same duration syntax)
 *   Upstash-Callback / Upstash-Failure-Callback   URLs, checked like the destination
 *   Upstash-Forward-<Name>         delivered as <Name>
 *   Content-Type                   delivered as is
 *
 * Refused with 400 rather than silently ignored, because they change WHAT is delivered or
 * WHERE: destinations that are not absolute http(s) URLs (URL groups, queues, the LLM
 * API), malformed numbers and durations. Ignored, because they only change timing or
 * bookkeeping and local retry delays are shortened anyway: Upstash-Retry-Delay,
 * Upstash-Flow-Control-*, Upstash-Label, Upstash-Redact-Fields, Upstash-Telemetry-*.
 */
import { createHash } from "node:crypto";

export const DELIVERY_METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH"] as const;
export type DeliveryMethod = (typeof DELIVERY_METHODS)[number];

/** QStash's free-plan default; the brief for local dev asks for the same. */
export const DEFAULT_RETRIES = 3;
/**
 * Paid QStash plans stop well below this; a larger value is a typo, and a message retried
 * that often would hide a broken consumer in local runs.
 */
export const MAX_RETRIES = 20;
/** QStash's longest allowed delay is plan-bound; a year is beyond any of them. */
export const MAX_DELAY_MS = 365 * 24 * 60 * 60 * 1000;

/**
 * Hop-by-hop and framing headers (RFC 9110 section 7.6.1) are the transport's business:
 * a forwarded Content-Length or Host would corrupt the delivery request.
 */
const UNFORWARDABLE = new Set([
  "host",
  "content-length",
  "connection",
  "keep-alive",
  "transfer-encoding",
  "te",
  "trailer",
  "upgrade",
  "expect",
  "proxy-authorization",
  "proxy-connection",
]);

export class PublishRejected extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = "PublishRejected";
  }
}

export interface ParsedPublish {
  url: string;
  method: DeliveryMethod;
  body: Uint8Array;
  contentType: string | undefined;
  /** Forwarded headers without the Upstash-Forward- prefix, lower-cased names. */
  forwardHeaders: Array<[string, string]>;
  notBeforeMs: number;
  maxRetries: number;
  /** "id:<header>" or "content:<sha256>"; undefined when the message is not deduplicated. */
  deduplicationKey: string | undefined;
  timeoutMs: number | undefined;
  callback: string | undefined;
  failureCallback: string | undefined;
}

export interface ParseContext {
  nowMs: number;
  allowDestination: (url: URL) => boolean;
}

const DURATION_UNITS_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/** "10s", "5m", "1h30m", "250ms" -> milliseconds; undefined when malformed. */
export function parseDuration(value: string): number | undefined {
  const text = value.trim();
  if (!/^(?:\d+(?:ms|s|m|h|d))+$/.test(text)) return undefined;
  let total = 0;
  for (const match of text.matchAll(/(\d+)(ms|s|m|h|d)/g)) {
    total += Number(match[1]) * DURATION_UNITS_MS[match[2]!]!;
  }
  return Number.isSafeInteger(total) ? total : undefined;
}

/**
 * The SDK joins the destination into the path unencoded ("/v2/publish/http://host/p?q=1");
 * other clients percent-encode it. Accept both, and only absolute http(s) URLs.
 */
export function parseDestination(raw: string, context: ParseContext, what = "destination"): string {
  let text = raw;
  if (!/^https?:\/\//i.test(text)) {
    try {
      text = decodeURIComponent(raw);
    } catch {
      throw new PublishRejected(400, `invalid ${what} url`);
    }
  }
  if (!/^https?:\/\//i.test(text)) {
    throw new PublishRejected(
      400,
      `${what} must be an absolute http(s) url; url groups and queues are not supported by the stand-in`,
    );
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new PublishRejected(400, `invalid ${what} url`);
  }
  if (!context.allowDestination(url)) {
    throw new PublishRejected(400, `${what} host is not allowed by the stand-in`);
  }
  // As published: the `sub` claim must equal what the consumer was told to expect.
  return text;
}

function parseNonNegativeInteger(value: string, name: string, max: number): number {
  if (!/^\d{1,12}$/.test(value.trim()))
    throw new PublishRejected(400, `${name} must be a non-negative integer`);
  const n = Number(value.trim());
  if (n > max) throw new PublishRejected(400, `${name} must be at most ${max}`);
  return n;
}

export function parsePublishRequest(
  destination: string,
  headers: Headers,
  body: Uint8Array,
  context: ParseContext,
): ParsedPublish {
  const url = parseDestination(destination, context);

  const methodHeader = (headers.get("upstash-method") ?? "POST").trim().toUpperCase();
  if (!(DELIVERY_METHODS as readonly string[]).includes(methodHeader)) {
    throw new PublishRejected(400, "Upstash-Method must be one of GET, POST, PUT, DELETE, PATCH");
  }
  const method = methodHeader as DeliveryMethod;

  let notBeforeMs = context.nowMs;
  const delay = headers.get("upstash-delay");
  if (delay !== null) {
    const ms = parseDuration(delay);
    if (ms === undefined || ms > MAX_DELAY_MS) throw new PublishRejected(400, "invalid Upstash-Delay");
    notBeforeMs = context.nowMs + ms;
  }
  const notBefore = headers.get("upstash-not-before");
  if (notBefore !== null) {
    const seconds = parseNonNegativeInteger(notBefore, "Upstash-Not-Before", 253_402_300_799);
    notBeforeMs = Math.max(context.nowMs, seconds * 1000);
  }

  const retriesHeader = headers.get("upstash-retries");
  const maxRetries =
    retriesHeader === null
      ? DEFAULT_RETRIES
      : parseNonNegativeInteger(retriesHeader, "Upstash-Retries", MAX_RETRIES);

  let timeoutMs: number | undefined;
  const timeout = headers.get("upstash-timeout");
  if (timeout !== null) {
    // The SDK sends "<n>s"; QStash also accepts a bare number of seconds.
    timeoutMs = /^\d+$/.test(timeout.trim()) ? Number(timeout.trim()) * 1000 : parseDuration(timeout);
    if (timeoutMs === undefined || timeoutMs <= 0) throw new PublishRejected(400, "invalid Upstash-Timeout");
  }

  const callbackHeader = headers.get("upstash-callback");
  const callback =
    callbackHeader === null ? undefined : parseDestination(callbackHeader, context, "callback");
  const failureHeader = headers.get("upstash-failure-callback");
  const failureCallback =
    failureHeader === null ? undefined : parseDestination(failureHeader, context, "failure callback");

  const contentType = headers.get("content-type") ?? undefined;
  const forwardHeaders: Array<[string, string]> = [];
  for (const [name, value] of headers) {
    if (!name.startsWith("upstash-forward-")) continue;
    const target = name.slice("upstash-forward-".length);
    if (!target || UNFORWARDABLE.has(target)) continue;
    forwardHeaders.push([target, value]);
  }
  forwardHeaders.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

  let deduplicationKey: string | undefined;
  const deduplicationId = headers.get("upstash-deduplication-id");
  if (deduplicationId !== null && deduplicationId.trim() !== "") {
    deduplicationKey = `id:${deduplicationId}`;
  } else if ((headers.get("upstash-content-based-deduplication") ?? "").trim().toLowerCase() === "true") {
    const hash = createHash("sha256");
    hash.update(JSON.stringify([url, method, contentType ?? "", forwardHeaders]));
    hash.update(body);
    deduplicationKey = `content:${hash.digest("hex")}`;
  }

  return {
    url,
    method,
    body,
    contentType,
    forwardHeaders,
    notBeforeMs,
    maxRetries,
    deduplicationKey,
    timeoutMs,
    callback,
    failureCallback,
  };
}

/** Loopback only by default: a dev tool must not carry job bodies to hosts on the internet. */
export function isLoopbackUrl(url: URL): boolean {
  const host = url.hostname.toLowerCase();
  return host === "localhost" || host === "[::1]" || /^127(?:\.\d{1,3}){3}$/.test(host);
}
