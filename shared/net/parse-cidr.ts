/**
 * CIDR blocks for TRUSTED_PROXY_IPS and tenant IP allowlists. "a.b.c.d" and "x::y" without
 * a prefix are single hosts (/32, /128). An IPv4-mapped block (::ffff:10.0.0.0/104) is the
 * IPv4 block (10.0.0.0/8), matching how parseIpAddress folds mapped addresses. An IPv6
 * block therefore never matches an IPv4 client: "::/0" means every IPv6 address only.
 */
import { type DomainError, err, ok, type Result } from "../core/result";
import { formatIpAddress, type IpVersion, isIpv4Mapped, parseIpLiteral } from "./parse-ip-address";

export interface Cidr {
  readonly version: IpVersion;
  /** The first address of the block; host bits are always zero. */
  readonly network: bigint;
  readonly prefix: number;
}

export interface InvalidCidr extends DomainError {
  readonly code: "invalid_input";
}

const PREFIX_PATTERN = /^(0|[1-9][0-9]{0,2})$/;

export const addressBits = (version: IpVersion): number => (version === 4 ? 32 : 128);

const invalid = (message: string): Result<never, InvalidCidr> => err({ code: "invalid_input", message });

export function parseCidr(text: string): Result<Cidr, InvalidCidr> {
  const parts = text.split("/");
  if (parts.length > 2) return invalid("not a valid CIDR block");
  const [addressText = "", prefixText] = parts;
  const address = parseIpLiteral(addressText);
  if (!address.ok) return address;
  let { version, value } = address.value;
  let prefix = addressBits(version);
  if (prefixText !== undefined) {
    if (!PREFIX_PATTERN.test(prefixText)) return invalid("the prefix length must be a decimal number");
    prefix = Number(prefixText);
    if (prefix > addressBits(version)) {
      return invalid(`the prefix length is at most ${addressBits(version)} for IPv${version}`);
    }
  }
  // A mapped block shorter than /96 would have the ffff bits as host bits: refused below.
  if (isIpv4Mapped(address.value) && prefix >= 96) {
    version = 4;
    value &= 0xffffffffn;
    prefix -= 96;
  }
  // Refused rather than silently truncated: "10.1.2.3/8" is usually a typo for /32, and
  // widening it to all of 10.0.0.0/8 would grant far more than the author meant.
  const hostBits = BigInt(addressBits(version) - prefix);
  if ((value & ((1n << hostBits) - 1n)) !== 0n) {
    return invalid("the address has bits set beyond the prefix length (host bits)");
  }
  return ok({ version, network: value, prefix });
}

/** Canonical text: "10.0.0.0/8", "2001:db8::/32"; single hosts keep their /32 or /128. */
export function formatCidr(cidr: Cidr): string {
  return `${formatIpAddress({ version: cidr.version, value: cidr.network })}/${cidr.prefix}`;
}
