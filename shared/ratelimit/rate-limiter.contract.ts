/**
 * The behaviour every RateLimiter backend must show, as vitest tests. A backend's test
 * file starts its backend in beforeAll and calls describeRateLimiterContract with a
 * harness; the same cases then run against Upstash (through the stand-in and a real
 * redis-server) and against Postgres (PGlite with the real migrations).
 *
 * Tests use real time. Fixed windows are aligned to the epoch, so before a multi-call
 * case the helper waits out the end of a window that is about to close: a boundary in the
 * middle of a case would split its counts and make it flaky.
 */
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { RateLimiter, RateLimitPolicy } from "./rate-limiter";

export interface RateLimiterHarness {
  /** A limiter on the working backend. */
  create(policy: RateLimitPolicy): RateLimiter;
  /** A limiter whose backend is down or unreachable (stopped server, bad URL). */
  createUnavailable(policy: RateLimitPolicy): RateLimiter | Promise<RateLimiter>;
}

/** A fresh key per case: backends are shared by the cases of a file. */
export function uniqueKey(namespace = "test"): string {
  return `${namespace}:${randomUUID().replace(/-/g, "")}`;
}

/** If the current window ends within `marginMs`, sleep into the next one. */
export async function awaitRoomInWindow(windowMs: number, marginMs: number): Promise<void> {
  const left = windowMs - (Date.now() % windowMs);
  if (left < marginMs) await sleep(left + 20);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const MINUTE = 60_000;

export function describeRateLimiterContract(name: string, harness: () => RateLimiterHarness): void {
  describe(`RateLimiter contract: ${name}`, () => {
    it("allows `limit` requests, then refuses with remaining 0 and resetAt at the window end", async () => {
      const limiter = harness().create({ limit: 5, windowMs: MINUTE });
      const key = uniqueKey();
      await awaitRoomInWindow(MINUTE, 2_000);
      const before = Date.now();
      const decisions = [];
      for (let i = 0; i < 6; i++) decisions.push(await limiter.limit(key));
      expect(decisions.slice(0, 5).map((d) => [d.success, d.remaining, d.limit])).toEqual([
        [true, 4, 5],
        [true, 3, 5],
        [true, 2, 5],
        [true, 1, 5],
        [true, 0, 5],
      ]);
      const refused = decisions[5]!;
      expect(refused).toMatchObject({ success: false, remaining: 0, limit: 5, reason: "limited" });
      expect(refused.resetAt).toBeGreaterThan(before);
      expect(refused.resetAt).toBeLessThanOrEqual(before + MINUTE);
      expect(refused.resetAt % MINUTE).toBe(0); // per-minute windows end on the minute
      expect(decisions[0]!.reason).toBeUndefined();
      // Still refused: refusals do not reset or extend anything.
      expect(await limiter.limit(key)).toMatchObject({
        success: false,
        remaining: 0,
        resetAt: refused.resetAt,
      });
    });

    it("counts keys independently", async () => {
      const limiter = harness().create({ limit: 2, windowMs: MINUTE });
      const [a, b] = [uniqueKey("apikey"), uniqueKey("apikey")];
      await awaitRoomInWindow(MINUTE, 2_000);
      await limiter.limit(a);
      await limiter.limit(a);
      expect((await limiter.limit(a)).success).toBe(false);
      expect(await limiter.limit(b)).toMatchObject({ success: true, remaining: 1 });
    });

    it("allows again once a new window starts", async () => {
      const windowMs = 1_000;
      const limiter = harness().create({ limit: 2, windowMs });
      const key = uniqueKey();
      await awaitRoomInWindow(windowMs, 400);
      await limiter.limit(key);
      await limiter.limit(key);
      const refused = await limiter.limit(key);
      expect(refused.success).toBe(false);
      await sleep(Math.max(0, refused.resetAt - Date.now()) + 30);
      const again = await limiter.limit(key);
      expect(again).toMatchObject({ success: true, remaining: 1 });
      expect(again.resetAt).toBe(refused.resetAt + windowMs);
    });

    it("lets exactly `limit` of 50 concurrent calls through", async () => {
      const limiter = harness().create({ limit: 10, windowMs: MINUTE, timeoutMs: 10_000 });
      const key = uniqueKey();
      await awaitRoomInWindow(MINUTE, 5_000);
      const decisions = await Promise.all(Array.from({ length: 50 }, () => limiter.limit(key)));
      const allowed = decisions.filter((d) => d.success);
      expect(allowed).toHaveLength(10);
      // Each allowed call saw its own count: no two were handed the same slot.
      expect(allowed.map((d) => d.remaining).sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      expect(decisions.filter((d) => !d.success).every((d) => d.reason === "limited")).toBe(true);
    });

    it("fails closed, without throwing and within the timeout, when the backend is down", async () => {
      const timeoutMs = 500;
      const limiter = await harness().createUnavailable({ limit: 5, windowMs: MINUTE, timeoutMs });
      const started = Date.now();
      const decision = await limiter.limit(uniqueKey());
      const elapsed = Date.now() - started;
      expect(decision).toMatchObject({ success: false, remaining: 0, limit: 5, reason: "unavailable" });
      expect(decision.resetAt).toBeGreaterThan(started);
      expect(elapsed).toBeLessThan(timeoutMs + 1_000);
    });

    it("refuses keys that could hold a raw email or IP address", async () => {
      const limiter = harness().create({ limit: 5, windowMs: MINUTE });
      for (const key of [
        "login-email:someone@example.org",
        "login-ip:203.0.113.7",
        "login-ip:2001:db8::1",
        "nonamespace",
      ]) {
        const error = await limiter.limit(key).then(
          () => null,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(TypeError);
        // The refusal must not repeat the personal data it keeps out.
        expect((error as Error).message).not.toContain(key.split(":")[1]!);
      }
    });
  });
}
