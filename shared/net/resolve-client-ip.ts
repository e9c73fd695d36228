/**
 * The client's IP address for rate limits, IP allowlists and audit (security-baseline
 * "client IP"; ASVS 4.1: do not trust client-settable headers for security decisions).
 *
 * `peerIp` is the address that connected to us, which the client cannot choose:
 *  - On Cloudflare Workers pass `request.headers.get("CF-Connecting-IP")`. Cloudflare's edge
 *    sets it on every request and overwrites any value the client sent, so it is the
 *    connecting address whenever the Worker is reached through Cloudflare (workers.dev, a
 *    route or a custom domain - the only ways in). Its X-Forwarded-For, by contrast, keeps
 *    whatever the client sent and only appends the connecting address.
 *  - Behind a Node server pass the socket's remote address.
 *
 * X-Forwarded-For is read only when TRUST_PROXY_HEADERS is on AND the peer is one of
 * TRUSTED_PROXY_IPS. Each proxy appends the address it received the request from, so the
 * entries a client can forge are all to the LEFT of the one our first trusted proxy
 * wrote. Walking from the right, every entry while we are still inside the trusted set was
 * written by a trusted proxy; the first address outside the set is the real client. A
 * left-most or "first" reading of the header would hand the choice to the client.
 *
 * The result is the canonical text of the address (IPv4-mapped IPv6 folded to IPv4,
 * IPv6 per RFC 5952) so rate-limit keys and audit entries agree however it was spelt; null
 * means unknown (no usable peer address), which an allowlist refuses.
 */
import type { CidrSet } from "./create-cidr-set";
import { formatIpAddress, type IpAddress, parseIpAddress } from "./parse-ip-address";

export interface HeaderReader {
  /** Fetch `Headers.get` semantics: repeated fields come back joined with ", ". */
  get(name: string): string | null | undefined;
}

export interface ResolveClientIpOptions {
  readonly peerIp: string | null | undefined;
  readonly headers: HeaderReader;
  /** TRUST_PROXY_HEADERS; off means X-Forwarded-For is ignored whoever sends it. */
  readonly trustProxyHeaders: boolean;
  /** TRUSTED_PROXY_IPS, parsed once at start-up with createCidrSet. */
  readonly trustedProxies: CidrSet;
}

/**
 * More hops than any real proxy chain has. Past it the walk stops as on a malformed entry,
 * which bounds the parsing a request can cause when its peer sits inside the trusted set.
 */
export const MAX_FORWARDED_HOPS = 20;

/** RFC 9110 5.6.1: list elements are separated by commas with optional spaces or tabs. */
const OPTIONAL_WHITESPACE = /^[ \t]+|[ \t]+$/g;

export function resolveClientIp(options: ResolveClientIpOptions): string | null {
  const peer = options.peerIp ? parseIpAddress(options.peerIp) : null;
  if (!peer?.ok) return null;
  const { trustedProxies } = options;
  if (!options.trustProxyHeaders || !trustedProxies.matches(peer.value)) return formatIpAddress(peer.value);

  const header = options.headers.get("x-forwarded-for");
  if (!header) return formatIpAddress(peer.value);

  // `closest` is the left-most hop vouched for so far: each step moves it one proxy further out.
  let closest: IpAddress = peer.value;
  const entries = header.split(",");
  let hops = 0;
  for (let i = entries.length - 1; i >= 0; i--) {
    const entry = (entries[i] ?? "").replace(OPTIONAL_WHITESPACE, "");
    // Empty list elements are allowed by the list syntax (RFC 9110 5.6.1) and carry nothing.
    if (entry === "") continue;
    hops++;
    const parsed = hops > MAX_FORWARDED_HOPS ? null : parseIpAddress(entry);
    // A malformed entry (a port, "unknown", an obfuscated id, text) was written by the hop in
    // `closest` (every hop to its right was trusted, so no client wrote it). Nothing left of
    // it can be attributed to a trusted writer any more, so stop and answer the last address
    // a trusted proxy vouched for. Never skip it and read further left: that is where a
    // client's own forged entries sit.
    if (!parsed?.ok) return formatIpAddress(closest);
    if (!trustedProxies.matches(parsed.value)) return formatIpAddress(parsed.value);
    closest = parsed.value;
  }
  // Every hop was a trusted proxy (an internal caller): the left-most entry is the origin.
  return formatIpAddress(closest);
}
