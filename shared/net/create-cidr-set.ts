/**
 * A set of CIDR blocks parsed once (at config load or when a tenant policy is read) and
 * then matched per request. Matching is a linear scan: the lists are short (an allowlist
 * holds at most IP_ALLOWLIST_MAX_ENTRIES, TRUSTED_PROXY_IPS a handful).
 */
import { type DomainError, err, ok, type Result } from "../core/result";
import { ipInCidr } from "./ip-in-cidr";
import { type Cidr, formatCidr, parseCidr } from "./parse-cidr";
import { type IpAddress, parseIpAddress, unmapIpv4 } from "./parse-ip-address";

export interface CidrSet {
  /** Number of distinct blocks. */
  readonly size: number;
  /** The blocks in canonical form, duplicates removed, in the order first given. */
  readonly cidrs: readonly string[];
  /** False for anything that is not a valid address (unknown, malformed, zone id...). */
  matches(ip: string | IpAddress | null | undefined): boolean;
}

export interface InvalidCidrList extends DomainError {
  readonly code: "invalid_input";
  /** One entry per refused element, by position; never the element's text. */
  readonly problems: readonly { readonly index: number; readonly message: string }[];
}

function buildSet(blocks: readonly Cidr[]): CidrSet {
  const cidrs = blocks.map(formatCidr);
  return {
    size: blocks.length,
    cidrs,
    matches(ip) {
      if (ip === null || ip === undefined || blocks.length === 0) return false;
      let address: IpAddress;
      if (typeof ip === "string") {
        const parsed = parseIpAddress(ip);
        if (!parsed.ok) return false;
        address = parsed.value;
      } else {
        // A caller may hold an unfolded literal (parseIpLiteral): mapped addresses are IPv4 here too.
        address = unmapIpv4(ip);
      }
      return blocks.some((block) => ipInCidr(address, block));
    },
  };
}

export const EMPTY_CIDR_SET: CidrSet = buildSet([]);

/** Elements are used as given (callers trim); an empty string is an error, not "nothing". */
export function createCidrSet(list: readonly string[]): Result<CidrSet, InvalidCidrList> {
  const problems: { index: number; message: string }[] = [];
  const blocks: Cidr[] = [];
  const seen = new Set<string>();
  for (const [index, text] of list.entries()) {
    const parsed = parseCidr(text);
    if (!parsed.ok) {
      problems.push({ index, message: parsed.error.message });
      continue;
    }
    const canonical = formatCidr(parsed.value);
    if (seen.has(canonical)) continue;
    seen.add(canonical);
    blocks.push(parsed.value);
  }
  if (problems.length > 0) {
    const positions = problems.map((p) => p.index + 1).join(", ");
    return err({ code: "invalid_input", message: `invalid CIDR block at position ${positions}`, problems });
  }
  return ok(buildSet(blocks));
}
