import { describe, expect, it } from "vitest";
import { createCidrSet, EMPTY_CIDR_SET } from "./create-cidr-set";
import { parseIpAddress, parseIpLiteral } from "./parse-ip-address";

const setOf = (list: string[]) => {
  const result = createCidrSet(list);
  if (!result.ok) throw new Error(result.error.message);
  return result.value;
};

describe("createCidrSet", () => {
  it("normalises once and matches IPv4, IPv6 and mapped addresses", () => {
    const set = setOf(["10.0.0.0/8", "2001:DB8::/32", "203.0.113.7", "::ffff:192.168.0.0/112"]);
    expect(set.cidrs).toEqual(["10.0.0.0/8", "2001:db8::/32", "203.0.113.7/32", "192.168.0.0/16"]);
    expect(set.size).toBe(4);
    expect(set.matches("10.9.8.7")).toBe(true);
    expect(set.matches("::ffff:10.9.8.7")).toBe(true);
    expect(set.matches("2001:db8::dead:beef")).toBe(true);
    expect(set.matches("203.0.113.7")).toBe(true);
    expect(set.matches("192.168.44.1")).toBe(true);
    expect(set.matches("203.0.113.8")).toBe(false);
    expect(set.matches("2001:db9::1")).toBe(false);
  });

  it("accepts a parsed address as well as text, folding an unfolded mapped literal", () => {
    const set = setOf(["10.0.0.0/8"]);
    const ip = parseIpAddress("10.0.0.1");
    expect(ip.ok && set.matches(ip.value)).toBe(true);
    const mapped = parseIpLiteral("::ffff:10.0.0.1");
    expect(mapped.ok && mapped.value.version).toBe(6);
    expect(mapped.ok && set.matches(mapped.value)).toBe(true);
    const outside = parseIpLiteral("::ffff:11.0.0.1");
    expect(outside.ok && set.matches(outside.value)).toBe(false);
  });

  it("does not match unknown or malformed addresses", () => {
    const set = setOf(["0.0.0.0/0", "::/0"]);
    for (const bad of [
      null,
      undefined,
      "",
      "unknown",
      "1.2.3.4:80",
      "fe80::1%eth0",
      "010.0.0.1",
      " 1.2.3.4",
    ]) {
      expect(set.matches(bad)).toBe(false);
    }
  });

  it("drops duplicates by canonical form", () => {
    const set = setOf(["10.0.0.1", "10.0.0.1/32", "::ffff:10.0.0.1", "2001:db8::1", "2001:0DB8:0::1"]);
    expect(set.cidrs).toEqual(["10.0.0.1/32", "2001:db8::1/128"]);
  });

  it("reports every bad element by position without echoing it", () => {
    const result = createCidrSet(["10.0.0.0/8", "10.0.0.1/8", "", "secret-host.example", "::/200"]);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.code).toBe("invalid_input");
    expect(result.error.problems.map((p) => p.index)).toEqual([1, 2, 3, 4]);
    expect(result.error.message).toBe("invalid CIDR block at position 2, 3, 4, 5");
    expect(JSON.stringify(result.error)).not.toContain("secret-host");
  });

  it("does not trim: callers hand over clean elements", () => {
    expect(createCidrSet([" 10.0.0.0/8"]).ok).toBe(false);
  });

  it("the empty set matches nothing", () => {
    expect(EMPTY_CIDR_SET.size).toBe(0);
    expect(EMPTY_CIDR_SET.matches("1.2.3.4")).toBe(false);
    expect(setOf([]).matches("1.2.3.4")).toBe(false);
  });
});
