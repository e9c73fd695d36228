import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { recordAudit } from "../../../audit/audit-context";
import { type AuthenticatedApiKey, authenticateApiKey } from "../../../auth/api-keys/authenticate-api-key";
import { type EnvApiKeyIndex, indexEnvApiKeys } from "../../../auth/api-keys/env-api-keys";
import type { SessionPrincipal, SessionStage } from "../../../auth/principal";
import { verifyCsrfToken } from "../../../auth/session-token";
import { findSession } from "../../../auth/sessions/find-session";
import { revokeSession } from "../../../auth/sessions/revoke-sessions";
import { sessionTimeoutsFor } from "../../../auth/sessions/session-timeouts";
import { sessionNeedsTouch, touchSession } from "../../../auth/sessions/touch-session";
import type { AppConfig } from "../../../config/load-config";
import { requireKeyRing } from "../../../config/load-config";
import { type CidrSet, createCidrSet } from "../../../net/create-cidr-set";
import { isIpAllowed } from "../../../net/ip-allowlist";
import { createConfiguredRateLimiter } from "../../../ratelimit/create-configured-rate-limiter";
import { auditContextOf } from "../../audit-context";
import type { AppEnv } from "../../context";
import { HttpError } from "../../errors";
import { clearSessionCookie, readSessionCookie } from "../../session-cookie";

export interface AuthenticateOptions {
  /** Session stages accepted. Default ["active"]; [] refuses cookie sessions. */
  sessionStages?: readonly SessionStage[];
  /** Accept `mk_` API keys (partner routes). Default false. */
  apiKeys?: boolean;
  /** Clock, for tests. */
  now?: () => Date;
}

export const CSRF_HEADER = "x-csrf-token";
const UNSAFE_METHODS = new Set(["POST", "PUT", "PATCH", "DELETE"]);
/** API keys travel in headers only, never in URLs (security-baseline "API keys"). */
const API_KEY_HEADER = "x-api-key";
const MINUTE_MS = 60_000;

const envKeyIndexes = new WeakMap<AppConfig, EnvApiKeyIndex>();
function envKeysOf(config: AppConfig): EnvApiKeyIndex {
  let index = envKeyIndexes.get(config);
  if (!index) {
    index = indexEnvApiKeys(config.secrets.API_KEYS, { strict: config.strict }).index;
    envKeyIndexes.set(config, index);
  }
  return index;
}

function presentedApiKey(c: Context): string | null {
  const header = c.req.header(API_KEY_HEADER);
  if (header !== undefined) return header.trim();
  const authorization = c.req.header("Authorization");
  if (authorization === undefined) return null;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  return match ? match[1]! : "";
}

/**
 * Parsed allowlists, by their text: the list is read with every authenticated request, and
 * a clinic's list changes rarely. Bounded: cleared when it grows past what any deployment's
 * tenant count would need between restarts.
 */
const parsedAllowlists = new Map<string, CidrSet | null>();
const MAX_PARSED_ALLOWLISTS = 1000;

function allowlisted(list: readonly string[], ip: string | null): boolean {
  if (list.length === 0) return true;
  const text = list.join(",");
  let set = parsedAllowlists.get(text);
  if (set === undefined) {
    if (parsedAllowlists.size >= MAX_PARSED_ALLOWLISTS) parsedAllowlists.clear();
    const parsed = createCidrSet(list);
    set = parsed.ok ? parsed.value : null;
    parsedAllowlists.set(text, set);
  }
  // Stored lists are validated on write; an unreadable list refuses (fail closed).
  return set !== null && isIpAllowed(set, ip);
}

/**
 * Who is calling (ASVS V7 sessions, V13 API keys). Order: an API key header, when
 * present, decides alone (a bad key is 401 even if a cookie is also sent); otherwise the
 * session cookie. Then the tenant IP allowlist, CSRF for cookie calls that change state,
 * and the per-key rate limit. Sets c.var.principal; every refusal is a JSON error and,
 * once the tenant is known, an audit event.
 */
