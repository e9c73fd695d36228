import { describe, expect, it } from "vitest";
import { encodeBase64Url, parseKeyRing } from "../config/key-ring";
import {
  API_KEY_TOKEN_LENGTH,
  apiKeySecretsEqual,
  generateApiKeyToken,
  hashApiKeySecret,
  parseApiKeyToken,
  parseEnvApiKeys,
  verifyApiKeySecret,
} from "./api-key-token";

const ring = (raw: string) => {
  const { ring, problems } = parseKeyRing("API_KEY_HMAC_KEYS", raw, { strict: true });
  if (!ring) throw new Error(problems.join("; "));
  return ring;
};
const k1 = `h1:${encodeBase64Url(crypto.getRandomValues(new Uint8Array(32)))}`;
const k2 = `h2:${encodeBase64Url(crypto.getRandomValues(new Uint8Array(32)))}`;
const TENANT = "3f2b8c1e-5a4d-4e6f-9a0b-1c2d3e4f5a6b";

describe("generateApiKeyToken", () => {
  it("produces mk_<16 base32>_<43 base64url> that parses back to its parts", () => {
    const { token, keyId, secret } = generateApiKeyToken();
    expect(token).toHaveLength(API_KEY_TOKEN_LENGTH);
    expect(API_KEY_TOKEN_LENGTH).toBe(63);
    expect(keyId).toMatch(/^[a-z2-7]{16}$/);
    expect(keyId).toMatch(/^[A-Za-z0-9_-]{1,64}$/); // the audit actor id pattern
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(token).toBe(`mk_${keyId}_${secret}`);
    expect(parseApiKeyToken(token)).toEqual({ ok: true, value: { keyId, secret } });
  });

  it("is random: no repeats over many draws, and all alphabet letters appear", () => {
    const tokens = Array.from({ length: 500 }, () => generateApiKeyToken());
    expect(new Set(tokens.map((t) => t.keyId)).size).toBe(500);
    expect(new Set(tokens.map((t) => t.secret)).size).toBe(500);
    const seen = new Set(tokens.flatMap((t) => [...t.keyId]));
    expect(seen.size).toBe(32);
    for (const t of tokens) expect(parseApiKeyToken(t.token).ok).toBe(true);
  });
});

describe("parseApiKeyToken", () => {
  const { token, keyId, secret } = generateApiKeyToken();

  it.each([
    ["empty", ""],
    ["whitespace around", ` ${token}`],
    ["trailing newline", `${token}\n`],
    ["Bearer prefix", `Bearer ${token}`],
    ["another prefix", `sk_${keyId}_${secret}`],
    ["upper-case prefix", `MK_${keyId}_${secret}`],
    ["upper-case key id", `mk_${keyId.toUpperCase()}_${secret}`],
    ["a key id digit outside base32", `mk_${keyId.slice(0, 15)}1_${secret}`],
    ["key id too short", `mk_${keyId.slice(1)}_${secret}A`],
    ["key id too long", `mk_${keyId}a_${secret.slice(1)}`],
    ["secret too short", token.slice(0, -1)],
    ["secret too long", `${token}A`],
    ["secret with padding", `mk_${keyId}_${secret.slice(0, 42)}=`],
    ["secret with standard base64 characters", `mk_${keyId}_${secret.slice(0, 41)}+/`],
    ["missing separator", `mk${keyId}_${secret}A`],
    ["dash separator", `mk-${keyId}-${secret}`],
    ["secret only", secret],
    ["non-ASCII", `mk_${keyId}_${secret.slice(0, 42)}é`],
    ["huge input", `mk_${"a".repeat(100_000)}`],
  ])("refuses %s", (_label, input) => {
    const result = parseApiKeyToken(input);
    expect(result).toEqual({ ok: false, error: { code: "unauthorized", message: "invalid API key" } });
  });

  it("refuses a non-canonical secret encoding (same bytes, different text)", () => {
    // 43 characters carry 258 bits: the last character's 2 low bits are padding. Flipping
    // one gives text that decodes to the same 32 bytes.
    const last = secret.at(-1)!;
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const sibling = alphabet[alphabet.indexOf(last) ^ 1]!;
    const forged = `mk_${keyId}_${secret.slice(0, 42)}${sibling}`;
    expect(forged).toHaveLength(63);
    expect(parseApiKeyToken(forged).ok).toBe(false);
  });

  it("accepts secrets containing the separator characters", () => {
    const tricky = `mk_abcdefghijklmnop_${"_".repeat(10)}${"-".repeat(10)}${"A".repeat(23)}`;
    expect(parseApiKeyToken(tricky)).toEqual({
      ok: true,
      value: { keyId: "abcdefghijklmnop", secret: `${"_".repeat(10)}${"-".repeat(10)}${"A".repeat(23)}` },
    });
  });
});

