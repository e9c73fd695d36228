/**
 * IP address parsing for client-IP resolution, allowlists and rate-limit keys. Pure and
 * Workers-safe (no node:net): an address is a version plus a BigInt value.
 *
 * Deliberately strict, because several parsers disagree on the loose forms and an
 * attacker picks whichever one the check and the use disagree on:
 *  - IPv4 is exactly four decimal octets without leading zeros. "010.0.0.1" is octal
 *    (8.0.0.1) to inet_aton and WHATWG URL but decimal to others (CVE-2021-28918,
 *    CVE-2021-29418); "127.1", "0x7f.0.0.1" and "2130706433" are refused for the same reason.
 *  - IPv6 zone ids ("fe80::1%eth0") are refused: a zone names an interface of one host,
 *    never a client we could allowlist, and "%" is a common injection vector.
 *  - IPv4-mapped IPv6 (::ffff:1.2.3.4, ::ffff:102:304) IS the IPv4 address: a dual-stack
 *    socket reports IPv4 clients that way, and an allowlist of "1.2.3.0/24" must match it.
 * Nothing is trimmed: callers that read lists (X-Forwarded-For, settings) trim elements.
 */
import { type DomainError, err, ok, type Result } from "../core/result";

export type IpVersion = 4 | 6;

export interface IpAddress {
  readonly version: IpVersion;
  /** 32-bit (IPv4) or 128-bit (IPv6) unsigned value. */
  readonly value: bigint;
}

export interface InvalidIpAddress extends DomainError {
  readonly code: "invalid_input";
}

/** "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255" is the longest valid literal (45 chars). */
export const MAX_IP_ADDRESS_TEXT_LENGTH = 45;

const IPV4_OCTET = "(0|[1-9][0-9]{0,2})";
const IPV4_PATTERN = new RegExp(`^${IPV4_OCTET}\\.${IPV4_OCTET}\\.${IPV4_OCTET}\\.${IPV4_OCTET}$`);
const HEX_GROUP = /^[0-9A-Fa-f]{1,4}$/;
const IPV6_CHARACTERS = /^[0-9A-Fa-f:.]+$/;

const IPV4_MAPPED_PREFIX = 0xffffn << 32n;
const IPV4_MAPPED_MASK = ~0xffffffffn & ((1n << 128n) - 1n);

/** The error message never repeats the input: an IP address identifies a person. */
function invalid(message = "not a valid IP address"): Result<never, InvalidIpAddress> {
  return err({ code: "invalid_input", message });
}

function parseIpv4Value(text: string): bigint | null {
  const match = IPV4_PATTERN.exec(text);
  if (!match) return null;
  let value = 0n;
  for (let i = 1; i <= 4; i++) {
    const octet = Number(match[i]);
    if (octet > 255) return null;
    value = (value << 8n) | BigInt(octet);
  }
  return value;
}

function parseIpv6Value(text: string): bigint | null {
  if (!IPV6_CHARACTERS.test(text)) return null;
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const groupsOf = (part: string | undefined): string[] | null => {
    if (part === undefined || part === "") return [];
    const groups = part.split(":");
    return groups.some((g) => g === "") ? null : groups;
  };
  const head = groupsOf(halves[0]);
  const tail = groupsOf(halves[1]);
  if (!head || !tail) return null;
  const compressed = halves.length === 2;

  // An embedded dotted IPv4 may only be the last 32 bits: the last group of the last part.
  const toWords = (groups: string[], isLastPart: boolean): number[] | null => {
    const out: number[] = [];
    for (const [index, group] of groups.entries()) {
      if (group.includes(".")) {
        if (!isLastPart || index !== groups.length - 1) return null;
        const v4 = parseIpv4Value(group);
        if (v4 === null) return null;
        out.push(Number(v4 >> 16n), Number(v4 & 0xffffn));
        continue;
      }
      if (!HEX_GROUP.test(group)) return null;
      out.push(Number.parseInt(group, 16));
    }
    return out;
  };
  const headWords = toWords(head, !compressed);
  const tailWords = toWords(tail, true);
  if (!headWords || !tailWords) return null;
  let words: number[];
  if (compressed) {
    // "::" stands for at least one zero group (RFC 4291 2.2).
    const missing = 8 - headWords.length - tailWords.length;
    if (missing < 1) return null;
    words = [...headWords, ...new Array<number>(missing).fill(0), ...tailWords];
  } else {
    if (headWords.length !== 8) return null;
    words = headWords;
  }
  let value = 0n;
  for (const word of words) value = (value << 16n) | BigInt(word);
  return value;
}

/**
 * Parses without folding IPv4-mapped addresses, so a CIDR's prefix length can still be
 * read in IPv6 terms. Most callers want parseIpAddress.
 */
export function parseIpLiteral(text: string): Result<IpAddress, InvalidIpAddress> {
  if (text.length === 0 || text.length > MAX_IP_ADDRESS_TEXT_LENGTH) return invalid();
  if (text.includes("%")) return invalid("IPv6 zone identifiers are not accepted");
  if (!text.includes(":")) {
    const v4 = parseIpv4Value(text);
    return v4 === null ? invalid() : ok({ version: 4, value: v4 });
  }
  const v6 = parseIpv6Value(text);
  return v6 === null ? invalid() : ok({ version: 6, value: v6 });
}

export function isIpv4Mapped(ip: IpAddress): boolean {
  return ip.version === 6 && (ip.value & IPV4_MAPPED_MASK) === IPV4_MAPPED_PREFIX;
}

/** ::ffff:a.b.c.d becomes a.b.c.d; every other address is returned as it is. */
export function unmapIpv4(ip: IpAddress): IpAddress {
  return isIpv4Mapped(ip) ? { version: 4, value: ip.value & 0xffffffffn } : ip;
}

export function parseIpAddress(text: string): Result<IpAddress, InvalidIpAddress> {
  const parsed = parseIpLiteral(text);
  return parsed.ok ? ok(unmapIpv4(parsed.value)) : parsed;
}

/** Dotted decimal, or RFC 5952 text for IPv6 (lower case, longest zero run as "::"). */
export function formatIpAddress(ip: IpAddress): string {
  if (ip.version === 4) {
    return [24n, 16n, 8n, 0n].map((shift) => String((ip.value >> shift) & 0xffn)).join(".");
  }
  const words: number[] = [];
  for (let shift = 112n; shift >= 0n; shift -= 16n) words.push(Number((ip.value >> shift) & 0xffffn));
  // RFC 5952 4.2: compress the longest run of two or more zero groups, the first on a tie.
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = words.map((w) => w.toString(16));
  if (bestStart < 0) return hex.join(":");
  const left = hex.slice(0, bestStart).join(":");
  const right = hex.slice(bestStart + bestLength).join(":");
  return `${left}::${right}`;
}

/** The canonical text of an address, or null when it does not parse. */
export function canonicalizeIpAddress(text: string): string | null {
  const parsed = parseIpAddress(text);
  return parsed.ok ? formatIpAddress(parsed.value) : null;
}
