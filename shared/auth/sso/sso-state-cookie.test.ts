import { describe, expect, it } from "vitest";
import { decodeBase64Url, encodeBase64Url, parseKeyRing } from "../../config/key-ring";
import { openSsoState, SSO_STATE_TTL_MS, type SsoState, sealSsoState } from "./sso-state-cookie";

const KEY_A = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";
const KEY_B = "HyAhIiMkJSYnKCkqKywtLi8wMTIzNDU2Nzg5Ojs8PT4";
const ring = (raw: string) => parseKeyRing("SESSION_KEYS", raw, { strict: false }).ring!;

const NOW = new Date("2026-11-22T12:00:00Z");
const STATE: SsoState = {
  provider: "oidc",
  issuer: "https://idp.example.org",
  state: "s".repeat(43),
  nonce: "n".repeat(43),
  codeVerifier: "v".repeat(43),
  returnTo: "/reports",
  issuedAt: NOW.getTime(),
};

describe("SSO state cookie", () => {
  it("round-trips, and hides every value", async () => {
    const sealed = await sealSsoState(STATE, ring(`k1:${KEY_A}`));
    expect(sealed).toMatch(/^v1\.k1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+$/);
    for (const secret of ["sss", "nnn", "vvv", "reports", "idp.example"])
      expect(sealed).not.toContain(secret);
    expect(await openSsoState(sealed, ring(`k1:${KEY_A}`), NOW)).toEqual({ ok: true, value: STATE });
  });

  it("uses a fresh IV each time", async () => {
    const keys = ring(`k1:${KEY_A}`);
    expect(await sealSsoState(STATE, keys)).not.toBe(await sealSsoState(STATE, keys));
  });

  it("still opens after SESSION_KEYS rotated (old key kept for verification)", async () => {
    const sealed = await sealSsoState(STATE, ring(`k1:${KEY_A}`));
    const rotated = ring(`k2:${KEY_B},k1:${KEY_A}`);
    expect((await openSsoState(sealed, rotated, NOW)).ok).toBe(true);
    expect((await sealSsoState(STATE, rotated)).startsWith("v1.k2.")).toBe(true);
  });

  it("refuses a flipped bit anywhere, another key under the same id, and an unknown key id", async () => {
    const sealed = await sealSsoState(STATE, ring(`k1:${KEY_A}`));
    const [v, kid, iv, body] = sealed.split(".") as [string, string, string, string];
    const flip = (text: string, at: number) =>
      `${text.slice(0, at)}${text[at] === "A" ? "B" : "A"}${text.slice(at + 1)}`;
    for (const tampered of [`${v}.${kid}.${flip(iv, 3)}.${body}`, `${v}.${kid}.${iv}.${flip(body, 10)}`]) {
      expect(await openSsoState(tampered, ring(`k1:${KEY_A}`), NOW)).toMatchObject({
        ok: false,
        error: { reason: "authentication_failed" },
      });
    }
    expect(await openSsoState(sealed, ring(`k1:${KEY_B}`), NOW)).toMatchObject({
      ok: false,
      error: { reason: "authentication_failed" },
    });
    // The key id is bound: relabelling the cookie for another ring entry fails too.
    expect(await openSsoState(`${v}.k2.${iv}.${body}`, ring(`k2:${KEY_A}`), NOW)).toMatchObject({
      ok: false,
      error: { reason: "authentication_failed" },
    });
    expect(await openSsoState(sealed, ring(`k9:${KEY_A}`), NOW)).toMatchObject({
      ok: false,
      error: { reason: "unknown_key" },
    });
  });

  it("derives its own key: a value encrypted directly under the session key does not open", async () => {
    const key = await crypto.subtle.importKey("raw", decodeBase64Url(KEY_A)!, "AES-GCM", false, ["encrypt"]);
    const iv = new Uint8Array(12);
    const aad = new TextEncoder().encode("__Host-medchr_sso.v1|k1");
    const body = new Uint8Array(
      await crypto.subtle.encrypt(
        { name: "AES-GCM", iv, additionalData: aad },
        key,
        new TextEncoder().encode(JSON.stringify(STATE)),
      ),
    );
    expect(
      await openSsoState(`v1.k1.${encodeBase64Url(iv)}.${encodeBase64Url(body)}`, ring(`k1:${KEY_A}`), NOW),
    ).toMatchObject({
      ok: false,
      error: { reason: "authentication_failed" },
    });
  });

  it("expires after 10 minutes", async () => {
    const keys = ring(`k1:${KEY_A}`);
    const sealed = await sealSsoState(STATE, keys);
    expect((await openSsoState(sealed, keys, new Date(NOW.getTime() + SSO_STATE_TTL_MS - 1))).ok).toBe(true);
    expect(await openSsoState(sealed, keys, new Date(NOW.getTime() + SSO_STATE_TTL_MS))).toMatchObject({
      ok: false,
      error: { reason: "expired" },
    });
    // Issued far in the future: not ours to trust.
    expect(await openSsoState(sealed, keys, new Date(NOW.getTime() - 5 * 60_000))).toMatchObject({
      ok: false,
      error: { reason: "expired" },
    });
  });

  it("refuses garbage without throwing", async () => {
    const keys = ring(`k1:${KEY_A}`);
    for (const value of [
      undefined,
      "",
      "v1",
      "v2.k1.AAAA.BBBB",
      "v1.k1.!!!.BBBB",
      "v1.k1.AAAA.BBBB",
      "x".repeat(5000),
    ]) {
      expect(await openSsoState(value, keys, NOW)).toMatchObject({
        ok: false,
        error: { reason: "malformed" },
      });
    }
  });

  it("refuses to seal a state that breaks the schema", async () => {
    await expect(sealSsoState({ ...STATE, state: "short" }, ring(`k1:${KEY_A}`))).rejects.toThrow();
  });
});