describe("hashApiKeySecret / verifyApiKeySecret", () => {
  it("hashes under the active key and verifies", async () => {
    const { secret } = generateApiKeyToken();
    const { keyId, hash } = await hashApiKeySecret(secret, ring(`${k1},${k2}`));
    expect(keyId).toBe("h1");
    expect(hash).toBeInstanceOf(Uint8Array);
    expect(hash.length).toBe(32);
    expect(await verifyApiKeySecret(secret, hash, keyId, ring(`${k1},${k2}`))).toBe(true);
  });

  it("is a keyed hash: deterministic per key, different under another key", async () => {
    const { secret } = generateApiKeyToken();
    const a = await hashApiKeySecret(secret, ring(k1));
    const b = await hashApiKeySecret(secret, ring(k1));
    const c = await hashApiKeySecret(secret, ring(k2));
    expect(a.hash).toEqual(b.hash);
    expect(c.hash).not.toEqual(a.hash);
    const plainSha = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(secret)));
    expect(a.hash).not.toEqual(plainSha);
  });

  it("matches an independent HMAC-SHA-256 computation", async () => {
    const { ring: r } = parseKeyRing("API_KEY_HMAC_KEYS", k1, { strict: true });
    const raw = r!.keys.get("h1")!;
    const key = await crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    const expected = new Uint8Array(
      await crypto.subtle.sign("HMAC", key, new TextEncoder().encode("s3cret")),
    );
    expect((await hashApiKeySecret("s3cret", r!)).hash).toEqual(expected);
  });

  it("keeps verifying old hashes after rotation, with the key the row names", async () => {
    const { secret } = generateApiKeyToken();
    const old = await hashApiKeySecret(secret, ring(k1));
    const rotated = ring(`${k2},${k1}`);
    expect(await verifyApiKeySecret(secret, old.hash, old.keyId, rotated)).toBe(true);
    expect((await hashApiKeySecret(secret, rotated)).keyId).toBe("h2");
    // Once the old key leaves the ring its hashes stop verifying.
    expect(await verifyApiKeySecret(secret, old.hash, old.keyId, ring(k2))).toBe(false);
  });

  it("refuses a wrong secret, a wrong key id, a tampered or malformed hash", async () => {
    const { secret } = generateApiKeyToken();
    const both = ring(`${k1},${k2}`);
    const { keyId, hash } = await hashApiKeySecret(secret, both);
    expect(await verifyApiKeySecret(generateApiKeyToken().secret, hash, keyId, both)).toBe(false);
    expect(await verifyApiKeySecret(`${secret.slice(0, -1)}x`, hash, keyId, both)).toBe(false);
    expect(await verifyApiKeySecret(secret, hash, "h2", both)).toBe(false);
    expect(await verifyApiKeySecret(secret, hash, "nope", both)).toBe(false);
    expect(await verifyApiKeySecret(secret, hash, "", both)).toBe(false);
    const tampered = hash.slice();
    tampered[31]! ^= 1;
    expect(await verifyApiKeySecret(secret, tampered, keyId, both)).toBe(false);
    expect(await verifyApiKeySecret(secret, hash.slice(0, 31), keyId, both)).toBe(false);
    expect(await verifyApiKeySecret(secret, new Uint8Array(0), keyId, both)).toBe(false);
    expect(await verifyApiKeySecret(secret, new Uint8Array([...hash, 0]), keyId, both)).toBe(false);
  });

  it("verifies a hash read back as a Node Buffer (postgres.js bytea)", async () => {
    const { secret } = generateApiKeyToken();
    const { keyId, hash } = await hashApiKeySecret(secret, ring(k1));
    expect(await verifyApiKeySecret(secret, Buffer.from(hash), keyId, ring(k1))).toBe(true);
  });
});

