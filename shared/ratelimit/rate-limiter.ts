/**
 * Rate limiting (security-baseline: "API keys: per-key per-minute limit"; "failed logins:
 * per IP: rate limit"). Two backends with one contract (rate-limiter.contract.ts):
 *   - Upstash Redis (create-upstash-rate-limiter.ts) when UPSTASH_REDIS_REST_* is set;
 *   - Postgres (create-postgres-rate-limiter.ts) otherwise.
 * Both are fixed windows aligned to the epoch (a per-minute limit resets on the minute),
 * so a caller sees the same numbers whichever backend runs.
 *
 * FAIL CLOSED: when the backend errors or does not answer within the timeout, limit()
 * resolves { success: false, reason: "unavailable" } and never throws. The caller answers
 * 503 (reason "unavailable") or 429 (reason "limited"), with Retry-After from resetAt.
 * A limiter that opens up when its store is down would switch off brute-force protection
 * exactly when someone is flooding it.
 */

export interface RateLimitDecision {
  success: boolean;
  /** Requests allowed per window. */
  limit: number;
  /** Requests left in this window after this one (0 when refused). */
  remaining: number;
  /** Epoch ms when the current window ends: Retry-After = ceil((resetAt - now) / 1000). */
  resetAt: number;
  /** Set when success is false: "limited" -> 429; "unavailable" (backend down, failed closed) -> 503. */
  reason?: "limited" | "unavailable";
}

export interface RateLimiter {
  /**
   * Counts one request for `key` and says whether it may proceed. `key` is
   * `<namespace>:<id>` (RATE_LIMIT_KEY_PATTERN) and never holds raw personal data:
   * emails and IP addresses go through createRateLimitKey (HMAC) first. An invalid key
   * is a programming error and rejects with TypeError; backend failures never reject.
   */
  limit(key: string): Promise<RateLimitDecision>;
}

export interface RateLimitPolicy {
  /** Requests per window, >= 1. */
  limit: number;
  /** Window length in ms (per-minute limits: 60_000). */
  windowMs: number;
  /** Give up on the backend after this long and fail closed. Default DEFAULT_RATE_LIMIT_TIMEOUT_MS. */
  timeoutMs?: number;
}

/**
 * A check sits in front of every API call and login. Upstash and Postgres answer in a few
 * ms in-region, so a second of silence means trouble: refuse (fail closed) rather than
 * hold requests. @upstash/ratelimit's own default is 5 s and then ALLOW; we override both.
 */
export const DEFAULT_RATE_LIMIT_TIMEOUT_MS = 1_000;

/**
 * `<namespace>:<id>`. The id alphabet (base64url) has no "@", "." or ":", so a raw email
 * or IP address cannot become a key by accident: it is refused, not stored. The database
 * table carries the same check.
 */
export const RATE_LIMIT_KEY_PATTERN = /^[a-z][a-z0-9-]{0,31}:[A-Za-z0-9_-]{1,128}$/;

export function assertRateLimitKey(key: string): void {
  if (typeof key !== "string" || !RATE_LIMIT_KEY_PATTERN.test(key)) {
    // Never echo the key: it might be the raw email or IP this check exists to keep out.
    throw new TypeError(
      "rate-limit key must look like <namespace>:<base64url id>; hash personal data with createRateLimitKey",
    );
  }
}

export function assertRateLimitPolicy(policy: RateLimitPolicy): Required<RateLimitPolicy> {
  const timeoutMs = policy.timeoutMs ?? DEFAULT_RATE_LIMIT_TIMEOUT_MS;
  if (!Number.isInteger(policy.limit) || policy.limit < 1)
    throw new TypeError("limit must be an integer >= 1");
  if (!Number.isInteger(policy.windowMs) || policy.windowMs < 1) {
    throw new TypeError("windowMs must be an integer >= 1");
  }
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new TypeError("timeoutMs must be > 0");
  return { limit: policy.limit, windowMs: policy.windowMs, timeoutMs };
}

/** Fixed windows aligned to the epoch: both backends compute them the same way. */
export function windowBounds(nowMs: number, windowMs: number): { start: number; end: number } {
  const start = Math.floor(nowMs / windowMs) * windowMs;
  return { start, end: start + windowMs };
}

/** What a failed-closed check answers. */
export function unavailableDecision(policy: RateLimitPolicy, nowMs: number): RateLimitDecision {
  return {
    success: false,
    limit: policy.limit,
    remaining: 0,
    resetAt: windowBounds(nowMs, policy.windowMs).end,
    reason: "unavailable",
  };
}

/**
 * Logs that a backend failed, without the key or the error message (an UpstashError
 * message repeats the command, key included). Only the error's class name goes out.
 */
export function reportUnavailable(backend: string, error: unknown): void {
  const kind = error instanceof Error ? error.name : typeof error;
  console.warn(`[ratelimit] ${backend} backend unavailable (${kind}); failing closed`);
}

/** Rejects with RateLimitTimeoutError after `ms` unless `promise` settles first; always clears its timer. */
export async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new RateLimitTimeoutError(ms)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export class RateLimitTimeoutError extends Error {
  constructor(ms: number) {
    super(`rate-limit backend did not answer within ${ms} ms`);
    this.name = "RateLimitTimeoutError";
  }
}
