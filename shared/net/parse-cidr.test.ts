import { describe, expect, it } from "vitest";
import { formatCidr, parseCidr } from "./parse-cidr";

const canonical = (text: string) => {
  const parsed = parseCidr(text);
  return parsed.ok ? formatCidr(parsed.value) : null;
};

describe("parseCidr", () => {
  it.each([
    ["10.0.0.0/8", "10.0.0.0/8"],
    ["0.0.0.0/0", "0.0.0.0/0"],
    ["192.168.1.0/24", "192.168.1.0/24"],
    ["203.0.113.7", "203.0.113.7/32"],
    ["203.0.113.7/32", "203.0.113.7/32"],
    ["2001:DB8::/32", "2001:db8::/32"],
    ["2001:0db8:0000::/48", "2001:db8::/48"],
    ["::/0", "::/0"],
    ["::1", "::1/128"],
    ["fe80::/10", "fe80::/10"],
    ["::ffff:10.0.0.0/104", "10.0.0.0/8"],
    ["::ffff:1.2.3.4", "1.2.3.4/32"],
    ["::ffff:1.2.3.4/128", "1.2.3.4/32"],
    ["::ffff:0:0/96", "0.0.0.0/0"],
    ["::ffff:a00:0/104", "10.0.0.0/8"],
  ])("parses %s as %s", (text, expected) => {
    expect(canonical(text)).toBe(expected);
  });

  it("gives the version, network and prefix", () => {
    expect(parseCidr("10.1.0.0/16")).toEqual({
      ok: true,
      value: { version: 4, network: 0x0a010000n, prefix: 16 },
    });
    expect(parseCidr("2001:db8::/32")).toEqual({
      ok: true,
      value: { version: 6, network: 0x20010db8n << 96n, prefix: 32 },
    });
  });

  it.each([
    ["empty", "", /not a valid IP/],
    ["only a slash", "/", /not a valid IP/],
    ["no prefix after slash", "10.0.0.0/", /decimal/],
    ["no address", "/8", /not a valid IP/],
    ["two slashes", "10.0.0.0/8/8", /not a valid CIDR/],
    ["IPv4 prefix too long", "10.0.0.0/33", /at most 32/],
    ["IPv6 prefix too long", "::/129", /at most 128/],
    ["negative prefix", "10.0.0.0/-1", /decimal/],
    ["leading zero prefix", "10.0.0.0/08", /decimal/],
    ["hex prefix", "10.0.0.0/0x8", /decimal/],
    ["netmask instead of prefix", "10.0.0.0/255.0.0.0", /decimal/],
    ["spaces", "10.0.0.0 /8", /not a valid IP/],
    ["space after slash", "10.0.0.0/ 8", /decimal/],
    ["host bits set (IPv4)", "10.1.2.3/8", /host bits/],
    ["host bits set (IPv6)", "2001:db8::1/32", /host bits/],
    ["host bits set (mapped)", "::ffff:10.0.0.1/104", /host bits/],
    ["mapped block wider than the mapped range", "::ffff:0:0/95", /host bits/],
    ["zone id", "fe80::%eth0/64", /zone/],
    ["garbage", "not-a-cidr", /not a valid IP/],
    ["octal-looking address", "010.0.0.0/8", /not a valid IP/],
    ["huge prefix", "10.0.0.0/99999999999999999999", /decimal/],
  ])("refuses %s", (_label, text, message) => {
    const parsed = parseCidr(text);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) {
      expect(parsed.error.code).toBe("invalid_input");
      expect(parsed.error.message).toMatch(message);
    }
  });
});
