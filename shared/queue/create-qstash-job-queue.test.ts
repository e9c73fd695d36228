/**
 * The QStash JobQueue end to end against the local stand-in: publish through the real SDK
 * Client, delivery signed by the stand-in, verified by readAndVerifyQStashRequest.
 */
import { Client, type QstashError } from "@upstash/qstash";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type QStashStandin, startQStashStandin } from "../../scripts/local/qstash/server";
import {
  type ReceivedDelivery,
  startTestConsumer,
  type TestConsumer,
} from "../../scripts/local/qstash/start-test-consumer";
import {
  createQStashJobQueue,
  DEFAULT_QSTASH_URL,
  PublishTimeoutError,
  type QStashJobQueueOptions,
  qstashBaseUrlFromEnv,
} from "./create-qstash-job-queue";
import { MAX_JOB_BODY_BYTES } from "./job-queue";
import { readAndVerifyQStashRequest } from "./read-and-verify-qstash-request";

const TOKEN = "queue-test-token-0123456789abcdef";
const KEYS = {
  currentSigningKey: "sig_current_0123456789abcdefghij",
  nextSigningKey: "sig_next_0123456789abcdefghijklmn",
};

let standin: QStashStandin;
let consumer: TestConsumer;
let sdk: Client;
const errors: unknown[] = [];

const queueFor = (overrides: Partial<QStashJobQueueOptions> = {}) =>
  createQStashJobQueue({
    token: TOKEN,
    baseUrl: standin.url,
    destinationOrigin: consumer.url,
    onError: (error) => errors.push(error),
    ...overrides,
  });

const asRequest = (d: ReceivedDelivery) =>
  new Request(d.url, { method: d.method, headers: d.headers, body: d.method === "GET" ? undefined : d.body });

beforeAll(async () => {
  consumer = await startTestConsumer();
  standin = await startQStashStandin({ token: TOKEN, ...KEYS, retryDelaysMs: [20, 40] });
  sdk = new Client({
    baseUrl: standin.url,
    token: TOKEN,
    devMode: false,
    retry: false,
    enableTelemetry: false,
  });
});
afterEach(() => {
  consumer.clear();
  consumer.reply(() => 200);
  errors.length = 0;
  delete process.env.QSTASH_DEV;
});
afterAll(async () => {
  await standin?.stop();
  await consumer?.stop();
});

