/**
 * The Postgres backend on PGlite with every real migration: the contract, plus what only
 * Postgres has (the table's grants and checks, cleanup, an injected clock).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestDatabase, type TestDatabase } from "../../test/helpers/test-database";
import { createDatabase } from "../db/database";
import { createPostgresRateLimiter } from "./create-postgres-rate-limiter";
import { describeRateLimiterContract, uniqueKey } from "./rate-limiter.contract";

let t: TestDatabase;
const silent = () => {};

beforeAll(async () => {
  t = await startTestDatabase();
});
afterAll(() => t?.stop());

describeRateLimiterContract("postgres", () => ({
  create: (policy) => createPostgresRateLimiter({ ...policy, db: t.db, onUnavailable: silent }),
  createUnavailable(policy) {
    // Nothing listens on port 1: the connection is refused.
    const db = createDatabase("postgres://medchr_login@127.0.0.1:1/postgres");
    return createPostgresRateLimiter({ ...policy, db, onUnavailable: silent });
  },
}));

async function rowsFor(key: string) {
  return t.owner<{ window_start: Date; count: number; expires_at: Date }[]>`
    select window_start, count, expires_at from medchr_ops.rate_limit_buckets where key = ${key}
    order by window_start`;
}

describe("postgres rate limiter", () => {
  it("moves to a new window with an injected clock, one row per window", async () => {
    let now = Date.UTC(2026, 10, 22, 12, 0, 30);
    const limiter = createPostgresRateLimiter({ limit: 2, windowMs: 60_000, db: t.db, now: () => now });
    const key = uniqueKey("apikey");
    expect(await limiter.limit(key)).toMatchObject({
      success: true,
      remaining: 1,
      resetAt: Date.UTC(2026, 10, 22, 12, 1),
    });
    await limiter.limit(key);
    expect(await limiter.limit(key)).toMatchObject({ success: false, reason: "limited" });
    now += 60_000;
    expect(await limiter.limit(key)).toMatchObject({
      success: true,
      remaining: 1,
      resetAt: Date.UTC(2026, 10, 22, 12, 2),
    });
    const rows = await rowsFor(key);
    // Refusals wrote nothing: the full window stayed at the limit.
    expect(rows.map((r) => [r.window_start.toISOString(), r.count, r.expires_at.toISOString()])).toEqual([
      ["2026-11-22T12:00:00.000Z", 2, "2026-11-22T12:02:00.000Z"],
      ["2026-11-22T12:01:00.000Z", 1, "2026-11-22T12:03:00.000Z"],
    ]);
  });

  it("cleans expired windows opportunistically and leaves live ones", async () => {
    let now = Date.UTC(2026, 10, 22, 13, 0, 0);
    const quiet = createPostgresRateLimiter({
      limit: 5,
      windowMs: 60_000,
      db: t.db,
      now: () => now,
      cleanupProbability: 0,
    });
    const cleaner = createPostgresRateLimiter({
      limit: 5,
      windowMs: 60_000,
      db: t.db,
      now: () => now,
      cleanupProbability: 1,
    });
    const longWindow = createPostgresRateLimiter({
      limit: 5,
      windowMs: 15 * 60_000,
      db: t.db,
      now: () => now,
      cleanupProbability: 0,
    });
    const [old, long] = [uniqueKey(), uniqueKey("login-email")];
    await quiet.limit(old);
    await longWindow.limit(long);
    now += 3 * 60_000; // the 1-minute row expired (2 windows); the 15-minute one did not
    await cleaner.limit(uniqueKey());
    expect(await rowsFor(old)).toEqual([]);
    expect(await rowsFor(long)).toHaveLength(1);
  });

  it("runs as medchr_app without a tenant; the cron purge function is callable by it", async () => {
    await t.owner`insert into medchr_ops.rate_limit_buckets (key, window_start, count, expires_at)
      values ('test:expired', now() - interval '10 minutes', 3, now() - interval '8 minutes')`;
    const removed = await t.db.withoutTenant({ requestId: "req-purge" }, async (tx) => {
      const [who] = await tx<{ user: string }[]>`select current_user as user`;
      expect(who!.user).toBe("medchr_app");
      const [row] = await tx<{ n: number }[]>`select medchr_ops.purge_expired_rate_limit_buckets() as n`;
      return row!.n;
    });
    expect(removed).toBeGreaterThanOrEqual(1);
    expect(await rowsFor("test:expired")).toEqual([]);
  });

  it("the table itself refuses keys holding a raw email or IP", async () => {
    for (const key of ["login-email:someone@example.org", "login-ip:203.0.113.7"]) {
      await expect(
        t.owner`insert into medchr_ops.rate_limit_buckets (key, window_start, count, expires_at)
          values (${key}, now(), 1, now())`,
      ).rejects.toMatchObject({ code: "23514" });
    }
  });

  it("the schema is closed to PUBLIC and the app role cannot change it", async () => {
    const [grants] = await t.owner<{ public_usage: boolean; app_create: boolean; app_usage: boolean }[]>`
      select has_schema_privilege('public', 'medchr_ops', 'usage') as public_usage,
             has_schema_privilege('medchr_app', 'medchr_ops', 'create') as app_create,
             has_schema_privilege('medchr_app', 'medchr_ops', 'usage') as app_usage`;
    expect(grants).toEqual({ public_usage: false, app_create: false, app_usage: true });
  });
});
