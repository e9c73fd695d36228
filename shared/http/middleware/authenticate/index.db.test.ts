import { randomBytes } from "node:crypto";
import { z } from "@hono/zod-openapi";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  startUpstashRedisStandin,
  type UpstashRedisStandin,
} from "../../../../scripts/local/upstash-redis/server";
import { createApiKey, createUser, signIn, type TestSession } from "../../../../test/helpers/identity";
import { createTenant, startTestDatabase, type TestDatabase } from "../../../../test/helpers/test-database";
import { testEnv } from "../../../../test/helpers/test-env";
import { generateApiKeyToken } from "../../../auth/api-key-token";
import type { Permission } from "../../../auth/permissions";
import { createFunctionApp } from "../../create-app";
import { protectedRoute } from "../../define-route";

/** A tiny api app with one route per interesting permission. */
function probeApp() {
  const app = createFunctionApp("api", { usesDatabase: true });
  const probe = (method: "get" | "post", path: string, permission: Permission) =>
    app.openapi(
      protectedRoute({
        method,
        path,
        permission,
        audit: { none: "test probe: reads no patient data" },
        ...(method === "post"
          ? {
              request: {
                body: { content: { "application/json": { schema: z.object({}) } }, required: true },
              },
            }
          : {}),
        responses: { 200: { description: "ok" } },
      }),
      (c) => c.json({ principal: c.var.principal.kind, tenantId: c.var.principal.tenantId }, 200),
    );
  probe("get", "/api/v1/probe/read", "patient.read");
  probe("post", "/api/v1/probe/write", "patient.write");
  probe("post", "/api/v1/probe/admin", "user.manage");
  probe("post", "/api/v1/probe/finalize", "report.finalize");
  return app;
}

let database: TestDatabase;
let tenant: string;
let otherTenant: string;
const app = probeApp();

beforeAll(async () => {
  database = await startTestDatabase();
  tenant = await createTenant(database.owner, "authn");
  otherTenant = await createTenant(database.owner, "authn-other");
});
afterAll(async () => {
  await database?.stop();
});

async function setAllowlist(tenantId: string, list: string[]) {
  await database.owner`insert into medchr.tenant_policies (tenant_id, ip_allowlist) values (${tenantId}, ${database.owner.json(list)})
    on conflict (tenant_id) do update set ip_allowlist = excluded.ip_allowlist`;
}
async function denials(tenantId: string) {
  return database.owner<{ action: string; details: { reason: string } }[]>`
    select action, details from medchr.audit_events where tenant_id = ${tenantId} and action in ('access.denied', 'api_key.denied') order by seq`;
}

describe("API key scopes", () => {
  const env = () => testEnv(database.url);
  const matrix: [string[], Record<string, number>][] = [
    [["read"], { read: 200, write: 403, admin: 403 }],
    [["write"], { read: 200, write: 200, admin: 403 }],
    [["admin"], { read: 200, write: 200, admin: 200 }],
    [["read", "write"], { read: 200, write: 200, admin: 403 }],
  ];
  it.each(matrix)("scopes %j", async (scopes, expected) => {
    const key = await createApiKey(database.owner, tenant, {
      scopes: scopes as ("read" | "write" | "admin")[],
    });
    const e = env();
    const read = await app.request("/api/v1/probe/read", { headers: key.headers }, e);
    const write = await app.request(
      "/api/v1/probe/write",
      { method: "POST", headers: key.headers, body: "{}" },
      e,
    );
    const admin = await app.request(
      "/api/v1/probe/admin",
      { method: "POST", headers: key.headers, body: "{}" },
      e,
    );
    expect({ read: read.status, write: write.status, admin: admin.status }).toEqual(expected);
  });

  it("accepts X-API-Key too, refuses keys in the URL, malformed, unknown, revoked and expired keys with 401", async () => {
    const e = env();
    const key = await createApiKey(database.owner, tenant, { scopes: ["read"] });
    expect((await app.request("/api/v1/probe/read", { headers: { "X-API-Key": key.token } }, e)).status).toBe(
      200,
    );
    expect((await app.request(`/api/v1/probe/read?api_key=${key.token}`, {}, e)).status).toBe(401);
    expect(
      (await app.request("/api/v1/probe/read", { headers: { Authorization: "Bearer mk_short" } }, e)).status,
    ).toBe(401);
    const unknown = generateApiKeyToken();
    expect(
      (await app.request("/api/v1/probe/read", { headers: { Authorization: `Bearer ${unknown.token}` } }, e))
        .status,
    ).toBe(401);
    // Right key id, wrong secret.
    const forged = `mk_${key.keyId}_${unknown.secret}`;
    expect(
      (await app.request("/api/v1/probe/read", { headers: { Authorization: `Bearer ${forged}` } }, e)).status,
    ).toBe(401);
    const revoked = await createApiKey(database.owner, tenant, { scopes: ["read"], revoked: true });
    expect((await app.request("/api/v1/probe/read", { headers: revoked.headers }, e)).status).toBe(401);
    const expired = await createApiKey(database.owner, tenant, {
      scopes: ["read"],
      expiresAt: new Date(Date.now() - 1000),
    });
    expect((await app.request("/api/v1/probe/read", { headers: expired.headers }, e)).status).toBe(401);
    const reasons = (await denials(tenant)).map((d) => d.details.reason);
    expect(reasons).toEqual(expect.arrayContaining(["key_revoked", "key_expired"]));
  });

  it("stops working the moment it is revoked", async () => {
    const e = env();
    const key = await createApiKey(database.owner, tenant, { scopes: ["read"] });
    expect((await app.request("/api/v1/probe/read", { headers: key.headers }, e)).status).toBe(200);
    await database.owner`update medchr.api_keys set revoked_at = now() where id = ${key.id}`;
    expect((await app.request("/api/v1/probe/read", { headers: key.headers }, e)).status).toBe(401);
  });

  it("records last use at most once a minute", async () => {
    const e = env();
    const key = await createApiKey(database.owner, tenant, { scopes: ["read"] });
    await app.request("/api/v1/probe/read", { headers: key.headers }, e);
    const [first] = await database.owner<
      { last_used_at: Date }[]
    >`select last_used_at from medchr.api_keys where id = ${key.id}`;
    expect(first!.last_used_at).not.toBeNull();
    await app.request("/api/v1/probe/read", { headers: key.headers }, e);
    const [second] = await database.owner<
      { last_used_at: Date }[]
    >`select last_used_at from medchr.api_keys where id = ${key.id}`;
    expect(second!.last_used_at).toEqual(first!.last_used_at);
  });

  it("accepts keys from API_KEYS (scoped), tied to their tenant", async () => {
    const generated = generateApiKeyToken();
    const e = testEnv(database.url, { API_KEYS: `${otherTenant}:${generated.token}:read` });
    const res = await app.request(
      "/api/v1/probe/read",
      { headers: { Authorization: `Bearer ${generated.token}` } },
      e,
    );
    expect(res.status).toBe(200);
    expect(((await res.json()) as { tenantId: string }).tenantId).toBe(otherTenant);
    const write = await app.request(
      "/api/v1/probe/write",
      {
        method: "POST",
        headers: { Authorization: `Bearer ${generated.token}`, "Content-Type": "application/json" },
        body: "{}",
      },
      e,
    );
    expect(write.status).toBe(403);
  });
});