describe("createQStashJobQueue", () => {
  it("publishes a job that arrives signed and passes readAndVerifyQStashRequest", async () => {
    const queue = queueFor();
    const result = await queue.publishJson("/pipeline/extract", { jobId: "job-1", tenantId: "t-1" });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.value.deduplicated).toBe(false);

    const [delivery] = await consumer.waitFor("/pipeline/extract", 1);
    expect(delivery!.url).toBe(`${consumer.url}/pipeline/extract`);
    const verified = await readAndVerifyQStashRequest(asRequest(delivery!), KEYS);
    expect(verified).toEqual({
      ok: true,
      value: { body: '{"jobId":"job-1","tenantId":"t-1"}', messageId: result.value.messageId, retried: 0 },
    });
    expect(errors).toEqual([]);
  });

  it("passes retries through, and the consumer sees Upstash-Retried climb", async () => {
    consumer.reply((_d, i) => (i === 0 ? 500 : 200));
    const result = await queueFor().publishJson("/pipeline/retry", { jobId: "job-r" }, { retries: 1 });
    if (!result.ok) throw new Error("publish failed");
    expect(standin.message(result.value.messageId)?.maxRetries).toBe(1);
    const deliveries = await consumer.waitFor("/pipeline/retry", 2);
    const verified = await readAndVerifyQStashRequest(asRequest(deliveries[1]!), KEYS);
    expect(verified).toMatchObject({ ok: true, value: { retried: 1 } });
  });

  it("deduplicates on deduplicationId: same message id, one delivery", async () => {
    const queue = queueFor();
    const first = await queue.publishJson(
      "/pipeline/dedup",
      { jobId: "job-2" },
      { deduplicationId: "job-2:extract" },
    );
    const second = await queue.publishJson(
      "/pipeline/dedup",
      { jobId: "job-2" },
      { deduplicationId: "job-2:extract" },
    );
    expect(first).toMatchObject({ ok: true, value: { deduplicated: false } });
    expect(second).toMatchObject({ ok: true, value: { deduplicated: true } });
    if (!first.ok || !second.ok) return;
    expect(second.value.messageId).toBe(first.value.messageId);
    await standin.waitForMessage(first.value.messageId);
    await new Promise((r) => setTimeout(r, 50));
    expect(consumer.to("/pipeline/dedup")).toHaveLength(1);
  });

  it("passes delaySeconds through as a QStash delay", async () => {
    const result = await queueFor().publishJson("/pipeline/later", { jobId: "job-3" }, { delaySeconds: 30 });
    if (!result.ok) throw new Error("publish failed");
    const message = standin.message(result.value.messageId)!;
    expect(message.notBefore - message.createdAt).toBeGreaterThanOrEqual(29_900);
    expect(message.state).toBe("scheduled");
    await sdk.messages.cancel(result.value.messageId);
  });

  it("accepts an absolute destination URL", async () => {
    const result = await queueFor({ destinationOrigin: undefined }).publishJson(`${consumer.url}/abs`, {
      a: 1,
    });
    expect(result.ok).toBe(true);
    await consumer.waitFor("/abs", 1);
  });

  it("answers unavailable, without throwing, when QStash refuses the token", async () => {
    const result = await queueFor({ token: "wrong-token-0123456789abcdef" }).publishJson("/pipeline/x", {});
    expect(result).toEqual({ ok: false, error: { code: "unavailable", message: "job queue unavailable" } });
    expect(errors).toHaveLength(1);
    expect((errors[0] as QstashError).status).toBe(401);
  });

  it("answers unavailable when QStash cannot be reached", async () => {
    const closed = await startTestConsumer();
    const url = closed.url;
    await closed.stop();
    const result = await queueFor({ baseUrl: url, retry: false }).publishJson("/pipeline/x", {});
    expect(result).toMatchObject({ ok: false, error: { code: "unavailable" } });
  });

  it("stops waiting after timeoutMs", async () => {
    const silent = await startTestConsumer();
    silent.reply(() => ({ status: 200, delayMs: 3_000, body: '{"messageId":"msg_late"}' }));
    try {
      const started = Date.now();
      const result = await queueFor({ baseUrl: silent.url, timeoutMs: 200 }).publishJson("/pipeline/x", {});
      expect(Date.now() - started).toBeLessThan(1_500);
      expect(result).toMatchObject({ ok: false, error: { code: "unavailable" } });
      expect(errors[0]).toBeInstanceOf(PublishTimeoutError);
    } finally {
      await silent.stop();
    }
  });

  it("answers rate_limited on a 429", async () => {
    const limited = await startTestConsumer();
    limited.reply(() => ({ status: 429, body: "slow down" }));
    try {
      const result = await queueFor({ baseUrl: limited.url }).publishJson("/pipeline/x", {});
      expect(result).toEqual({
        ok: false,
        error: { code: "rate_limited", message: "job queue rate limited" },
      });
    } finally {
      await limited.stop();
    }
  });

  it("refuses a body too large to be a job, before publishing", async () => {
    const before = standin.stats().published;
    const result = await queueFor().publishJson("/pipeline/x", { pad: "x".repeat(MAX_JOB_BODY_BYTES) });
    expect(result).toMatchObject({ ok: false, error: { code: "invalid_input" } });
    expect(standin.stats().published).toBe(before);
  });

  it("keeps publishing to the configured URL when QSTASH_DEV is set", async () => {
    process.env.QSTASH_DEV = "true";
    const before = standin.stats().published;
    const result = await queueFor().publishJson("/pipeline/dev-env", {});
    expect(result.ok).toBe(true);
    expect(standin.stats().published).toBe(before + 1);
    await consumer.waitFor("/pipeline/dev-env", 1);
  });

  it("throws TypeError on configuration and programming errors", async () => {
    expect(() => createQStashJobQueue({ token: "" })).toThrow(TypeError);
    expect(() => createQStashJobQueue({ token: TOKEN, baseUrl: "http://qstash.example.com" })).toThrow(
      TypeError,
    );
    expect(() => createQStashJobQueue({ token: TOKEN, baseUrl: "not a url" })).toThrow(TypeError);
    expect(() => createQStashJobQueue({ token: TOKEN, destinationOrigin: "http://app.example.com" })).toThrow(
      TypeError,
    );
    expect(() => createQStashJobQueue({ token: TOKEN, timeoutMs: 0 })).toThrow(TypeError);

    const queue = queueFor();
    const bad: Array<[string, unknown, Record<string, unknown>?]> = [
      ["pipeline/relative", {}],
      ["//evil.example/x", {}],
      ["http://evil.example/x", {}],
      ["http://user:pw@127.0.0.1:1/x", {}],
      ["/p", undefined],
      ["/p", {}, { deduplicationId: "has space" }],
      ["/p", {}, { deduplicationId: "jane@example.com" }],
      ["/p", {}, { deduplicationId: "" }],
      ["/p", {}, { delaySeconds: -1 }],
      ["/p", {}, { delaySeconds: 1.5 }],
      ["/p", {}, { delaySeconds: 8 * 24 * 3600 }],
      ["/p", {}, { retries: 99 }],
    ];
    for (const [destination, body, options] of bad) {
      await expect(
        queue.publishJson(destination, body, options),
        JSON.stringify([destination, options]),
      ).rejects.toThrow(TypeError);
    }
    await expect(queueFor({ destinationOrigin: undefined }).publishJson("/p", {})).rejects.toThrow(TypeError);
  });
});

describe("qstashBaseUrlFromEnv", () => {
  it("reads QSTASH_URL and defaults to QStash's endpoint", () => {
    expect(qstashBaseUrlFromEnv({})).toBe(DEFAULT_QSTASH_URL);
    expect(qstashBaseUrlFromEnv({ QSTASH_URL: "  " })).toBe(DEFAULT_QSTASH_URL);
    expect(qstashBaseUrlFromEnv({ QSTASH_URL: "http://127.0.0.1:8081" })).toBe("http://127.0.0.1:8081");
  });
});
