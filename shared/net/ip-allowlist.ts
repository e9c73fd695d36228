/**
 * Tenant IP allowlists (tenant_policies.ip_allowlist, security-baseline "client IP").
 * Stored as canonical CIDR strings produced by validateIpAllowlist; turned into a CidrSet
 * with createCidrSet when the policy is read.
 */
import { type DomainError, err, ok, type Result } from "../core/result";
import type { CidrSet } from "./create-cidr-set";
import { formatCidr, parseCidr } from "./parse-cidr";

/**
 * A tenant lists office and partner egress ranges, not individual users; 100 blocks is
 * far above that, and bounds the per-request scan (every API call checks the list).
 */
export const IP_ALLOWLIST_MAX_ENTRIES = 100;
/** "ffff:...:255.255.255.255/128" is 49 characters; longer text is refused unparsed. */
const MAX_ENTRY_LENGTH = 64;

/**
 * An empty allowlist means "no restriction". A non-empty one fails closed: when the
 * client's address is unknown or malformed (null from resolveClientIp) the request is
 * refused, because "we could not tell" must not be a way around the list.
 */
export function isIpAllowed(allowlist: CidrSet, ip: string | null | undefined): boolean {
  if (allowlist.size === 0) return true;
  return allowlist.matches(ip);
}

export interface IpAllowlistErrors extends DomainError {
  readonly code: "invalid_input";
  /** Same shape as the HTTP layer's validationDetails: where and what, never the value. */
  readonly fields: readonly { readonly field: string; readonly message: string }[];
}

/**
 * Validates an allowlist sent to the tenant policy API (or read back from jsonb) and returns
 * it normalised: canonical CIDR text, bare addresses as /32 or /128, duplicates dropped in
 * first-seen order. Surrounding spaces are forgiven; anything else malformed is an error
 * naming the element's position, e.g. `ip_allowlist.3`.
 */
export function validateIpAllowlist(
  list: unknown,
  field = "ip_allowlist",
): Result<string[], IpAllowlistErrors> {
  const fail = (fields: IpAllowlistErrors["fields"]) =>
    err({ code: "invalid_input" as const, message: `Invalid ${field}.`, fields });
  if (!Array.isArray(list)) return fail([{ field, message: "must be an array of CIDR blocks" }]);
  if (list.length > IP_ALLOWLIST_MAX_ENTRIES) {
    return fail([{ field, message: `must have at most ${IP_ALLOWLIST_MAX_ENTRIES} entries` }]);
  }
  const fields: { field: string; message: string }[] = [];
  const normalised: string[] = [];
  for (const [index, entry] of list.entries()) {
    const where = `${field}.${index}`;
    if (typeof entry !== "string") {
      fields.push({ field: where, message: "must be a string" });
      continue;
    }
    const text = entry.trim();
    if (text === "" || text.length > MAX_ENTRY_LENGTH) {
      fields.push({ field: where, message: "must be an IP address or CIDR block" });
      continue;
    }
    const parsed = parseCidr(text);
    if (!parsed.ok) {
      fields.push({ field: where, message: parsed.error.message });
      continue;
    }
    const canonical = formatCidr(parsed.value);
    if (!normalised.includes(canonical)) normalised.push(canonical);
  }
  return fields.length > 0 ? fail(fields) : ok(normalised);
}
