import { describe, expect, it } from "vitest";
import { decodeBase64Url, encodeBase64Url, isWeakKey, parseKeyRing } from "./key-ring";

const random32 = () => crypto.getRandomValues(new Uint8Array(32));

describe("key ring", () => {
  it("round-trips base64url", () => {
    const bytes = random32();
    expect(decodeBase64Url(encodeBase64Url(bytes))).toEqual(bytes);
  });

  it("parses several keys and makes the first active", () => {
    const raw = `new:${encodeBase64Url(random32())},old:${encodeBase64Url(random32())}`;
    const { ring, problems } = parseKeyRing("AUDIT_KEYS", raw, { strict: true });
    expect(problems).toEqual([]);
    expect(ring?.activeKeyId).toBe("new");
    expect(ring?.keys.size).toBe(2);
  });

  it.each([
    ["no key id", `:${encodeBase64Url(new Uint8Array(32).fill(7))}`, "must look like"],
    ["bad key id", `bad id:${encodeBase64Url(random32())}`, "must look like"],
    ["duplicate id", `a:${encodeBase64Url(random32())},a:${encodeBase64Url(random32())}`, "twice"],
    ["not base64", "a:***", "not valid base64url"],
    ["too short", `a:${encodeBase64Url(random32().slice(0, 16))}`, "weak"],
    ["repetitive", `a:${encodeBase64Url(new Uint8Array(64).fill(65))}`, "weak"],
  ])("refuses %s in strict mode", (_label, raw, problem) => {
    const { ring, problems } = parseKeyRing("SESSION_KEYS", raw, { strict: true });
    expect(ring).toBeUndefined();
    expect(problems.join(" ")).toContain(problem);
  });

  it("weak-key check", () => {
    expect(isWeakKey(random32())).toBe(false);
    expect(isWeakKey(new Uint8Array(31))).toBe(true);
    expect(isWeakKey(new Uint8Array(32).fill(1))).toBe(true);
  });
});
