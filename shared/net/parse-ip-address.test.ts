import { describe, expect, it } from "vitest";
import {
  canonicalizeIpAddress,
  formatIpAddress,
  isIpv4Mapped,
  MAX_IP_ADDRESS_TEXT_LENGTH,
  parseIpAddress,
  parseIpLiteral,
} from "./parse-ip-address";

describe("parseIpAddress", () => {
  it.each([
    ["0.0.0.0", "0.0.0.0", 0n],
    ["1.2.3.4", "1.2.3.4", 0x01020304n],
    ["255.255.255.255", "255.255.255.255", 0xffffffffn],
    ["10.0.0.1", "10.0.0.1", 0x0a000001n],
  ])("parses IPv4 %s", (text, canonical, value) => {
    const parsed = parseIpAddress(text);
    expect(parsed).toEqual({ ok: true, value: { version: 4, value } });
    expect(canonicalizeIpAddress(text)).toBe(canonical);
  });

  it.each([
    ["::", "::"],
    ["::1", "::1"],
    ["1::", "1::"],
    ["2001:DB8::1", "2001:db8::1"],
    ["2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"],
    ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"], // first of two equal runs (RFC 5952 4.2.3)
    ["2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"], // a single zero group is not compressed (4.2.2)
    ["2001:0:0:1:0:0:0:1", "2001:0:0:1::1"], // the longest run wins (4.2.3)
    ["fe80::abcd:ef01", "fe80::abcd:ef01"],
    ["1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"],
    ["1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0"],
    ["::2:3:4:5:6:7:8", "0:2:3:4:5:6:7:8"],
    ["ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"],
    ["::1.2.3.4", "::102:304"], // IPv4-compatible (deprecated) stays IPv6
    ["64:ff9b::192.0.2.1", "64:ff9b::c000:201"], // NAT64 is not folded
    ["1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:102:304"],
  ])("parses IPv6 %s to %s", (text, canonical) => {
    const parsed = parseIpAddress(text);
    expect(parsed.ok && parsed.value.version).toBe(6);
    expect(canonicalizeIpAddress(text)).toBe(canonical);
  });

  it.each([
    ["::ffff:1.2.3.4"],
    ["::FFFF:1.2.3.4"],
    ["::ffff:102:304"],
    ["0:0:0:0:0:ffff:0102:0304"],
    ["0000:0000:0000:0000:0000:ffff:1.2.3.4"],
  ])("folds the IPv4-mapped %s into the IPv4 address", (text) => {
    expect(parseIpAddress(text)).toEqual({ ok: true, value: { version: 4, value: 0x01020304n } });
    expect(canonicalizeIpAddress(text)).toBe("1.2.3.4");
  });

  it("keeps the mapped form available to CIDR parsing", () => {
    const literal = parseIpLiteral("::ffff:1.2.3.4");
    expect(literal.ok && literal.value.version).toBe(6);
    expect(literal.ok && isIpv4Mapped(literal.value)).toBe(true);
    const notMapped = parseIpLiteral("::fffe:1.2.3.4");
    expect(notMapped.ok && isIpv4Mapped(notMapped.value)).toBe(false);
  });

  it.each([
    ["empty", ""],
    ["space", " "],
    ["padded", " 1.2.3.4"],
    ["trailing space", "1.2.3.4 "],
    ["three octets", "1.2.3"],
    ["five octets", "1.2.3.4.5"],
    ["short form", "127.1"],
    ["integer form", "2130706433"],
    ["octal-looking leading zero", "010.0.0.1"],
    ["leading zero in last octet", "1.2.3.04"],
    ["hex octet", "0x7f.0.0.1"],
    ["octet over 255", "256.0.0.1"],
    ["four-digit octet", "1000.0.0.1"],
    ["negative", "-1.0.0.0"],
    ["trailing dot", "1.2.3.4."],
    ["empty octet", "1..3.4"],
    ["port", "1.2.3.4:80"],
    ["cidr", "1.2.3.4/32"],
    ["hostname", "localhost"],
    ["unicode digits", "１.２.３.４"],
    ["arabic-indic digits", "١.٢.٣.٤"],
    ["nine groups", "1:2:3:4:5:6:7:8:9"],
    ["seven groups", "1:2:3:4:5:6:7"],
    ["two double colons", "1::2::3"],
    ["triple colon", ":::"],
    ["leading single colon", ":1::"],
    ["trailing single colon", "::1:"],
    ["five-digit group", "12345::"],
    ["non-hex group", "g::1"],
    ["double colon standing for nothing", "1:2:3:4::5:6:7:8"],
    ["embedded IPv4 not last", "::1.2.3.4:1"],
    ["embedded IPv4 before ::", "1.2.3.4::"],
    ["embedded IPv4 with bad octet", "::ffff:1.2.3.256"],
    ["embedded IPv4 with leading zero", "::ffff:01.2.3.4"],
    ["too many groups with IPv4", "1:2:3:4:5:6:7:1.2.3.4"],
    ["brackets", "[::1]"],
    ["bracketed with port", "[::1]:443"],
    ["too long", `${"0:".repeat(30)}1`],
    ["null byte", "1.2.3.4\u0000"],
    ["newline", "1.2.3.4\n"],
  ])("refuses %s", (_label, text) => {
    const parsed = parseIpAddress(text);
    expect(parsed.ok).toBe(false);
    expect(canonicalizeIpAddress(text)).toBeNull();
  });

  it("refuses zone ids with a distinct message that does not echo the input", () => {
    for (const text of ["fe80::1%eth0", "fe80::1%25eth0", "::1%1"]) {
      const parsed = parseIpAddress(text);
      expect(parsed.ok).toBe(false);
      if (!parsed.ok) {
        expect(parsed.error.code).toBe("invalid_input");
        expect(parsed.error.message).toMatch(/zone/);
        expect(parsed.error.message).not.toContain("eth0");
      }
    }
  });

  it("never echoes the rejected text", () => {
    const parsed = parseIpAddress("999.888.777.666");
    expect(!parsed.ok && parsed.error.message).not.toContain("999");
  });

  it("rejects over-long text before doing any work", () => {
    expect(MAX_IP_ADDRESS_TEXT_LENGTH).toBe("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255".length);
    expect(parseIpAddress("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255").ok).toBe(true);
    expect(parseIpAddress(`0${"ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255"}`).ok).toBe(false);
  });

  it("round-trips random addresses through the canonical text", () => {
    for (let i = 0; i < 200; i++) {
      const bytes = crypto.getRandomValues(new Uint8Array(16));
      // Zero some groups so that compression paths are exercised.
      for (let g = 0; g < 8; g++) if (bytes[g]! % 3 === 0) bytes[g * 2] = bytes[g * 2 + 1] = 0;
      let value = 0n;
      for (const b of bytes) value = (value << 8n) | BigInt(b);
      const ip = { version: 6 as const, value };
      const text = formatIpAddress(ip);
      const back = parseIpLiteral(text);
      expect(back.ok && back.value.value).toBe(value);
      expect(text).not.toMatch(/:::|(^|:)0[0-9a-f]/);
    }
  });
});