export const authenticate = (options: AuthenticateOptions = {}) => {
  const stages = new Set<SessionStage>(options.sessionStages ?? ["active"]);
  const acceptKeys = options.apiKeys ?? false;
  const now = options.now ?? (() => new Date());
  return createMiddleware<AppEnv>(async (c, next) => {
    const apiKey = presentedApiKey(c);
    if (apiKey !== null && acceptKeys) {
      await authenticateWithApiKey(c, apiKey, now());
    } else if (apiKey !== null) {
      throw new HttpError("unauthorized", "This route takes a signed-in session, not an API key.");
    } else if (stages.size > 0 && readSessionCookie(c) !== undefined) {
      await authenticateWithSession(c, stages, now());
    } else {
      throw new HttpError("unauthorized", acceptKeys ? "Sign in or send an API key." : "Sign in first.");
    }
    await next();
  });
};

async function authenticateWithSession(c: Context<AppEnv>, stages: ReadonlySet<SessionStage>, now: Date) {
  const config = c.var.config;
  const timeouts = sessionTimeoutsFor(config);
  const found = await findSession(c.var.db, readSessionCookie(c), {
    now,
    timeouts,
    requestId: c.var.requestId,
  });
  if (!found.ok) {
    const { reason, sessionId, tenantId, userId } = found.error;
    if ((reason === "idle_timeout" || reason === "absolute_timeout") && sessionId && tenantId && userId) {
      await c.var.db.withTenant({ tenantId, actorId: userId, requestId: c.var.requestId }, (tx) =>
        revokeSession(
          tx,
          { sessionId, reason, now },
          auditContextOf(c, { type: "system", id: "auth.session_expiry" }),
        ),
      );
    }
    clearSessionCookie(c);
    throw new HttpError("unauthorized", "Your session has ended. Sign in again.");
  }
  const { principal } = found.value;
  const scope = { tenantId: principal.tenantId, actorId: principal.userId, requestId: c.var.requestId };
  const deny = async (
    reason: "ip_not_allowed" | "csrf_failed" | "mfa_enrollment_required",
    error: HttpError,
  ) => {
    await c.var.db.withTenant(scope, (tx) =>
      recordAudit(tx, auditContextOf(c, { type: "user", id: principal.userId }), {
        action: "access.denied",
        outcome: "DENIED",
        resource: { type: "user", id: principal.userId },
        details: { reason },
      }),
    );
    throw error;
  };
  if (!allowlisted(found.value.ipAllowlist, c.var.clientIp)) {
    await deny(
      "ip_not_allowed",
      new HttpError("forbidden", "Access from this network is not allowed for your clinic."),
    );
  }
  if (UNSAFE_METHODS.has(c.req.method) && !(await csrfPasses(c, principal))) {
    await deny(
      "csrf_failed",
      new HttpError("csrf_failed", "The request failed the anti-forgery check. Reload and try again."),
    );
  }
  if (!stages.has(principal.stage)) {
    throw new HttpError(
      "forbidden",
      principal.stage === "mfa_enrollment"
        ? "Set up two-factor authentication first."
        : "Enter your two-factor code first.",
      { stage: principal.stage },
    );
  }
  if (sessionNeedsTouch(found.value.lastSeenAt, now)) {
    await c.var.db.withTenant(scope, (tx) => touchSession(tx, principal.sessionId, now));
  }
  c.set("principal", principal);
}

/**
 * Cookie calls that change state (ASVS 3.5.1-3.5.3): a cross-site browser context is
 * refused by Fetch Metadata and Origin, and the session-bound token must be in a header
 * (a header cannot be set cross-site without a CORS preflight, which we never grant).
 */