describe("per-key per-minute limit", () => {
  let standin: UpstashRedisStandin | undefined;
  beforeAll(async () => {
    try {
      standin = await startUpstashRedisStandin({ token: randomBytes(24).toString("base64url"), spawn: true });
    } catch {
      standin = undefined;
    }
  });
  afterAll(async () => {
    await standin?.stop();
  });

  const backends = () => [
    ["postgres", testEnv(database.url)] as const,
    ...(standin
      ? ([
          [
            "upstash",
            testEnv(database.url, {
              UPSTASH_REDIS_REST_URL: standin.url,
              UPSTASH_REDIS_REST_TOKEN: standin.token,
            }),
          ],
        ] as const)
      : []),
  ];

  it("answers 429 with Retry-After after the key's limit, on every backend, and audits once per window", async () => {
    expect(backends().length, "redis-server is needed for the Upstash backend (.ci/run installs it)").toBe(2);
    for (const [name, env] of backends()) {
      const key = await createApiKey(database.owner, tenant, { scopes: ["read"], ratePerMinute: 3 });
      const statuses: number[] = [];
      let limited: Response | undefined;
      for (let i = 0; i < 5; i++) {
        const res = await app.request("/api/v1/probe/read", { headers: key.headers }, env);
        statuses.push(res.status);
        if (res.status === 429) limited = res;
      }
      // A minute boundary may fall inside the loop; then the count restarts once.
      expect(statuses.filter((s) => s === 429).length, name).toBeGreaterThanOrEqual(1);
      expect(Number(limited!.headers.get("Retry-After")), name).toBeGreaterThan(0);
      expect(Number(limited!.headers.get("Retry-After")), name).toBeLessThanOrEqual(60);
      const [row] = await database.owner<{ n: number }[]>`
        select count(*)::int as n from medchr.audit_events where action = 'api_key.denied' and resource_id = ${key.id}
          and details->>'reason' = 'rate_limited'`;
      expect(row!.n, name).toBe(1);
    }
  });

  it("fails closed (503) when the limiter's store is unreachable", async () => {
    const key = await createApiKey(database.owner, tenant, { scopes: ["read"] });
    const env = testEnv(database.url, {
      UPSTASH_REDIS_REST_URL: "http://127.0.0.1:9",
      UPSTASH_REDIS_REST_TOKEN: "x".repeat(32),
    });
    const res = await app.request("/api/v1/probe/read", { headers: key.headers }, env);
    expect(res.status).toBe(503);
    expect(res.headers.get("Retry-After")).toBeTruthy();
  });
});

