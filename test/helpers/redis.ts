/**
 * Redis for tests: a real redis-server (Redis 7) on a free loopback port, and the
 * Upstash REST stand-in in front of it, so tests drive the production @upstash/redis and
 * @upstash/ratelimit code. Never skips: without /usr/bin/redis-server (or
 * REDIS_SERVER_PATH) it throws and says how to install it; CI installs it.
 */
import { randomBytes } from "node:crypto";
import { Redis } from "@upstash/redis";
import { startUpstashRedisStandin, type UpstashRedisStandin } from "../../scripts/local/upstash-redis/server";
import { spawnRedisServer } from "../../scripts/local/upstash-redis/spawn-redis-server";

export interface TestRedis {
  /** redis://127.0.0.1:<port> */
  url: string;
  stop(): Promise<void>;
}

/** A fresh, empty redis-server. Throws RedisServerMissingError when it is not installed. */
export async function startRedis(): Promise<TestRedis> {
  const redis = await spawnRedisServer();
  return { url: redis.url, stop: () => redis.stop() };
}

/** A random bearer token for a stand-in: tests never share or hard-code credentials. */
export function randomToken(): string {
  return randomBytes(24).toString("base64url");
}

export async function startStandin(redisUrl: string, token = randomToken()): Promise<UpstashRedisStandin> {
  return startUpstashRedisStandin({ redisUrl, token });
}

/**
 * The production client pointed at a stand-in. Telemetry off (tests make no claims to
 * Upstash); retries kept at the SDK default unless a test says otherwise.
 */
export function upstashClient(
  standin: { url: string; token: string },
  options: { retries?: number; responseEncoding?: false | "base64" } = {},
): Redis {
  return new Redis({
    url: standin.url,
    token: standin.token,
    enableTelemetry: false,
    ...(options.retries !== undefined ? { retry: { retries: options.retries, backoff: () => 10 } } : {}),
    ...(options.responseEncoding !== undefined ? { responseEncoding: options.responseEncoding } : {}),
  });
}
