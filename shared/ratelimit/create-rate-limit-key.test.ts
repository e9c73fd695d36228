import { describe, expect, it } from "vitest";
import { createRateLimitKey } from "./create-rate-limit-key";
import { RATE_LIMIT_KEY_PATTERN } from "./rate-limiter";

const secret = new Uint8Array(32).fill(7);

describe("createRateLimitKey", () => {
  it("keys an IP or email by HMAC: valid key, no trace of the input, stable", async () => {
    const key = await createRateLimitKey("login-ip", "203.0.113.7", secret);
    expect(key).toMatch(RATE_LIMIT_KEY_PATTERN);
    expect(key).toMatch(/^login-ip:[A-Za-z0-9_-]{43}$/);
    expect(key).not.toContain("203");
    expect(await createRateLimitKey("login-ip", "203.0.113.7", secret)).toBe(key);
  });

  it("differs by namespace and by secret", async () => {
    const a = await createRateLimitKey("login-email", "a@example.org", secret);
    const b = await createRateLimitKey("login-ip", "a@example.org", secret);
    const c = await createRateLimitKey("login-email", "a@example.org", new Uint8Array(32).fill(8));
    expect(a.split(":")[1]).not.toBe(b.split(":")[1]);
    expect(a).not.toBe(c);
  });

  it("refuses short secrets and bad namespaces", async () => {
    await expect(createRateLimitKey("login-ip", "x", new Uint8Array(16))).rejects.toThrow(TypeError);
    await expect(createRateLimitKey("Login IP", "x", secret)).rejects.toThrow(TypeError);
  });
});