describe("tenant IP allowlist and forwarded headers", () => {
  let session: TestSession;
  let tenantIp: string;
  beforeAll(async () => {
    tenantIp = await createTenant(database.owner, "authn-ip");
    await setAllowlist(tenantIp, ["203.0.113.0/24", "2001:db8::/32"]);
    session = await signIn(database.db, await createUser(database.owner, tenantIp));
  });

  it("admits a listed address and refuses others, for sessions and API keys, with an audit event", async () => {
    const env = testEnv(database.url);
    const key = await createApiKey(database.owner, tenantIp, { scopes: ["read"] });
    for (const headers of [{ Cookie: session.cookie }, key.headers]) {
      expect(
        (
          await app.request(
            "/api/v1/probe/read",
            { headers: { ...headers, "CF-Connecting-IP": "203.0.113.9" } },
            env,
          )
        ).status,
      ).toBe(200);
      expect(
        (
          await app.request(
            "/api/v1/probe/read",
            { headers: { ...headers, "CF-Connecting-IP": "2001:db8::7" } },
            env,
          )
        ).status,
      ).toBe(200);
      expect(
        (
          await app.request(
            "/api/v1/probe/read",
            { headers: { ...headers, "CF-Connecting-IP": "198.51.100.1" } },
            env,
          )
        ).status,
      ).toBe(403);
      // No address at all: a non-empty allowlist fails closed.
      expect((await app.request("/api/v1/probe/read", { headers }, env)).status).toBe(403);
    }
    const reasons = (await denials(tenantIp)).map((d) => `${d.action}:${d.details.reason}`);
    expect(reasons).toEqual(
      expect.arrayContaining(["access.denied:ip_not_allowed", "api_key.denied:ip_not_allowed"]),
    );
  });

  it("ignores a spoofed X-Forwarded-For unless the peer is a trusted proxy", async () => {
    const spoof = {
      Cookie: session.cookie,
      "CF-Connecting-IP": "198.51.100.1",
      "X-Forwarded-For": "203.0.113.9",
    };
    // Trust off: the header is ignored.
    expect((await app.request("/api/v1/probe/read", { headers: spoof }, testEnv(database.url))).status).toBe(
      403,
    );
    // Trust on, but the peer is not a trusted proxy: still ignored.
    const trusting = testEnv(database.url, { TRUST_PROXY_HEADERS: "true", TRUSTED_PROXY_IPS: "10.0.0.0/8" });
    expect((await app.request("/api/v1/probe/read", { headers: spoof }, trusting)).status).toBe(403);
    // The peer is our proxy: the right-most untrusted address counts...
    const viaProxy = {
      Cookie: session.cookie,
      "CF-Connecting-IP": "10.1.2.3",
      "X-Forwarded-For": "203.0.113.9",
    };
    expect((await app.request("/api/v1/probe/read", { headers: viaProxy }, trusting)).status).toBe(200);
    // ...so a client that prepends an allowlisted address to its own real one gains nothing.
    const prepended = {
      Cookie: session.cookie,
      "CF-Connecting-IP": "10.1.2.3",
      "X-Forwarded-For": "203.0.113.9, 198.51.100.1",
    };
    expect((await app.request("/api/v1/probe/read", { headers: prepended }, trusting)).status).toBe(403);
  });
});

describe("step-up in HIPAA mode", () => {
  const strictEnv = () =>
    testEnv(database.url, {
      HIPAA_MODE: "true",
      PHI_PROCESSORS: "none",
      UPSTASH_REDIS_REST_TOKEN: "t".repeat(40),
      QSTASH_TOKEN: "q".repeat(40),
      STORAGE_INTERNAL_TOKEN: "s".repeat(40),
      PUBLIC_ORIGIN: "https://medchr.example.org",
    });

  it("asks for a fresh code (401 step_up_required) only for step-up permissions, and only when the MFA is stale", async () => {
    const user = await createUser(database.owner, tenant, { role: "admin" });
    const stale = await signIn(database.db, user, { mfaVerifiedAt: new Date(Date.now() - 20 * 60_000) });
    const fresh = await signIn(database.db, user);
    const env = strictEnv();
    const call = (s: TestSession, path: string) =>
      app.request(
        path,
        { method: "POST", headers: { ...s.headers, Origin: "https://medchr.example.org" }, body: "{}" },
        env,
      );
    const staleFinalize = await call(stale, "/api/v1/probe/finalize");
    expect(staleFinalize.status).toBe(401);
    expect(((await staleFinalize.json()) as { error: { code: string } }).error.code).toBe("step_up_required");
    expect((await call(stale, "/api/v1/probe/write")).status).toBe(200);
    expect((await call(fresh, "/api/v1/probe/finalize")).status).toBe(200);
    expect((await denials(tenant)).some((d) => d.details.reason === "step_up_required")).toBe(true);
  });

  it("does not ask outside prod/HIPAA mode", async () => {
    const user = await createUser(database.owner, tenant, { role: "admin" });
    const stale = await signIn(database.db, user, { mfaVerifiedAt: new Date(Date.now() - 20 * 60_000) });
    const res = await app.request(
      "/api/v1/probe/finalize",
      { method: "POST", headers: stale.headers, body: "{}" },
      testEnv(database.url),
    );
    expect(res.status).toBe(200);
  });
});
