import { describe, expect, it } from "vitest";
import { generateRecoveryCode, hashRecoveryCode, normalizeRecoveryCode } from "./recovery-codes";

const key = crypto.getRandomValues(new Uint8Array(32));
const userA = "22222222-2222-4222-8222-222222222222";
const userB = "33333333-3333-4333-8333-333333333333";

describe("generateRecoveryCode", () => {
  it("makes four groups of five Crockford base32 symbols, different each time", () => {
    const codes = Array.from({ length: 50 }, generateRecoveryCode);
    for (const code of codes) expect(code).toMatch(/^([0-9a-hjkmnp-tv-z]{5}-){3}[0-9a-hjkmnp-tv-z]{5}$/);
    expect(new Set(codes).size).toBe(codes.length);
  });
});

describe("normalizeRecoveryCode", () => {
  it("ignores case, dashes and spaces, and maps look-alikes (o->0, i/l->1)", () => {
    expect(normalizeRecoveryCode("ABCDE-FGHJK-MNPQR-STVWX")).toBe("abcdefghjkmnpqrstvwx");
    expect(normalizeRecoveryCode(" abcde fghjk\tmnpqr-stvwx ")).toBe("abcdefghjkmnpqrstvwx");
    expect(normalizeRecoveryCode("O0IL1-00000-00000-00000")).toBe("00111000000000000000");
  });

  it("rejects what is not a recovery code", () => {
    for (const bad of [
      "123456",
      "abcde-fghjk-mnpqr-stvw",
      "abcde-fghjk-mnpqr-stvwxy",
      "uuuuu-00000-00000-00000",
      "",
    ]) {
      expect(normalizeRecoveryCode(bad)).toBeNull();
    }
    expect(normalizeRecoveryCode(`${"-".repeat(500)}abcdefghjkmnpqrstvwx`)).toBeNull();
  });
});

describe("hashRecoveryCode", () => {
  it("is a 32-byte HMAC bound to the code, the user and the key", async () => {
    const hash = await hashRecoveryCode("abcdefghjkmnpqrstvwx", userA, key);
    expect(hash).toHaveLength(32);
    expect(await hashRecoveryCode("abcdefghjkmnpqrstvwx", userA, key)).toEqual(hash);
    expect(await hashRecoveryCode("abcdefghjkmnpqrstvwy", userA, key)).not.toEqual(hash);
    expect(await hashRecoveryCode("abcdefghjkmnpqrstvwx", userB, key)).not.toEqual(hash);
    const otherKey = crypto.getRandomValues(new Uint8Array(32));
    expect(await hashRecoveryCode("abcdefghjkmnpqrstvwx", userA, otherKey)).not.toEqual(hash);
  });
});
