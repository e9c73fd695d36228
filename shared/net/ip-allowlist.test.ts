import { describe, expect, it } from "vitest";
import { createCidrSet, EMPTY_CIDR_SET } from "./create-cidr-set";
import { IP_ALLOWLIST_MAX_ENTRIES, isIpAllowed, validateIpAllowlist } from "./ip-allowlist";

const cidrs = (list: string[]) => {
  const result = createCidrSet(list);
  if (!result.ok) throw new Error(result.error.message);
  return result.value;
};

describe("isIpAllowed", () => {
  it("an empty allowlist allows everyone, even an unknown address", () => {
    expect(isIpAllowed(EMPTY_CIDR_SET, "1.2.3.4")).toBe(true);
    expect(isIpAllowed(EMPTY_CIDR_SET, null)).toBe(true);
  });

  it("a non-empty allowlist allows only addresses inside it", () => {
    const list = cidrs(["203.0.113.0/24", "2001:db8::/32"]);
    expect(isIpAllowed(list, "203.0.113.99")).toBe(true);
    expect(isIpAllowed(list, "::ffff:203.0.113.99")).toBe(true);
    expect(isIpAllowed(list, "2001:db8::5")).toBe(true);
    expect(isIpAllowed(list, "203.0.114.1")).toBe(false);
    expect(isIpAllowed(list, "2001:db9::5")).toBe(false);
  });

  it("a non-empty allowlist fails closed on an unknown or malformed address", () => {
    const list = cidrs(["0.0.0.0/0"]);
    for (const ip of [null, undefined, "", "unknown", "203.0.113.99:443", "0203.0.113.99"]) {
      expect(isIpAllowed(list, ip)).toBe(false);
    }
  });
});

describe("validateIpAllowlist", () => {
  it("normalises: canonical text, hosts as /32 or /128, duplicates dropped, spaces forgiven", () => {
    const result = validateIpAllowlist([
      " 203.0.113.0/24 ",
      "198.51.100.7",
      "2001:DB8:0::/32",
      "::ffff:198.51.100.7",
      "2001:db8::1",
      "203.0.113.0/24",
    ]);
    expect(result).toEqual({
      ok: true,
      value: ["203.0.113.0/24", "198.51.100.7/32", "2001:db8::/32", "2001:db8::1/128"],
    });
  });

  it("accepts the empty list (no restriction)", () => {
    expect(validateIpAllowlist([])).toEqual({ ok: true, value: [] });
  });

  it("accepts exactly the maximum and refuses one more", () => {
    const entries = Array.from({ length: IP_ALLOWLIST_MAX_ENTRIES + 1 }, (_, i) => `10.0.${i}.0/24`);
    expect(validateIpAllowlist(entries.slice(0, IP_ALLOWLIST_MAX_ENTRIES)).ok).toBe(true);
    const tooMany = validateIpAllowlist(entries);
    expect(tooMany.ok).toBe(false);
    expect(!tooMany.ok && tooMany.error.fields).toEqual([
      { field: "ip_allowlist", message: `must have at most ${IP_ALLOWLIST_MAX_ENTRIES} entries` },
    ]);
  });

  it("names every bad element by position and never echoes it", () => {
    const result = validateIpAllowlist(
      ["10.0.0.0/8", "10.0.0.1/8", "", 42, "office-router.internal", "::/129", "x".repeat(500), null],
      "policy.ip_allowlist",
    );
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.code).toBe("invalid_input");
    expect(result.error.message).toBe("Invalid policy.ip_allowlist.");
    expect(result.error.fields.map((f) => f.field)).toEqual([
      "policy.ip_allowlist.1",
      "policy.ip_allowlist.2",
      "policy.ip_allowlist.3",
      "policy.ip_allowlist.4",
      "policy.ip_allowlist.5",
      "policy.ip_allowlist.6",
      "policy.ip_allowlist.7",
    ]);
    expect(result.error.fields[0]?.message).toMatch(/host bits/);
    expect(result.error.fields[2]?.message).toBe("must be a string");
    expect(JSON.stringify(result.error)).not.toContain("office-router");
  });

  it.each([
    ["a string", "10.0.0.0/8"],
    ["an object", { cidr: "10.0.0.0/8" }],
    ["null", null],
    ["undefined", undefined],
  ])("refuses %s instead of an array", (_label, value) => {
    const result = validateIpAllowlist(value);
    expect(!result.ok && result.error.fields).toEqual([
      { field: "ip_allowlist", message: "must be an array of CIDR blocks" },
    ]);
  });

  it("its output round-trips into a CidrSet unchanged", () => {
    const result = validateIpAllowlist(["10.0.0.0/8", "2001:db8::/32"]);
    if (!result.ok) throw new Error("valid input refused");
    const set = cidrs(result.value);
    expect(set.cidrs).toEqual(result.value);
    expect(validateIpAllowlist(result.value)).toEqual(result);
  });
});
