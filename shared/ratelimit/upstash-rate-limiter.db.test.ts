/**
 * The Upstash backend against a real redis-server through the Upstash REST stand-in,
 * with the production @upstash/redis client: the contract, plus the ways Redis can fail.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { UpstashRedisStandin } from "../../scripts/local/upstash-redis/server";
import {
  randomToken,
  startRedis,
  startStandin,
  type TestRedis,
  upstashClient,
} from "../../test/helpers/redis";
import { createUpstashRateLimiter, UPSTASH_RATE_LIMIT_PREFIX } from "./create-upstash-rate-limiter";
import { describeRateLimiterContract, uniqueKey } from "./rate-limiter.contract";

let redis: TestRedis;
let standin: UpstashRedisStandin;
const silent = () => {};

beforeAll(async () => {
  redis = await startRedis();
  standin = await startStandin(redis.url);
});
afterAll(async () => {
  await standin?.stop();
  await redis?.stop();
});

describeRateLimiterContract("upstash", () => ({
  create: (policy) =>
    createUpstashRateLimiter({ ...policy, redis: upstashClient(standin), onUnavailable: silent }),
  async createUnavailable(policy) {
    // A stand-in that was running and is gone: the client retries connection errors, so
    // only the limiter's timeout bounds the wait.
    const gone = await startStandin(redis.url);
    await gone.stop();
    return createUpstashRateLimiter({ ...policy, redis: upstashClient(gone), onUnavailable: silent });
  },
}));

describe("upstash rate limiter", () => {
  it("stores its counters under the medchr:rl: prefix, with an expiry", async () => {
    const client = upstashClient(standin);
    const limiter = createUpstashRateLimiter({ limit: 3, windowMs: 60_000, redis: client });
    const key = uniqueKey("apikey");
    await limiter.limit(key);
    const keys = await client.keys(`${UPSTASH_RATE_LIMIT_PREFIX}:${key}:*`);
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatch(/^medchr:rl:apikey:[0-9a-f]{32}:\d+$/);
    expect(await client.pttl(keys[0]!)).toBeGreaterThan(0);
  });

  it("fails closed at once when Redis behind the REST endpoint is down (error, not timeout)", async () => {
    const ownRedis = await startRedis();
    const ownStandin = await startStandin(ownRedis.url);
    const failures: unknown[] = [];
    try {
      const limiter = createUpstashRateLimiter({
        limit: 5,
        windowMs: 60_000,
        timeoutMs: 5_000,
        redis: upstashClient(ownStandin),
        onUnavailable: (e) => failures.push(e),
      });
      expect((await limiter.limit(uniqueKey())).success).toBe(true);
      await ownRedis.stop();
      const started = Date.now();
      const decision = await limiter.limit(uniqueKey());
      expect(decision).toMatchObject({ success: false, reason: "unavailable", remaining: 0 });
      // An HTTP error is not retried by the SDK: far below the 5 s timeout.
      expect(Date.now() - started).toBeLessThan(1_000);
      expect(failures).toHaveLength(1);
    } finally {
      await ownStandin.stop();
      await ownRedis.stop();
    }
  });

  it("fails closed when Redis hangs: @upstash/ratelimit's 'timeout => success' is overridden", async () => {
    // Accepts the request and never answers.
    const hanging: Server = createServer(() => {});
    await new Promise<void>((resolve) => hanging.listen(0, "127.0.0.1", () => resolve()));
    const url = `http://127.0.0.1:${(hanging.address() as AddressInfo).port}`;
    const failures: unknown[] = [];
    try {
      const limiter = createUpstashRateLimiter({
        limit: 5,
        windowMs: 60_000,
        timeoutMs: 300,
        redis: upstashClient({ url, token: randomToken() }),
        onUnavailable: (e) => failures.push(e),
      });
      const started = Date.now();
      const decision = await limiter.limit(uniqueKey());
      const elapsed = Date.now() - started;
      expect(decision).toMatchObject({ success: false, reason: "unavailable" });
      expect(elapsed).toBeGreaterThanOrEqual(290);
      expect(elapsed).toBeLessThan(1_300);
      expect(failures).toHaveLength(1);
    } finally {
      hanging.closeAllConnections();
      await new Promise((resolve) => hanging.close(resolve));
    }
  });

  it("treats a wrong token as unavailable (401), never as allowed", async () => {
    const limiter = createUpstashRateLimiter({
      limit: 5,
      windowMs: 60_000,
      redis: upstashClient({ url: standin.url, token: randomToken() }),
      onUnavailable: silent,
    });
    expect(await limiter.limit(uniqueKey())).toMatchObject({ success: false, reason: "unavailable" });
  });

  it("rejects invalid policies up front", () => {
    const redisClient = upstashClient(standin);
    expect(() => createUpstashRateLimiter({ limit: 0, windowMs: 60_000, redis: redisClient })).toThrow(
      TypeError,
    );
    expect(() =>
      createUpstashRateLimiter({ limit: 5, windowMs: 60_000, timeoutMs: 0, redis: redisClient }),
    ).toThrow(TypeError);
  });
});
