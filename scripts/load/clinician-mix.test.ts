import { describe, expect, it } from "vitest";
import {
  ACTION_WEIGHTS,
  isAcceptable,
  newStats,
  pickAction,
  record,
  recordFailure,
  seededRandom,
} from "./clinician-mix";

describe("the load test's verdicts", () => {
  it("accepts 2xx everywhere and 429 only where a documented limit applies", () => {
    expect(isAcceptable("patients.list", 200)).toBe(true);
    expect(isAcceptable("upload.register", 201)).toBe(true);
    expect(isAcceptable("sign-in", 429)).toBe(true);
    // A fail-closed limiter refusing a legitimate read is an error, not noise.
    expect(isAcceptable("patients.list", 429)).toBe(false);
    expect(isAcceptable("record.read", 503)).toBe(false);
    expect(isAcceptable("sign-in", 401)).toBe(false);
    expect(isAcceptable("job.poll", 500)).toBe(false);
  });

  it("counts statuses, latencies and errors per call, and failures by reason", () => {
    const stats = newStats();
    record(stats, "patients.get", 200, 12);
    record(stats, "patients.get", 503, 40);
    recordFailure(stats, "job.poll", "job failed");
    expect(stats.calls.get("patients.get")).toEqual({
      latencies: [12, 40],
      statuses: new Map([
        [200, 1],
        [503, 1],
      ]),
      errors: 1,
    });
    expect(stats.calls.get("job.poll")!.errors).toBe(1);
    expect(stats.failures.get("job.poll: job failed")).toBe(1);
  });
});

describe("the clinician mix", () => {
  it("is the same for the same seed and follows the weights", () => {
    const a = seededRandom(7);
    const b = seededRandom(7);
    const first = Array.from({ length: 50 }, () => pickAction(a));
    expect(Array.from({ length: 50 }, () => pickAction(b))).toEqual(first);
    const random = seededRandom(1);
    const counts = new Map<string, number>();
    for (let i = 0; i < 20_000; i++) {
      const action = pickAction(random);
      counts.set(action, (counts.get(action) ?? 0) + 1);
    }
    const total = Object.values(ACTION_WEIGHTS).reduce((n, w) => n + w, 0);
    for (const [action, weight] of Object.entries(ACTION_WEIGHTS)) {
      expect((counts.get(action) ?? 0) / 20_000).toBeCloseTo(weight / total, 1);
    }
  });
});
