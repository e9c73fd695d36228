import { describe, expect, it } from "vitest";
import {
  DEFAULT_RETRIES,
  isLoopbackUrl,
  type ParseContext,
  PublishRejected,
  parseDuration,
  parsePublishRequest,
} from "./parse-publish-request";

const NOW = 1_700_000_000_000;
const context: ParseContext = { nowMs: NOW, allowDestination: isLoopbackUrl };
const body = new TextEncoder().encode('{"a":1}');
const parse = (headers: Record<string, string>, destination = "http://127.0.0.1:9/p") =>
  parsePublishRequest(destination, new Headers(headers), body, context);

describe("parseDuration", () => {
  it("reads the SDK's seconds and QStash's other units, alone or summed", () => {
    expect(parseDuration("10s")).toBe(10_000);
    expect(parseDuration("250ms")).toBe(250);
    expect(parseDuration("5m")).toBe(300_000);
    expect(parseDuration("2h")).toBe(7_200_000);
    expect(parseDuration("1d")).toBe(86_400_000);
    expect(parseDuration("1m30s")).toBe(90_000);
  });
  it("refuses anything else", () => {
    for (const bad of ["", "10", "s", "-1s", "1.5s", "10 s", "10y", "1s2", "1s;rm"]) {
      expect(parseDuration(bad), bad).toBeUndefined();
    }
  });
});

describe("isLoopbackUrl", () => {
  it("accepts loopback hosts only", () => {
    for (const ok of ["http://127.0.0.1:1/", "http://localhost/", "http://[::1]:8/", "http://127.5.6.7/"]) {
      expect(isLoopbackUrl(new URL(ok)), ok).toBe(true);
    }
    for (const no of [
      "http://10.0.0.1/",
      "https://example.com/",
      "http://127.0.0.1.example.com/",
      "http://0.0.0.0/",
    ]) {
      expect(isLoopbackUrl(new URL(no)), no).toBe(false);
    }
  });
});

describe("parsePublishRequest", () => {
  it("applies QStash's defaults", () => {
    const parsed = parse({});
    expect(parsed).toMatchObject({
      url: "http://127.0.0.1:9/p",
      method: "POST",
      notBeforeMs: NOW,
      maxRetries: DEFAULT_RETRIES,
      deduplicationKey: undefined,
      timeoutMs: undefined,
    });
  });

  it("lets Upstash-Not-Before win over Upstash-Delay, and never schedules in the past", () => {
    expect(parse({ "upstash-delay": "30s" }).notBeforeMs).toBe(NOW + 30_000);
    expect(parse({ "upstash-delay": "30s", "upstash-not-before": String(NOW / 1000 + 5) }).notBeforeMs).toBe(
      NOW + 5_000,
    );
    expect(parse({ "upstash-not-before": "1" }).notBeforeMs).toBe(NOW);
  });

  it("strips the forward prefix and drops hop-by-hop headers", () => {
    const parsed = parse({
      "upstash-forward-x-b": "2",
      "upstash-forward-x-a": "1",
      "upstash-forward-host": "evil.example",
      "upstash-forward-content-length": "999",
      "upstash-forward-transfer-encoding": "chunked",
      "x-not-forwarded": "no",
    });
    expect(parsed.forwardHeaders).toEqual([
      ["x-a", "1"],
      ["x-b", "2"],
    ]);
  });

  it("keys deduplication on the id, or on destination, body and headers when content-based", () => {
    expect(parse({ "upstash-deduplication-id": "abc" }).deduplicationKey).toBe("id:abc");
    const a = parse({ "upstash-content-based-deduplication": "true" }).deduplicationKey;
    const b = parse(
      { "upstash-content-based-deduplication": "true" },
      "http://127.0.0.1:9/q",
    ).deduplicationKey;
    const c = parse({
      "upstash-content-based-deduplication": "true",
      "upstash-forward-x": "1",
    }).deduplicationKey;
    expect(a).toMatch(/^content:[0-9a-f]{64}$/);
    expect(new Set([a, b, c]).size).toBe(3);
  });

  it("reads Upstash-Timeout as a duration or bare seconds", () => {
    expect(parse({ "upstash-timeout": "2s" }).timeoutMs).toBe(2_000);
    expect(parse({ "upstash-timeout": "3" }).timeoutMs).toBe(3_000);
    expect(() => parse({ "upstash-timeout": "0s" })).toThrow(PublishRejected);
  });

  it("rejects what it cannot honour with a 400", () => {
    const cases: Array<[Record<string, string>, string?]> = [
      [{}, "not-a-url"],
      [{}, "ftp://127.0.0.1/x"],
      [{}, "https://example.com/x"],
      [{ "upstash-method": "HEAD" }],
      [{ "upstash-retries": "-1" }],
      [{ "upstash-retries": "21" }],
      [{ "upstash-delay": "400d" }],
      [{ "upstash-not-before": "soon" }],
      [{ "upstash-failure-callback": "https://example.com/f" }],
    ];
    for (const [headers, destination] of cases) {
      let caught: unknown;
      try {
        parse(headers, destination);
      } catch (error) {
        caught = error;
      }
      expect(caught, JSON.stringify([headers, destination])).toBeInstanceOf(PublishRejected);
      expect((caught as PublishRejected).status).toBe(400);
    }
  });
});
