import { addressBits, type Cidr } from "./parse-cidr";
import type { IpAddress } from "./parse-ip-address";

/**
 * Both sides must already be parsed (parseIpAddress folds IPv4-mapped addresses), so an
 * IPv4 address is never compared with an IPv6 block or the other way round.
 */
export function ipInCidr(ip: IpAddress, cidr: Cidr): boolean {
  if (ip.version !== cidr.version) return false;
  const hostBits = BigInt(addressBits(cidr.version) - cidr.prefix);
  return ip.value >> hostBits === cidr.network >> hostBits;
}
