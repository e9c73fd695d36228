import { describe, expect, it } from "vitest";
import { encodeBase64Url, parseKeyRing } from "../../config/key-ring";
import { decryptTotpSecret, encryptTotpSecret } from "./totp-secret-cipher";

const randomKey = () => encodeBase64Url(crypto.getRandomValues(new Uint8Array(32)));
const ring = (value: string) => parseKeyRing("MFA_ENCRYPTION_KEYS", value, { strict: false }).ring!;

const k1 = randomKey();
const k2 = randomKey();
const keys = ring(`k1:${k1}`);
const alice = {
  tenantId: "11111111-1111-4111-8111-111111111111",
  userId: "22222222-2222-4222-8222-222222222222",
};
const bob = { tenantId: alice.tenantId, userId: "33333333-3333-4333-8333-333333333333" };
const otherTenant = { tenantId: "44444444-4444-4444-8444-444444444444", userId: alice.userId };
const secret = new TextEncoder().encode("12345678901234567890");

describe("encryptTotpSecret / decryptTotpSecret", () => {
  it("round-trips in the versioned format, with a fresh IV each time", async () => {
    const a = await encryptTotpSecret(secret, alice, keys);
    const b = await encryptTotpSecret(secret, alice, keys);
    expect(a.keyId).toBe("k1");
    expect(a.ciphertext).toMatch(/^v1\.k1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{48}$/);
    expect(a.ciphertext).not.toBe(b.ciphertext);
    const plain = await decryptTotpSecret(a.ciphertext, alice, keys);
    expect(plain).toEqual({ ok: true, value: secret });
  });

  it("does not decrypt for another user or another tenant (AAD binding)", async () => {
    const { ciphertext } = await encryptTotpSecret(secret, alice, keys);
    for (const binding of [bob, otherTenant]) {
      expect(await decryptTotpSecret(ciphertext, binding, keys)).toMatchObject({
        ok: false,
        error: { code: "unavailable", reason: "authentication_failed" },
      });
    }
  });

  it("detects a flipped bit, and a key id swapped in the header", async () => {
    const { ciphertext } = await encryptTotpSecret(secret, alice, keys);
    const [v, kid, iv, ct] = ciphertext.split(".") as [string, string, string, string];
    const flipped = `${ct.slice(0, 5)}${ct[5] === "A" ? "B" : "A"}${ct.slice(6)}`;
    expect((await decryptTotpSecret([v, kid, iv, flipped].join("."), alice, keys)).ok).toBe(false);
    // Same key material under a second id: the id is authenticated, so relabelling fails.
    const twoIds = ring(`k1:${k1},k9:${k1}`);
    expect(await decryptTotpSecret([v, "k9", iv, ct].join("."), alice, twoIds)).toMatchObject({
      ok: false,
      error: { reason: "authentication_failed" },
    });
  });

  it("names malformed input and unknown keys without throwing", async () => {
    const { ciphertext } = await encryptTotpSecret(secret, alice, keys);
    for (const bad of ["", "v1", ciphertext.replace(/^v1/, "v2"), `${ciphertext}.x`, "v1.k1.!!!.abc"]) {
      expect(await decryptTotpSecret(bad, alice, keys)).toMatchObject({
        ok: false,
        error: { reason: "malformed" },
      });
    }
    expect(await decryptTotpSecret(ciphertext, alice, ring(`k2:${k2}`))).toMatchObject({
      ok: false,
      error: { reason: "unknown_key" },
    });
  });

  it("keeps decrypting with a retired key after rotation, and encrypts with the new active key", async () => {
    const old = await encryptTotpSecret(secret, alice, keys);
    const rotated = ring(`k2:${k2},k1:${k1}`);
    expect((await decryptTotpSecret(old.ciphertext, alice, rotated)).ok).toBe(true);
    expect((await encryptTotpSecret(secret, alice, rotated)).keyId).toBe("k2");
  });

  it("refuses a key that is not 256 bits (WebCrypto would quietly use AES-128)", async () => {
    const short = ring(`k1:${encodeBase64Url(crypto.getRandomValues(new Uint8Array(16)))}`);
    await expect(encryptTotpSecret(secret, alice, short)).rejects.toThrow(/32 bytes/);
  });
});