async function csrfPasses(c: Context<AppEnv>, principal: SessionPrincipal): Promise<boolean> {
  const site = c.req.header("Sec-Fetch-Site");
  if (site !== undefined && site !== "same-origin" && site !== "none") return false;
  const origin = c.req.header("Origin");
  if (origin !== undefined) {
    const allowed = new Set([new URL(c.req.url).origin]);
    if (c.var.config.publicOrigin) allowed.add(new URL(c.var.config.publicOrigin).origin);
    if (!allowed.has(origin)) return false;
  }
  return verifyCsrfToken(
    requireKeyRing(c.var.config, "SESSION_KEYS"),
    principal.tokenHash,
    c.req.header(CSRF_HEADER),
  );
}

async function authenticateWithApiKey(c: Context<AppEnv>, token: string, now: Date) {
  const config = c.var.config;
  const result = await authenticateApiKey(c.var.db, token, {
    hmacKeys: requireKeyRing(config, "API_KEY_HMAC_KEYS"),
    envKeys: envKeysOf(config),
    now,
    requestId: c.var.requestId,
  });
  if (!result.ok) {
    const { reason, tenantId, apiKeyRowId, keyId } = result.error;
    if (tenantId && keyId && (reason === "revoked" || reason === "expired")) {
      await recordKeyDenial(
        c,
        { tenantId, apiKeyRowId: apiKeyRowId ?? null, keyId },
        reason === "revoked" ? "key_revoked" : "key_expired",
      );
    }
    throw new HttpError("unauthorized", "The API key is not valid.");
  }
  const key: AuthenticatedApiKey = result.value;
  const { principal } = key;
  if (!allowlisted(key.ipAllowlist, c.var.clientIp)) {
    await recordKeyDenial(c, principal, "ip_not_allowed");
    throw new HttpError("forbidden", "Access from this network is not allowed for this clinic.");
  }
  const limiter = createConfiguredRateLimiter(config, c.var.db, {
    limit: principal.rateLimitPerMinute,
    windowMs: MINUTE_MS,
  });
  const decision = await limiter.limit(`apikey:${principal.keyId}`);
  if (!decision.success) {
    const retryAfter = String(Math.max(1, Math.ceil((decision.resetAt - Date.now()) / 1000)));
    if (decision.reason === "unavailable") {
      throw new HttpError("unavailable", "Rate limiting is unavailable; try again shortly.", undefined, {
        "Retry-After": retryAfter,
      });
    }
    // One audit event per key per window, not one per refused call: a flood of 429s must
    // not turn into a flood of writes to the tenant's audit chain.
    const gate = createConfiguredRateLimiter(config, c.var.db, { limit: 1, windowMs: MINUTE_MS });
    if ((await gate.limit(`apikey-denied:${principal.keyId}`)).success) {
      await recordKeyDenial(c, principal, "rate_limited");
    }
    throw new HttpError("rate_limited", "Too many requests for this API key.", undefined, {
      "Retry-After": retryAfter,
      "RateLimit-Limit": String(decision.limit),
      "RateLimit-Remaining": "0",
    });
  }
  if (principal.apiKeyRowId && (!key.lastUsedAt || now.getTime() - key.lastUsedAt.getTime() >= MINUTE_MS)) {
    const rowId = principal.apiKeyRowId;
    await c.var.db.withTenant(
      { tenantId: principal.tenantId, actorId: `api_key:${principal.keyId}`, requestId: c.var.requestId },
      (tx) => tx`update medchr.api_keys set last_used_at = ${now} where id = ${rowId}`,
    );
  }
  c.set("principal", principal);
}

async function recordKeyDenial(
  c: Context<AppEnv>,
  key: { tenantId: string; apiKeyRowId: string | null; keyId: string },
  reason: "ip_not_allowed" | "rate_limited" | "key_revoked" | "key_expired" | "missing_scope",
) {
  await c.var.db.withTenant(
    { tenantId: key.tenantId, actorId: `api_key:${key.keyId}`, requestId: c.var.requestId },
    (tx) =>
      recordAudit(tx, auditContextOf(c, { type: "api_key", id: key.keyId }), {
        action: "api_key.denied",
        outcome: "DENIED",
        resource: { type: "api_key", id: key.apiKeyRowId },
        details: { reason },
      }),
  );
}

export { recordKeyDenial };
