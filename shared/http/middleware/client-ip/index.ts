import { createMiddleware } from "hono/factory";
import type { AppConfig } from "../../../config/load-config";
import { type CidrSet, createCidrSet, EMPTY_CIDR_SET } from "../../../net/create-cidr-set";
import { resolveClientIp } from "../../../net/resolve-client-ip";

/**
 * The peer address: Cloudflare sets CF-Connecting-IP on every request it proxies and
 * overwrites any value the client sent, so behind Cloudflare it is the TCP peer. Anything
 * else (X-Forwarded-For) is believed only from TRUSTED_PROXY_IPS (security-baseline
 * "client IP", ASVS 4.1.x).
 */
export const PEER_IP_HEADER = "cf-connecting-ip";

const trustedSets = new WeakMap<AppConfig, CidrSet>();

function trustedProxies(config: AppConfig): CidrSet {
  let set = trustedSets.get(config);
  if (!set) {
    const parsed = createCidrSet(config.trustedProxyCidrs);
    // load-config validates the list; an invalid entry here means trust nothing.
    set = parsed.ok ? parsed.value : EMPTY_CIDR_SET;
    trustedSets.set(config, set);
  }
  return set;
}

/** Resolves the client IP once per request for rate limits, allowlists and audit. */
export const clientIp = () =>
  createMiddleware<{ Variables: { config: AppConfig; clientIp: string | null } }>(async (c, next) => {
    const config = c.var.config;
    c.set(
      "clientIp",
      resolveClientIp({
        peerIp: c.req.header(PEER_IP_HEADER) ?? null,
        headers: c.req.raw.headers,
        trustProxyHeaders: config.trustProxyHeaders,
        trustedProxies: trustedProxies(config),
      }),
    );
    await next();
  });
