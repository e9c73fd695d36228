/**
 * The stand-in speaks QStash well enough for the production SDK: the real @upstash/qstash
 * Client publishes to it, and every delivery it makes is checked with the real Receiver.
 */
import { Client, QstashError, Receiver } from "@upstash/qstash";
import { decodeJwt } from "jose";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type QStashStandin, type QStashStandinOptions, startQStashStandin } from "./server";
import { hashQStashBody } from "./sign-qstash-delivery";
import { type ReceivedDelivery, startTestConsumer, type TestConsumer } from "./start-test-consumer";

const TOKEN = "standin-token-0123456789abcdef";
const CURRENT = "sig_current_0123456789abcdefghij";
const NEXT = "sig_next_0123456789abcdefghijklmn";
const RETRY_DELAYS = [60, 120, 180];

let standin: QStashStandin;
let consumer: TestConsumer;
let client: Client;
const extra: QStashStandin[] = [];

function sdkClient(baseUrl: string, token = TOKEN): Client {
  return new Client({ baseUrl, token, devMode: false, enableTelemetry: false, retry: false });
}

async function startExtra(
  overrides: Partial<QStashStandinOptions>,
): Promise<{ standin: QStashStandin; client: Client }> {
  const s = await startQStashStandin({
    token: TOKEN,
    currentSigningKey: CURRENT,
    nextSigningKey: NEXT,
    retryDelaysMs: RETRY_DELAYS,
    ...overrides,
  });
  extra.push(s);
  return { standin: s, client: sdkClient(s.url) };
}

async function verify(
  delivery: ReceivedDelivery,
  keys = { currentSigningKey: CURRENT, nextSigningKey: NEXT },
) {
  return new Receiver({ ...keys, devMode: false }).verify({
    signature: delivery.headers["upstash-signature"] ?? "",
    body: delivery.body,
    url: delivery.url,
  });
}

beforeAll(async () => {
  consumer = await startTestConsumer();
  standin = await startQStashStandin({
    token: TOKEN,
    currentSigningKey: CURRENT,
    nextSigningKey: NEXT,
    retryDelaysMs: RETRY_DELAYS,
  });
  client = sdkClient(standin.url);
});
afterEach(async () => {
  await standin.waitForIdle();
  consumer.reply(() => 200);
  consumer.clear();
  while (extra.length) await extra.pop()!.stop();
});
afterAll(async () => {
  await standin?.stop();
  await consumer?.stop();
});

describe("start-up", () => {
  it("refuses short tokens and signing keys, and bad retry delays", async () => {
    const base = { token: TOKEN, currentSigningKey: CURRENT, nextSigningKey: NEXT };
    await expect(startQStashStandin({ ...base, token: "short" })).rejects.toThrow(TypeError);
    await expect(startQStashStandin({ ...base, currentSigningKey: "" })).rejects.toThrow(TypeError);
    await expect(startQStashStandin({ ...base, nextSigningKey: "tiny" })).rejects.toThrow(TypeError);
    await expect(startQStashStandin({ ...base, retryDelaysMs: [-1] })).rejects.toThrow(TypeError);
  });
});

