import { describe, expect, it } from "vitest";
import { signQStashDelivery } from "../../scripts/local/qstash/sign-qstash-delivery";
import { MAX_JOB_BODY_BYTES } from "./job-queue";
import { readAndVerifyQStashRequest } from "./read-and-verify-qstash-request";

const KEYS = {
  currentSigningKey: "sig_current_0123456789abcdefghij",
  nextSigningKey: "sig_next_0123456789abcdefghijklmn",
};
const URL_ = "https://app.example.test/pipeline/extract";
const BODY = '{"jobId":"job-1"}';

async function signedRequest(
  options: {
    url?: string;
    body?: string;
    signedUrl?: string;
    signedBody?: string;
    headers?: Record<string, string>;
  } = {},
): Promise<Request> {
  const body = options.body ?? BODY;
  const signature = await signQStashDelivery({
    key: KEYS.currentSigningKey,
    url: options.signedUrl ?? options.url ?? URL_,
    body: options.signedBody ?? body,
  });
  return new Request(options.url ?? URL_, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "upstash-signature": signature,
      "upstash-message-id": "msg_abc",
      "upstash-retried": "2",
      ...options.headers,
    },
    body,
  });
}

describe("readAndVerifyQStashRequest", () => {
  it("returns the raw body, message id and retry count of a valid delivery", async () => {
    const result = await readAndVerifyQStashRequest(await signedRequest(), KEYS);
    expect(result).toEqual({ ok: true, value: { body: BODY, messageId: "msg_abc", retried: 2 } });
  });

  it("checks the URL against request.url by default, or the expected URL when given", async () => {
    const elsewhere = await signedRequest({
      url: "https://app.example.test/pipeline/embed",
      signedUrl: URL_,
    });
    expect((await readAndVerifyQStashRequest(elsewhere, KEYS)).ok).toBe(false);

    const behindProxy = await signedRequest({
      url: "http://127.0.0.1:8787/pipeline/extract",
      signedUrl: URL_,
    });
    expect((await readAndVerifyQStashRequest(behindProxy, KEYS, URL_)).ok).toBe(true);

    const mismatch = await signedRequest();
    expect(await readAndVerifyQStashRequest(mismatch, KEYS, "https://app.example.test/other")).toEqual({
      ok: false,
      error: { code: "unauthorized", message: "invalid QStash signature" },
    });
  });

  it("refuses an unsigned request without reading its body", async () => {
    const request = new Request(URL_, { method: "POST", body: BODY });
    expect(await readAndVerifyQStashRequest(request, KEYS)).toEqual({
      ok: false,
      error: { code: "unauthorized", message: "missing QStash signature" },
    });
    expect(request.bodyUsed).toBe(false);
  });

  it("refuses a body that differs from the signed one", async () => {
    const request = await signedRequest({ body: '{"jobId":"job-2"}', signedBody: BODY });
    expect((await readAndVerifyQStashRequest(request, KEYS)).ok).toBe(false);
  });

  it("verifies the exact bytes, a leading BOM included", async () => {
    const withBom = `\uFEFF${BODY}`;
    const result = await readAndVerifyQStashRequest(await signedRequest({ body: withBom }), KEYS);
    expect(result).toMatchObject({ ok: true, value: { body: withBom } });
  });

  it("stops reading past the size limit, declared or streamed", async () => {
    const big = `{"pad":"${"x".repeat(MAX_JOB_BODY_BYTES)}"}`;
    expect(await readAndVerifyQStashRequest(await signedRequest({ body: big }), KEYS)).toEqual({
      ok: false,
      error: { code: "invalid_input", message: "request body too large" },
    });

    // No Content-Length: a stream that keeps going.
    const signature = await signQStashDelivery({ key: KEYS.currentSigningKey, url: URL_, body: "" });
    const chunk = new Uint8Array(1024);
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        sent++;
        if (sent > 200) controller.close();
        else controller.enqueue(chunk);
      },
    });
    const streamed = new Request(URL_, {
      method: "POST",
      headers: { "upstash-signature": signature },
      body: stream,
      duplex: "half",
    } as RequestInit);
    const result = await readAndVerifyQStashRequest(streamed, KEYS, undefined, { maxBodyBytes: 4096 });
    expect(result).toMatchObject({ ok: false, error: { code: "invalid_input" } });
    expect(sent).toBeLessThan(20);
  });

  it("treats missing or odd transport headers as hints, not failures", async () => {
    const request = await signedRequest({ headers: { "upstash-retried": "lots" } });
    request.headers.delete("upstash-message-id");
    const result = await readAndVerifyQStashRequest(request, KEYS);
    expect(result).toEqual({ ok: true, value: { body: BODY, messageId: null, retried: 0 } });
  });

  it("throws on programming errors: a consumed body, missing keys", async () => {
    const consumed = await signedRequest();
    await consumed.text();
    await expect(readAndVerifyQStashRequest(consumed, KEYS)).rejects.toThrow(TypeError);
    const unsigned = new Request(URL_, { method: "POST", body: BODY });
    await expect(
      readAndVerifyQStashRequest(unsigned, { currentSigningKey: "", nextSigningKey: KEYS.nextSigningKey }),
    ).rejects.toThrow(TypeError);
  });
});
