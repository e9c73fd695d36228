import { Redis } from "@upstash/redis/cloudflare";
import type { AppConfig } from "../config/load-config";
import type { Database } from "../db/database";
import { createPostgresRateLimiter } from "./create-postgres-rate-limiter";
import { createUpstashRateLimiter } from "./create-upstash-rate-limiter";
import type { RateLimiter, RateLimitPolicy } from "./rate-limiter";

const redisClients = new WeakMap<AppConfig, Redis>();

/** Which backend a function's config selects (ADR 0006): Upstash when configured, else Postgres. */
export function rateLimitBackend(config: AppConfig): "upstash" | "postgres" {
  return typeof config.env.UPSTASH_REDIS_REST_URL === "string" &&
    config.env.UPSTASH_REDIS_REST_URL !== "" &&
    config.secrets.UPSTASH_REDIS_REST_TOKEN
    ? "upstash"
    : "postgres";
}

/**
 * A limiter for one policy on the configured backend. The Redis client is built once per
 * config (isolate); limiters are cheap wrappers, built per policy (per-key limits differ).
 * One retry with a short backoff: a limiter answers in milliseconds or fails closed.
 */
export function createConfiguredRateLimiter(
  config: AppConfig,
  db: Database,
  policy: RateLimitPolicy,
): RateLimiter {
  if (rateLimitBackend(config) === "upstash") {
    let redis = redisClients.get(config);
    if (!redis) {
      redis = new Redis({
        url: config.env.UPSTASH_REDIS_REST_URL as string,
        token: config.secrets.UPSTASH_REDIS_REST_TOKEN as string,
        retry: { retries: 1, backoff: () => 50 },
        enableTelemetry: false,
      });
      redisClients.set(config, redis);
    }
    return createUpstashRateLimiter({ redis, ...policy });
  }
  return createPostgresRateLimiter({ db, ...policy });
}