describe("apiKeySecretsEqual", () => {
  it("compares exactly", () => {
    const { secret } = generateApiKeyToken();
    expect(apiKeySecretsEqual(secret, `${secret}`)).toBe(true);
    expect(apiKeySecretsEqual(secret, `${secret.slice(0, -1)}?`)).toBe(false);
    expect(apiKeySecretsEqual(secret, secret.slice(0, -1))).toBe(false);
    expect(apiKeySecretsEqual("", secret)).toBe(false);
  });
});

describe("parseEnvApiKeys", () => {
  const a = generateApiKeyToken();
  const b = generateApiKeyToken();

  it("treats unset or blank as no keys", () => {
    expect(parseEnvApiKeys(undefined)).toEqual({ ok: true, value: [] });
    expect(parseEnvApiKeys("")).toEqual({ ok: true, value: [] });
    expect(parseEnvApiKeys("   ")).toEqual({ ok: true, value: [] });
  });

  it("parses scoped and unscoped entries, normalising tenant case and scope order", () => {
    const value = ` ${TENANT.toUpperCase()}:${a.token}:write+read , ${TENANT}:${b.token}`;
    expect(parseEnvApiKeys(value)).toEqual({
      ok: true,
      value: [
        { tenantId: TENANT, keyId: a.keyId, secret: a.secret, scopes: ["read", "write"] },
        { tenantId: TENANT, keyId: b.keyId, secret: b.secret, scopes: null },
      ],
    });
  });

  it("accepts every single scope and all three", () => {
    for (const scope of ["read", "write", "admin"] as const) {
      const result = parseEnvApiKeys(`${TENANT}:${a.token}:${scope}`);
      expect(result.ok && result.value[0]?.scopes).toEqual([scope]);
    }
    const all = parseEnvApiKeys(`${TENANT}:${a.token}:admin+write+read`);
    expect(all.ok && all.value[0]?.scopes).toEqual(["read", "write", "admin"]);
  });

  it.each([
    ["a bare key", `${a.token}`, "must look like"],
    ["too many parts", `${TENANT}:${a.token}:read:extra`, "must look like"],
    ["an empty entry", `${TENANT}:${a.token},`, "must look like"],
    ["an empty entry in the middle", `${TENANT}:${a.token},,${TENANT}:${b.token}`, "must look like"],
    ["a tenant that is not a UUID", `tenant-1:${a.token}`, "not a UUID"],
    ["a UUID with braces", `{${TENANT}}:${a.token}`, "not a UUID"],
    ["a malformed key", `${TENANT}:mk_short_secret`, "not a valid mk_"],
    ["a key with spaces inside the entry", `${TENANT}: ${a.token}`, "not a valid mk_"],
    ["empty scopes", `${TENANT}:${a.token}:`, "scopes must be"],
    ["an unknown scope", `${TENANT}:${a.token}:read+delete`, "scopes must be"],
    ["an upper-case scope", `${TENANT}:${a.token}:READ`, "scopes must be"],
    ["a duplicate scope", `${TENANT}:${a.token}:read+read`, "scopes must be"],
    ["a comma-style scope list", `${TENANT}:${a.token}:read write`, "scopes must be"],
    ["a trailing plus", `${TENANT}:${a.token}:read+`, "scopes must be"],
    ["the same key id twice", `${TENANT}:${a.token},${TENANT}:${a.token}:read`, "earlier entry"],
  ])("refuses %s", (_label, value, problem) => {
    const result = parseEnvApiKeys(value);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.code).toBe("invalid_input");
    expect(result.error.problems.join(" ")).toContain(problem);
  });

  it("reports every bad entry by position and never echoes secrets or tenant ids", () => {
    const value = [`${TENANT}:${a.token}`, `${TENANT}:${b.token}:root`, `nope:${b.token}`].join(",");
    const result = parseEnvApiKeys(value);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.problems).toHaveLength(2);
    expect(result.error.problems[0]).toMatch(/^API_KEYS entry 2:/);
    expect(result.error.problems[1]).toMatch(/^API_KEYS entry 3:/);
    const text = JSON.stringify(result.error);
    for (const leaked of [a.secret, b.secret, b.keyId, TENANT]) expect(text).not.toContain(leaked);
  });
});
