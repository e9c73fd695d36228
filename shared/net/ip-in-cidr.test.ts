import { describe, expect, it } from "vitest";
import { ipInCidr } from "./ip-in-cidr";
import { parseCidr } from "./parse-cidr";
import { parseIpAddress } from "./parse-ip-address";

function inCidr(ip: string, cidr: string): boolean {
  const address = parseIpAddress(ip);
  const block = parseCidr(cidr);
  if (!address.ok || !block.ok) throw new Error("test input must parse");
  return ipInCidr(address.value, block.value);
}

describe("ipInCidr", () => {
  it.each([
    ["10.0.0.0", "10.0.0.0/8", true],
    ["10.255.255.255", "10.0.0.0/8", true],
    ["11.0.0.0", "10.0.0.0/8", false],
    ["9.255.255.255", "10.0.0.0/8", false],
    ["192.168.1.77", "192.168.1.0/25", true],
    ["192.168.1.128", "192.168.1.0/25", false],
    ["203.0.113.7", "203.0.113.7/32", true],
    ["203.0.113.8", "203.0.113.7/32", false],
    ["1.2.3.4", "0.0.0.0/0", true],
    ["255.255.255.255", "0.0.0.0/0", true],
    ["2001:db8::1", "2001:db8::/32", true],
    ["2001:db9::1", "2001:db8::/32", false],
    ["2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", "2001:db8::/32", true],
    ["::1", "::1/128", true],
    ["::2", "::1/128", false],
    ["fe80::1", "::/0", true],
    // IPv4-mapped clients are IPv4: they match IPv4 blocks (and mapped blocks, which are IPv4).
    ["::ffff:10.1.2.3", "10.0.0.0/8", true],
    ["::ffff:10.1.2.3", "::ffff:10.0.0.0/104", true],
    ["10.1.2.3", "::ffff:10.0.0.0/104", true],
    ["::ffff:11.1.2.3", "10.0.0.0/8", false],
    // Versions never cross: "::/0" is every IPv6 address, not every address.
    ["1.2.3.4", "::/0", false],
    ["::ffff:1.2.3.4", "::/0", false],
    ["::", "0.0.0.0/0", false],
    ["::a00:1", "10.0.0.0/8", false],
  ])("%s in %s -> %s", (ip, cidr, expected) => {
    expect(inCidr(ip, cidr)).toBe(expected);
  });
});
