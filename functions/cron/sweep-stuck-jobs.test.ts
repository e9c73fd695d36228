import { afterEach, describe, expect, it, vi } from "vitest";
import { loadConfig } from "../../shared/config/load-config";
import type { Database } from "../../shared/db/database";
import { createRecordingQueue } from "../../shared/jobs/testing";
import { testEnv } from "../../test/helpers/test-env";
import { readStuckJobSweepSettings, stuckJobSweep } from "./sweep-stuck-jobs";

function cronConfig(overrides: Record<string, unknown> = {}) {
  const loaded = loadConfig("cron", testEnv("postgres://unused@127.0.0.1:1/postgres", overrides));
  if (!loaded.ok) throw new Error(loaded.error.message);
  return loaded.value;
}

/** A database with no stuck jobs anywhere: the sweep asks once and stops. */
const queries: string[] = [];
const emptyDb = {
  withoutTenant: async (_scope: unknown, fn: (tx: unknown) => Promise<unknown>) =>
    fn((strings: TemplateStringsArray) => {
      queries.push(strings.join("?"));
      return Promise.resolve([]);
    }),
  withTenant: async () => {
    throw new Error("no tenant has stuck jobs");
  },
  close: async () => {},
} as unknown as Database;

afterEach(() => {
  vi.restoreAllMocks();
  queries.length = 0;
});

describe("stuckJobSweep (cron)", () => {
  it("skips, with a warning naming the settings, when the queue is not configured in dev/test", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const summary = await stuckJobSweep(cronConfig(), emptyDb, "req-1")();
    expect(summary).toEqual({ skipped: 1 });
    expect(warn.mock.calls[0]![0]).toContain("QSTASH_TOKEN is missing");
    expect(queries).toEqual([]);
  });

  it("fails (error line) in prod/HIPAA mode without a queue: stuck jobs must not go unnoticed", async () => {
    const error = vi.spyOn(console, "error").mockImplementation(() => {});
    const config = { ...cronConfig(), strict: true };
    expect(await stuckJobSweep(config, emptyDb, "req-2")()).toEqual({ failed: 1 });
    expect(error).toHaveBeenCalledOnce();
  });

  it("reads QSTASH_TOKEN, QSTASH_URL and PUBLIC_ORIGIN, refusing a plain-http remote queue", () => {
    const token = "qstash-token-0123456789abcdefghijklmnop";
    expect(readStuckJobSweepSettings(cronConfig({ QSTASH_TOKEN: token }))).toEqual({
      ok: false,
      problems: ["PUBLIC_ORIGIN is missing"],
    });
    const good = readStuckJobSweepSettings(
      cronConfig({ QSTASH_TOKEN: token, PUBLIC_ORIGIN: "https://medchr.example.org" }),
    );
    expect(good.ok && good.value.publicOrigin).toBe("https://medchr.example.org");
    const insecure = readStuckJobSweepSettings(
      cronConfig({
        QSTASH_TOKEN: token,
        PUBLIC_ORIGIN: "https://medchr.example.org",
        QSTASH_URL: "http://qstash.example.org",
      }),
    );
    expect(insecure).toEqual({ ok: false, problems: ["QSTASH_URL must be https (http only on loopback)"] });
  });

  it("runs the sweep with the configured queue and returns counts only", async () => {
    const summary = await stuckJobSweep(cronConfig(), emptyDb, "req-3", {
      settings: { queue: createRecordingQueue(), publicOrigin: "https://medchr.example.org" },
      now: () => new Date("2026-11-23T03:17:00Z"),
    })();
    expect(summary).toEqual({ tenants: 0, requeued: 0, jobsFailed: 0, failed: 0 });
    expect(queries).toHaveLength(1);
    expect(queries[0]).toContain("tenants_with_stuck_jobs");
  });
});
