/**
 * RateLimiter on Upstash Redis through @upstash/ratelimit (fixed window, Lua INCR +
 * PEXPIRE, atomic in Redis). The Redis client is injected: Workers build it from
 * `@upstash/redis/cloudflare`, Node and tests from `@upstash/redis`; the local stack points
 * it at scripts/local/upstash-redis (same protocol).
 *
 * Timeout policy, deliberately: @upstash/ratelimit answers { success: true, reason:
 * "timeout" } when Redis is slow (default after 5 s). We pass our own timeout and turn
 * that answer, and any error, into { success: false, reason: "unavailable" }: FAIL CLOSED.
 */
import { Ratelimit } from "@upstash/ratelimit";
import {
  assertRateLimitKey,
  assertRateLimitPolicy,
  type RateLimitDecision,
  type RateLimiter,
  type RateLimitPolicy,
  reportUnavailable,
  unavailableDecision,
  withTimeout,
} from "./rate-limiter";

/** The client @upstash/ratelimit accepts (an @upstash/redis `Redis`, any platform build). */
export type UpstashRedisClient = ConstructorParameters<typeof Ratelimit>[0]["redis"];

/**
 * Our keys in a shared Redis: "medchr:rl:<namespace>:<id>:<window number>" (the library
 * joins prefix and key with ":" and appends the window). Namespaced so an operator can
 * find, count or flush them without touching anything else in the database.
 */
export const UPSTASH_RATE_LIMIT_PREFIX = "medchr:rl";

export interface UpstashRateLimiterOptions extends RateLimitPolicy {
  redis: UpstashRedisClient;
  /** Default UPSTASH_RATE_LIMIT_PREFIX. */
  prefix?: string;
  /** Called when a check fails closed (metrics, logs). Default: a warning without key or message. */
  onUnavailable?: (error: unknown) => void;
}

export function createUpstashRateLimiter(options: UpstashRateLimiterOptions): RateLimiter {
  const policy = assertRateLimitPolicy(options);
  const onUnavailable = options.onUnavailable ?? ((error: unknown) => reportUnavailable("upstash", error));
  const ratelimit = new Ratelimit({
    redis: options.redis,
    limiter: Ratelimit.fixedWindow(policy.limit, `${policy.windowMs} ms`),
    prefix: options.prefix ?? UPSTASH_RATE_LIMIT_PREFIX,
    timeout: policy.timeoutMs,
    // Analytics would write request metadata to Redis on every call; we keep none there.
    analytics: false,
    // The per-isolate "blocked until" cache is an unbounded Map (one entry per refused key,
    // e.g. per attacking IP) and skips Redis for refused keys; every check goes to Redis
    // instead, so counts are exact across isolates and memory stays flat.
    ephemeralCache: false,
  });

  return {
    async limit(key: string): Promise<RateLimitDecision> {
      assertRateLimitKey(key);
      try {
        // Our own timer as well: it also bounds work the library does outside its race
        // (and the library's timer disappears if someone passes timeout 0).
        const result = await withTimeout(ratelimit.limit(key), policy.timeoutMs + 50);
        if (result.reason === "timeout") {
          onUnavailable(new Error("timeout"));
          return unavailableDecision(policy, Date.now());
        }
        const decision: RateLimitDecision = {
          success: result.success,
          limit: result.limit,
          remaining: result.success ? result.remaining : 0,
          resetAt: result.reset,
        };
        if (!result.success) decision.reason = "limited";
        return decision;
      } catch (error) {
        onUnavailable(error);
        return unavailableDecision(policy, Date.now());
      }
    },
  };
}