describe("authentication", () => {
  it("answers 401 without the bearer token, with a wrong one or another scheme, and enqueues nothing", async () => {
    const before = standin.stats().published;
    const destination = `${consumer.url}/auth-probe`;
    for (const authorization of [undefined, "Bearer wrong-token-0123456789", `Basic ${TOKEN}`, "Bearer "]) {
      for (const [method, path, body] of [
        ["POST", `/v2/publish/${destination}`, "{}"],
        ["POST", "/v2/batch", JSON.stringify([{ destination }])],
        ["GET", "/v2/messages/msg_x", undefined],
        ["GET", "/v2/keys", undefined],
        ["GET", "/v2/dlq", undefined],
      ] as const) {
        const res = await fetch(`${standin.url}${path}`, {
          method,
          headers: authorization ? { authorization } : {},
          ...(body !== undefined ? { body } : {}),
        });
        expect(res.status, `${method} ${path} with ${authorization}`).toBe(401);
      }
    }
    expect(standin.stats().published).toBe(before);
    expect(consumer.received).toHaveLength(0);
  });

  it("makes the SDK Client throw a 401 QstashError on a wrong token", async () => {
    const wrong = sdkClient(standin.url, "not-the-token-0123456789");
    const error = await wrong.publishJSON({ url: `${consumer.url}/x`, body: {} }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QstashError);
    expect((error as QstashError).status).toBe(401);
  });

  it("serves the signing keys on GET /v2/keys", async () => {
    const res = await fetch(`${standin.url}/v2/keys`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(await res.json()).toEqual({ current: CURRENT, next: NEXT });
  });
});

describe("publish and signed delivery", () => {
  it("delivers publishJSON as a signed POST the real Receiver accepts, with QStash's headers", async () => {
    const url = `${consumer.url}/jobs/extract?step=1`;
    const published = await client.publishJSON({
      url,
      body: { jobId: "job-1", n: 1 },
      headers: { "X-Job-Kind": "extract" },
    });
    expect(published.messageId).toMatch(/^msg_/);
    expect(published.url).toBe(url);

    const [delivery] = await consumer.waitFor("/jobs/extract", 1);
    expect(delivery!.method).toBe("POST");
    expect(delivery!.url).toBe(url);
    expect(JSON.parse(delivery!.body)).toEqual({ jobId: "job-1", n: 1 });
    expect(delivery!.headers["content-type"]).toBe("application/json");
    expect(delivery!.headers["x-job-kind"]).toBe("extract");
    expect(delivery!.headers["user-agent"]).toBe("Upstash-QStash");
    expect(delivery!.headers["upstash-message-id"]).toBe(published.messageId);
    expect(delivery!.headers["upstash-retried"]).toBe("0");
    // Nothing of the publish request's own control headers leaks to the destination.
    expect(Object.keys(delivery!.headers).filter((h) => h.startsWith("upstash-forward"))).toEqual([]);
    expect(delivery!.headers.authorization).toBeUndefined();
    await expect(verify(delivery!)).resolves.toBe(true);

    const claims = decodeJwt(delivery!.headers["upstash-signature"]!);
    expect(claims.iss).toBe("Upstash");
    expect(claims.sub).toBe(url);
    expect(claims.exp! - claims.iat!).toBe(300);
    expect(claims.nbf).toBe(claims.iat);
    expect(Math.abs(claims.iat! - Date.now() / 1000)).toBeLessThan(5);
    expect(claims.jti).toMatch(/^jwt_/);
    // Go's base64.URLEncoding, padding included, over the raw bytes.
    expect(claims.body).toBe(hashQStashBody(delivery!.body));
    expect(claims.body).toMatch(/^[A-Za-z0-9_-]{43}=$/);

    expect((await standin.waitForMessage(published.messageId)).state).toBe("delivered");
  });

  it("signs with the current key only: a receiver holding just the next key refuses it", async () => {
    await client.publishJSON({ url: `${consumer.url}/key-check`, body: { a: 1 } });
    const [delivery] = await consumer.waitFor("/key-check", 1);
    await expect(
      verify(delivery!, { currentSigningKey: NEXT, nextSigningKey: "sig_unrelated_0123456789abcdefg" }),
    ).rejects.toThrow();
    await expect(
      verify(delivery!, { currentSigningKey: "sig_unrelated_0123456789abcdefg", nextSigningKey: CURRENT }),
    ).resolves.toBe(true);
  });

  it("honours Upstash-Method and raw bodies with their content type", async () => {
    await client.publish({
      url: `${consumer.url}/put-me`,
      body: "plain text body",
      method: "PUT",
      headers: { "content-type": "text/plain" },
    });
    await client.publish({ url: `${consumer.url}/get-me`, method: "GET" });
    const [put] = await consumer.waitFor("/put-me", 1);
    const [get] = await consumer.waitFor("/get-me", 1);
    expect(put!.method).toBe("PUT");
    expect(put!.body).toBe("plain text body");
    expect(put!.headers["content-type"]).toBe("text/plain");
    await expect(verify(put!)).resolves.toBe(true);
    expect(get!.method).toBe("GET");
    expect(get!.body).toBe("");
    await expect(verify(get!)).resolves.toBe(true);
  });

  it("gives every message its own id and every signature its own jti", async () => {
    const a = await client.publishJSON({ url: `${consumer.url}/two`, body: { same: true } });
    const b = await client.publishJSON({ url: `${consumer.url}/two`, body: { same: true } });
    expect(a.messageId).not.toBe(b.messageId);
    const deliveries = await consumer.waitFor("/two", 2);
    const jtis = deliveries.map((d) => decodeJwt(d.headers["upstash-signature"]!).jti);
    expect(new Set(jtis).size).toBe(2);
  });

  it("delivers every message of a batchJSON", async () => {
    const results = await client.batchJSON([
      { url: `${consumer.url}/batch-a`, body: { i: 1 } },
      { url: `${consumer.url}/batch-b`, body: { i: 2 }, retries: 0 },
    ]);
    expect(results).toHaveLength(2);
    const [a] = await consumer.waitFor("/batch-a", 1);
    const [b] = await consumer.waitFor("/batch-b", 1);
    expect(JSON.parse(a!.body)).toEqual({ i: 1 });
    expect(JSON.parse(b!.body)).toEqual({ i: 2 });
    expect(b!.headers["content-type"]).toBe("application/json");
    await expect(verify(a!)).resolves.toBe(true);
    expect(standin.message((results[1] as { messageId: string }).messageId)?.maxRetries).toBe(0);
  });
});

describe("retries and dead letters", () => {
  it("retries non-2xx answers with the configured backoff until one succeeds", async () => {
    consumer.reply((_d, i) => (i < 2 ? 503 : 200));
    const { messageId } = await client.publishJSON({
      url: `${consumer.url}/flaky`,
      body: { x: 1 },
      retries: 3,
    });
    const view = await standin.waitForMessage(messageId);
    expect(view.state).toBe("delivered");

    const deliveries = consumer.to("/flaky");
    expect(deliveries.map((d) => d.headers["upstash-retried"])).toEqual(["0", "1", "2"]);
    expect(deliveries.every((d) => d.headers["upstash-message-id"] === messageId)).toBe(true);
    for (const d of deliveries) await expect(verify(d)).resolves.toBe(true);
    // Timers may fire a millisecond early; the gaps follow RETRY_DELAYS.
    expect(deliveries[1]!.at - deliveries[0]!.at).toBeGreaterThanOrEqual(RETRY_DELAYS[0]! - 2);
    expect(deliveries[2]!.at - deliveries[1]!.at).toBeGreaterThanOrEqual(RETRY_DELAYS[1]! - 2);

    const attempts = standin.attempts().filter((a) => a.messageId === messageId);
    expect(attempts.map((a) => [a.status, a.delivered])).toEqual([
      [503, false],
      [503, false],
      [200, true],
    ]);
  });

  it("dead-letters a message after its last retry and calls the failure callback, signed", async () => {
    consumer.reply((d) => (d.path === "/always-fails" ? { status: 500, body: "boom" } : 200));
    const { messageId } = await client.publishJSON({
      url: `${consumer.url}/always-fails`,
      body: { jobId: "job-dead" },
      retries: 2,
      failureCallback: `${consumer.url}/failed`,
    });
    const view = await standin.waitForMessage(messageId);
    expect(view.state).toBe("dead");
    expect(consumer.to("/always-fails")).toHaveLength(3);

    const dead = standin.deadLetters().find((d) => d.messageId === messageId);
    expect(dead).toMatchObject({ messageId, responseStatus: 500, failure: "status" });

    const [callback] = await consumer.waitFor("/failed", 1);
    await expect(verify(callback!)).resolves.toBe(true);
    const payload = JSON.parse(callback!.body) as Record<string, unknown>;
    expect(payload).toMatchObject({
      status: 500,
      sourceMessageId: messageId,
      url: `${consumer.url}/always-fails`,
      retried: 2,
      maxRetries: 2,
      dlqId: dead!.dlqId,
    });
    expect(Buffer.from(payload.body as string, "base64").toString()).toBe("boom");
    expect(JSON.parse(Buffer.from(payload.sourceBody as string, "base64").toString())).toEqual({
      jobId: "job-dead",
    });

    // The SDK's DLQ API sees it, and can delete it.
    const listed = await client.dlq.listMessages();
    expect(listed.messages.map((m) => m.dlqId)).toContain(dead!.dlqId);
    await client.dlq.delete(dead!.dlqId);
    expect(standin.deadLetters().some((d) => d.dlqId === dead!.dlqId)).toBe(false);
  });

  it("with retries 0, one failed attempt is final", async () => {
    consumer.reply(() => 500);
    const { messageId } = await client.publishJSON({ url: `${consumer.url}/once`, body: {}, retries: 0 });
    expect((await standin.waitForMessage(messageId)).state).toBe("dead");
    expect(consumer.to("/once")).toHaveLength(1);
  });

  it("retries when the destination is unreachable, then dead-letters with failure 'network'", async () => {
    const closed = await startTestConsumer();
    const unreachable = `${closed.url}/gone`;
    await closed.stop();
    const { messageId } = await client.publishJSON({ url: unreachable, body: {}, retries: 1 });
    expect((await standin.waitForMessage(messageId)).state).toBe("dead");
    const attempts = standin.attempts().filter((a) => a.messageId === messageId);
    expect(attempts.map((a) => a.failure)).toEqual(["network", "network"]);
  });

  it("gives up on an attempt after Upstash-Timeout", async () => {
    consumer.reply(() => ({ status: 200, delayMs: 3_000 }));
    const started = Date.now();
    const { messageId } = await client.publishJSON({
      url: `${consumer.url}/slow`,
      body: {},
      retries: 0,
      timeout: 1,
    });
    expect((await standin.waitForMessage(messageId)).state).toBe("dead");
    expect(Date.now() - started).toBeLessThan(2_500);
    expect(standin.attempts().find((a) => a.messageId === messageId)?.failure).toBe("timeout");
  });

  it("posts each attempt's response to Upstash-Callback", async () => {
    consumer.reply((d) => (d.path === "/with-callback" ? { status: 201, body: "created" } : 200));
    const { messageId } = await client.publishJSON({
      url: `${consumer.url}/with-callback`,
      body: { a: 1 },
      callback: `${consumer.url}/callback`,
    });
    const [callback] = await consumer.waitFor("/callback", 1);
    await expect(verify(callback!)).resolves.toBe(true);
    const payload = JSON.parse(callback!.body) as Record<string, unknown>;
    expect(payload).toMatchObject({ status: 201, sourceMessageId: messageId, retried: 0 });
    expect(Buffer.from(payload.body as string, "base64").toString()).toBe("created");
  });
});

describe("deduplication", () => {
  it("accepts a duplicate deduplication id with the first message's id and delivers once", async () => {
    const url = `${consumer.url}/dedup`;
    const first = await client.publishJSON({ url, body: { v: 1 }, deduplicationId: "job-7:extract" });
    const second = await client.publishJSON({ url, body: { v: 2 }, deduplicationId: "job-7:extract" });
    expect(second.messageId).toBe(first.messageId);
    expect(second.deduplicated).toBe(true);
    expect(first.deduplicated).toBeUndefined();

    const raw = await fetch(`${standin.url}/v2/publish/${url}`, {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}`, "upstash-deduplication-id": "job-7:extract" },
      body: "{}",
    });
    expect(raw.status).toBe(202);

    const other = await client.publishJSON({ url, body: { v: 3 }, deduplicationId: "job-8:extract" });
    expect(other.messageId).not.toBe(first.messageId);
    await standin.waitForIdle();
    expect(consumer.to("/dedup").map((d) => JSON.parse(d.body))).toEqual([{ v: 1 }, { v: 3 }]);
  });

  it("deduplicates on content when asked: same body once, another body again", async () => {
    const url = `${consumer.url}/content-dedup`;
    const a = await client.publishJSON({ url, body: { same: 1 }, contentBasedDeduplication: true });
    const b = await client.publishJSON({ url, body: { same: 1 }, contentBasedDeduplication: true });
    const c = await client.publishJSON({ url, body: { same: 2 }, contentBasedDeduplication: true });
    expect(b.messageId).toBe(a.messageId);
    expect(c.messageId).not.toBe(a.messageId);
    await standin.waitForIdle();
    expect(consumer.to("/content-dedup")).toHaveLength(2);
  });

  it("forgets deduplication ids after the window", async () => {
    const { client: c } = await startExtra({ deduplicationWindowMs: 200 });
    const url = `${consumer.url}/dedup-window`;
    const first = await c.publishJSON({ url, body: {}, deduplicationId: "window-1" });
    const again = await c.publishJSON({ url, body: {}, deduplicationId: "window-1" });
    await new Promise((r) => setTimeout(r, 250));
    const later = await c.publishJSON({ url, body: {}, deduplicationId: "window-1" });
    expect(again.messageId).toBe(first.messageId);
    expect(later.messageId).not.toBe(first.messageId);
    await consumer.waitFor("/dedup-window", 2);
  });
});

describe("delay, messages API and cancel", () => {
  it("holds a delayed message until its time", async () => {
    const started = Date.now();
    const { messageId } = await client.publishJSON({ url: `${consumer.url}/delayed`, body: {}, delay: 1 });
    const view = standin.message(messageId)!;
    expect(view.notBefore - view.createdAt).toBeGreaterThanOrEqual(999);
    await new Promise((r) => setTimeout(r, 600));
    expect(consumer.to("/delayed")).toHaveLength(0);
    const [delivery] = await consumer.waitFor("/delayed", 1);
    expect(delivery!.at - started).toBeGreaterThanOrEqual(990);
  });

  it("honours Upstash-Not-Before", async () => {
    const notBefore = Math.floor(Date.now() / 1000) + 2;
    const { messageId } = await client.publishJSON({
      url: `${consumer.url}/not-before`,
      body: {},
      notBefore,
    });
    expect(standin.message(messageId)!.notBefore).toBe(notBefore * 1000);
    await client.messages.cancel(messageId);
  });

  it("shows a pending message through the SDK and cancels it before delivery", async () => {
    const url = `${consumer.url}/cancel-me`;
    const { messageId } = await client.publishJSON({
      url,
      body: { k: "v" },
      delay: 60,
      retries: 1,
      headers: { "X-Trace": "t1" },
    });
    const message = await client.messages.get(messageId);
    expect(message).toMatchObject({ messageId, url, method: "POST", maxRetries: 1, body: '{"k":"v"}' });
    expect(message.header?.["x-trace"]).toEqual(["t1"]);

    await expect(client.messages.cancel(messageId)).resolves.toEqual({ cancelled: 1 });
    expect(standin.message(messageId)?.state).toBe("cancelled");
    const gone = await client.messages.get(messageId).catch((e: unknown) => e);
    expect((gone as QstashError).status).toBe(404);
    expect(consumer.to("/cancel-me")).toHaveLength(0);
  });
});

describe("at-least-once drills", () => {
  it("redeliver() sends a delivered message again with the same id and a fresh signature", async () => {
    const { messageId } = await client.publishJSON({ url: `${consumer.url}/again`, body: { id: 9 } });
    await standin.waitForMessage(messageId);
    const attempt = await standin.redeliver(messageId);
    expect(attempt).toMatchObject({ messageId, delivered: true, duplicate: true });
    const deliveries = consumer.to("/again");
    expect(deliveries).toHaveLength(2);
    expect(deliveries[1]!.headers["upstash-message-id"]).toBe(messageId);
    expect(deliveries[1]!.body).toBe(deliveries[0]!.body);
    for (const d of deliveries) await expect(verify(d)).resolves.toBe(true);
    expect(decodeJwt(deliveries[1]!.headers["upstash-signature"]!).jti).not.toBe(
      decodeJwt(deliveries[0]!.headers["upstash-signature"]!).jti,
    );
    await expect(standin.redeliver("msg_unknown")).rejects.toThrow();
  });

  it("duplicateDeliveries delivers each successful message twice", async () => {
    const { standin: s, client: c } = await startExtra({ duplicateDeliveries: true });
    await c.publishJSON({ url: `${consumer.url}/twice`, body: {} });
    await s.waitForIdle();
    const deliveries = consumer.to("/twice");
    expect(deliveries).toHaveLength(2);
    expect(deliveries[0]!.headers["upstash-message-id"]).toBe(deliveries[1]!.headers["upstash-message-id"]);
    expect(s.stats()).toMatchObject({ published: 1, delivered: 2, pending: 0 });
  });
});

describe("refusals", () => {
  async function publishRaw(destination: string, headers: Record<string, string> = {}, body = "{}") {
    const res = await fetch(`${standin.url}/v2/publish/${destination}`, {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}`, ...headers },
      body,
    });
    return { status: res.status, body: (await res.json()) as { error?: string } };
  }

  it("refuses destinations off loopback, URL groups, and bad control headers with 400", async () => {
    const before = standin.stats().published;
    expect((await publishRaw("https://example.com/hook")).status).toBe(400);
    expect((await publishRaw("my-url-group")).status).toBe(400);
    const ok = `${consumer.url}/never`;
    expect((await publishRaw(ok, { "upstash-retries": "many" })).status).toBe(400);
    expect((await publishRaw(ok, { "upstash-retries": "99" })).status).toBe(400);
    expect((await publishRaw(ok, { "upstash-delay": "10 parsecs" })).status).toBe(400);
    expect((await publishRaw(ok, { "upstash-method": "TRACE" })).status).toBe(400);
    expect((await publishRaw(ok, { "upstash-callback": "https://example.com/cb" })).status).toBe(400);
    expect(standin.stats().published).toBe(before);
  });

  it("accepts a percent-encoded destination as other clients send it", async () => {
    const res = await publishRaw(encodeURIComponent(`${consumer.url}/encoded`));
    expect(res.status).toBe(200);
    await consumer.waitFor("/encoded", 1);
  });

  it("refuses a batch with one bad entry without enqueueing the good ones", async () => {
    const res = await fetch(`${standin.url}/v2/batch`, {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify([
        { destination: `${consumer.url}/batch-good`, body: "{}" },
        { destination: "https://example.com/x", body: "{}" },
      ]),
    });
    expect(res.status).toBe(400);
    await new Promise((r) => setTimeout(r, 50));
    expect(consumer.to("/batch-good")).toHaveLength(0);
  });

  it("answers 413 past the body limit, 404 for unknown paths and 405 for wrong methods", async () => {
    const { standin: small } = await startExtra({ maxBodyBytes: 16 });
    const big = await fetch(`${small.url}/v2/publish/${consumer.url}/big`, {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}` },
      body: "x".repeat(17),
    });
    expect(big.status).toBe(413);
    const unknown = await fetch(`${standin.url}/v2/nothing`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(unknown.status).toBe(404);
    const wrong = await fetch(`${standin.url}/v2/publish/${consumer.url}/x`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get("allow")).toBe("POST");
  });
});

describe("stop", () => {
  it("drops scheduled deliveries and closes promptly", async () => {
    const { standin: s, client: c } = await startExtra({});
    await c.publishJSON({ url: `${consumer.url}/after-stop`, body: {}, delay: 1 });
    const started = Date.now();
    await s.stop();
    expect(Date.now() - started).toBeLessThan(500);
    await new Promise((r) => setTimeout(r, 1_100));
    expect(consumer.to("/after-stop")).toHaveLength(0);
    await expect(fetch(`${s.url}/v2/keys`)).rejects.toThrow();
  });
});
