import { SignJWT } from "jose";
import { afterEach, describe, expect, it } from "vitest";
import { hashQStashBody, signQStashDelivery } from "../../scripts/local/qstash/sign-qstash-delivery";
import { verifyQStashSignature } from "./verify-qstash-signature";

const CURRENT = "sig_current_0123456789abcdefghij";
const NEXT = "sig_next_0123456789abcdefghijklmn";
const KEYS = { currentSigningKey: CURRENT, nextSigningKey: NEXT };
const URL_ = "https://pipeline.example.test/pipeline/extract?step=ocr";
const BODY = '{"jobId":"0b7f3c1e-2f4d-4e55-9c1a-6f0e8f1d2a3b"}';
/** The @upstash/qstash dev server's published signing key: anyone can sign with it. */
const SDK_DEV_KEY = "sig_7kYjw48mhY7kAjqNGcy6cr29RJ6r";

const now = () => Math.floor(Date.now() / 1000);
const sign = (overrides: Partial<Parameters<typeof signQStashDelivery>[0]> = {}) =>
  signQStashDelivery({ key: CURRENT, url: URL_, body: BODY, ...overrides });
const check = (signature: string | null | undefined, overrides: Record<string, unknown> = {}) =>
  verifyQStashSignature({ ...KEYS, signature, body: BODY, url: URL_, ...overrides });

const UNAUTHORIZED = { ok: false, error: { code: "unauthorized", message: "invalid QStash signature" } };

afterEach(() => {
  delete process.env.QSTASH_DEV;
  delete process.env.QSTASH_CURRENT_SIGNING_KEY;
  delete process.env.QSTASH_NEXT_SIGNING_KEY;
});

describe("verifyQStashSignature", () => {
  it("accepts a delivery signed with the current key", async () => {
    expect(await check(await sign())).toEqual({ ok: true, value: undefined });
  });

  it("accepts a delivery signed with the next key (rotation in progress)", async () => {
    expect(await check(await sign({ key: NEXT }))).toEqual({ ok: true, value: undefined });
  });

  it("refuses a signature made with any other key", async () => {
    expect(await check(await sign({ key: "sig_forged_0123456789abcdefghijk" }))).toEqual(UNAUTHORIZED);
  });

  it("refuses a missing or blank header with its own message", async () => {
    for (const signature of [undefined, null, "", "   "]) {
      expect(await check(signature)).toEqual({
        ok: false,
        error: { code: "unauthorized", message: "missing QStash signature" },
      });
    }
  });

  it("refuses an expired token, and one not valid yet", async () => {
    expect(await check(await sign({ nowSeconds: now() - 600 }))).toEqual(UNAUTHORIZED);
    expect(await check(await sign({ nowSeconds: now() + 120 }))).toEqual(UNAUTHORIZED);
  });

  it("allows a few seconds of clock skew, and no more than asked", async () => {
    const justExpired = await sign({ nowSeconds: now() - 302 });
    expect((await check(justExpired)).ok).toBe(true);
    expect(await check(justExpired, { clockToleranceSeconds: 0 })).toEqual(UNAUTHORIZED);
    const slightlyAhead = await sign({ nowSeconds: now() + 2 });
    expect((await check(slightlyAhead)).ok).toBe(true);
  });

  it("refuses a tampered body, even by one byte", async () => {
    const signature = await sign();
    expect(await check(signature, { body: BODY.replace("0b7f", "0b7e") })).toEqual(UNAUTHORIZED);
    expect(await check(signature, { body: `${BODY} ` })).toEqual(UNAUTHORIZED);
    expect(await check(signature, { body: "" })).toEqual(UNAUTHORIZED);
  });

  it("refuses a signature made for another URL (path, query or host)", async () => {
    const signature = await sign();
    for (const url of [
      "https://pipeline.example.test/pipeline/embed?step=ocr",
      "https://pipeline.example.test/pipeline/extract",
      "https://pipeline.example.test/pipeline/extract?step=llm",
      "https://evil.example.test/pipeline/extract?step=ocr",
      "http://pipeline.example.test/pipeline/extract?step=ocr",
    ]) {
      expect(await check(signature, { url }), url).toEqual(UNAUTHORIZED);
    }
  });

  it("refuses malformed tokens, another issuer, alg none and oversized headers", async () => {
    const key = new TextEncoder().encode(CURRENT);
    const claims = { body: hashQStashBody(BODY) };
    const otherIssuer = await new SignJWT(claims)
      .setProtectedHeader({ alg: "HS256" })
      .setIssuer("NotUpstash")
      .setSubject(URL_)
      .setIssuedAt()
      .setExpirationTime("5m")
      .sign(key);
    const noIssuer = await new SignJWT(claims)
      .setProtectedHeader({ alg: "HS256" })
      .setSubject(URL_)
      .setIssuedAt()
      .setExpirationTime("5m")
      .sign(key);
    const encode = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");
    const algNone = `${encode({ alg: "none", typ: "JWT" })}.${encode({
      iss: "Upstash",
      sub: URL_,
      body: claims.body,
      exp: now() + 300,
    })}.`;
    const valid = await sign();
    const [header, payload] = valid.split(".");
    const stripped = `${header}.${payload}.`;
    for (const signature of [
      "abc",
      "a.b.c",
      otherIssuer,
      noIssuer,
      algNone,
      stripped,
      `${valid}x`,
      "x".repeat(5000),
    ]) {
      expect(await check(signature), signature.slice(0, 40)).toEqual(UNAUTHORIZED);
    }
  });

  it("says nothing about the URL, the body or which check failed", async () => {
    const result = await check(await sign(), { body: "tampered" });
    expect(result.ok).toBe(false);
    const text = JSON.stringify(result);
    expect(text).not.toContain("pipeline.example.test");
    expect(text).not.toContain(hashQStashBody(BODY));
  });

  it("cannot be switched to the SDK's public dev keys through QSTASH_DEV", async () => {
    process.env.QSTASH_DEV = "true";
    expect(await check(await sign({ key: SDK_DEV_KEY }))).toEqual(UNAUTHORIZED);
    expect((await check(await sign())).ok).toBe(true);
  });

  it("refuses to run without both keys instead of falling back to environment variables", async () => {
    process.env.QSTASH_CURRENT_SIGNING_KEY = CURRENT;
    process.env.QSTASH_NEXT_SIGNING_KEY = NEXT;
    const signature = await sign();
    await expect(check(signature, { currentSigningKey: "" })).rejects.toThrow(TypeError);
    await expect(check(signature, { nextSigningKey: undefined })).rejects.toThrow(TypeError);
    await expect(check(signature, { currentSigningKey: "short" })).rejects.toThrow(TypeError);
  });

  it("refuses programming errors: no URL, a non-string body, an absurd tolerance", async () => {
    const signature = await sign();
    await expect(check(signature, { url: "" })).rejects.toThrow(TypeError);
    await expect(check(signature, { body: { jobId: 1 } })).rejects.toThrow(TypeError);
    await expect(check(signature, { clockToleranceSeconds: 3600 })).rejects.toThrow(TypeError);
    await expect(check(signature, { clockToleranceSeconds: -1 })).rejects.toThrow(TypeError);
  });
});
