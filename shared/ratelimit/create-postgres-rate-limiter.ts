/**
 * RateLimiter on Postgres, for deployments without Upstash Redis: fixed windows in
 * medchr_ops.rate_limit_buckets (migration 20261122170000), one row per key and window.
 *
 * One statement decides, atomically: INSERT ... ON CONFLICT DO UPDATE takes the row lock,
 * so concurrent requests for a key serialise on that row and exactly `limit` of them get
 * a row back. The update only happens while count < limit: refused requests write nothing
 * (a flood of refusals does not turn into a flood of row versions and WAL).
 *
 * Runs through Database.withoutTenant: counters are checked before a tenant is known and
 * are operational data, not tenant data (see the migration). Fails closed like every
 * RateLimiter: an error or a timeout answers { success: false, reason: "unavailable" }.
 */
import type { Database } from "../db/database";
import {
  assertRateLimitKey,
  assertRateLimitPolicy,
  type RateLimitDecision,
  type RateLimiter,
  type RateLimitPolicy,
  reportUnavailable,
  unavailableDecision,
  windowBounds,
  withTimeout,
} from "./rate-limiter";

/**
 * Share of calls that also delete expired windows. 1 %: on a busy key space this keeps
 * the table at about two windows of keys without a cron, and costs one extra statement
 * per hundred checks. The cron can call medchr_ops.purge_expired_rate_limit_buckets().
 */
export const DEFAULT_CLEANUP_PROBABILITY = 0.01;
/** Rows removed per opportunistic cleanup: bounded so no request pays for a big backlog. */
const CLEANUP_BATCH = 500;

export interface PostgresRateLimiterOptions extends RateLimitPolicy {
  db: Database;
  /** Epoch ms; injectable so tests move between windows without sleeping. Default Date.now. */
  now?: () => number;
  /** Default DEFAULT_CLEANUP_PROBABILITY; 0 disables, 1 cleans on every call. */
  cleanupProbability?: number;
  /** Default Math.random (not security relevant: only decides when to clean). */
  random?: () => number;
  /** Called when a check fails closed (metrics, logs). Default: a warning without key or message. */
  onUnavailable?: (error: unknown) => void;
}

export function createPostgresRateLimiter(options: PostgresRateLimiterOptions): RateLimiter {
  const policy = assertRateLimitPolicy(options);
  const now = options.now ?? Date.now;
  const random = options.random ?? Math.random;
  const cleanupProbability = options.cleanupProbability ?? DEFAULT_CLEANUP_PROBABILITY;
  const onUnavailable = options.onUnavailable ?? ((error: unknown) => reportUnavailable("postgres", error));

  return {
    async limit(key: string): Promise<RateLimitDecision> {
      assertRateLimitKey(key);
      const nowMs = now();
      const { start, end } = windowBounds(nowMs, policy.windowMs);
      const windowStart = new Date(start).toISOString();
      const expiresAt = new Date(start + 2 * policy.windowMs).toISOString();
      const clean = cleanupProbability > 0 && random() < cleanupProbability;
      try {
        const count = await withTimeout(
          options.db.withoutTenant({ requestId: "rate-limit" }, async (tx) => {
            const rows = await tx<{ count: number }[]>`
              insert into medchr_ops.rate_limit_buckets as b (key, window_start, count, expires_at)
              values (${key}, ${windowStart}::timestamptz, 1, ${expiresAt}::timestamptz)
              on conflict (key, window_start) do update set count = b.count + 1
                where b.count < ${policy.limit}
              returning b.count`;
            if (clean) {
              // Same clock as the windows (injectable), SKIP LOCKED so it never waits.
              await tx`
                delete from medchr_ops.rate_limit_buckets b
                using (
                  select key, window_start from medchr_ops.rate_limit_buckets
                  where expires_at < ${new Date(nowMs).toISOString()}::timestamptz
                  limit ${CLEANUP_BATCH}
                  for update skip locked
                ) old
                where b.key = old.key and b.window_start = old.window_start`;
            }
            // No row back: the window is full (the conflicting row was not updated).
            return rows[0]?.count ?? null;
          }),
          policy.timeoutMs,
        );
        if (count === null) {
          return { success: false, limit: policy.limit, remaining: 0, resetAt: end, reason: "limited" };
        }
        return { success: true, limit: policy.limit, remaining: policy.limit - count, resetAt: end };
      } catch (error) {
        onUnavailable(error);
        return unavailableDecision(policy, nowMs);
      }
    },
  };
}
