import { createMiddleware } from "hono/factory";
import { activeKey } from "../../../config/key-ring";
import { requireKeyRing } from "../../../config/load-config";
import { createConfiguredRateLimiter } from "../../../ratelimit/create-configured-rate-limiter";
import { createRateLimitKey } from "../../../ratelimit/create-rate-limit-key";
import type { RateLimitPolicy } from "../../../ratelimit/rate-limiter";
import type { AppEnv } from "../../context";
import { HttpError } from "../../errors";

export interface ClientIpRateLimitOptions extends RateLimitPolicy {
  /** Counter namespace, e.g. "auth-ip". */
  namespace: string;
  /** Methods counted; default the state-changing ones (reads of /auth/session are cheap). */
  methods?: readonly string[];
}

/**
 * Per-client-IP limit (security-baseline "failed logins: per IP: rate limit", ASVS
 * 6.3.1): slows password and code guessing across accounts, which per-account lockout
 * alone cannot. The IP is HMAC'd before it reaches the store; an unknown IP shares one
 * bucket, so hiding the address buys nothing. Fails closed (503) when the store is down.
 */
export const limitByClientIp = (options: ClientIpRateLimitOptions) => {
  const methods = new Set(options.methods ?? ["POST", "PUT", "PATCH", "DELETE"]);
  const policy: RateLimitPolicy = {
    limit: options.limit,
    windowMs: options.windowMs,
    timeoutMs: options.timeoutMs,
  };
  return createMiddleware<AppEnv>(async (c, next) => {
    if (!methods.has(c.req.method)) return next();
    const { key } = activeKey(requireKeyRing(c.var.config, "RATE_LIMIT_KEYS"));
    const limiter = createConfiguredRateLimiter(c.var.config, c.var.db, policy);
    const decision = await limiter.limit(
      await createRateLimitKey(options.namespace, c.var.clientIp ?? "unknown", key),
    );
    if (!decision.success) {
      const retryAfter = String(Math.max(1, Math.ceil((decision.resetAt - Date.now()) / 1000)));
      throw decision.reason === "unavailable"
        ? new HttpError("unavailable", "Sign-in is briefly unavailable; try again shortly.", undefined, {
            "Retry-After": retryAfter,
          })
        : new HttpError("rate_limited", "Too many attempts from this network. Try again later.", undefined, {
            "Retry-After": retryAfter,
          });
    }
    await next();
  });
};
