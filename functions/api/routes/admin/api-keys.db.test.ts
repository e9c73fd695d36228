import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseApiKeyToken, verifyApiKeySecret } from "../../../../shared/auth/api-key-token";
import {
  createApiKey as createApiKeyFixture,
  createUser,
  signIn,
  testKeyRing,
} from "../../../../test/helpers/identity";
import { createTenant } from "../../../../test/helpers/test-database";
import {
  type AdminHarness,
  auditCount,
  auditRows,
  type Body,
  buildAdminTestApp,
  fieldsOf,
  json,
  makeCaller,
  PROBE_PATH,
  startAdminHarness,
} from "./testing";

let h: AdminHarness;
const app = buildAdminTestApp();
const call = makeCaller(app, () => h.env);
const KEYS = "/api/v1/admin/api-keys";

beforeAll(async () => {
  h = await startAdminHarness("keys");
});
afterAll(async () => {
  await h?.stop();
});

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

async function keyRow(id: string) {
  const [row] = await h.database.owner<
    {
      key_id: string;
      secret_hash: Uint8Array;
      hash_key_id: string;
      scopes: string[];
      rate_limit_per_minute: number;
      created_by: string | null;
      revoked_at: Date | null;
      revoked_by: string | null;
      expires_at: Date | null;
    }[]
  >`select key_id, secret_hash, hash_key_id, scopes, rate_limit_per_minute, created_by, revoked_at, revoked_by,
      expires_at from medchr.api_keys where id = ${id}`;
  return row;
}

describe("POST /api/v1/admin/api-keys", () => {
  it("issues a key: the token once, only its HMAC stored, audited with the scopes", async () => {
    const res = await call(KEYS, {
      method: "POST",
      headers: h.session.headers,
      body: { name: "Lab partner", scopes: ["write", "read"] },
      ip: "203.0.113.7",
    });
    expect(res.status).toBe(201);
    const body = await json(res);
    expect(body.token).toMatch(/^mk_[a-z2-7]{16}_[A-Za-z0-9_-]{43}$/);
    expect(body.apiKey).toMatchObject({
      name: "Lab partner",
      scopes: ["read", "write"],
      rateLimitPerMinute: 600,
      status: "active",
      createdBy: h.admin.id,
      expiresAt: null,
      revokedAt: null,
    });
    expect(Object.keys(body.apiKey)).not.toEqual(expect.arrayContaining(["secretHash"]));
    expect(JSON.stringify(body.apiKey)).not.toMatch(/hash/i);

    const parts = parseApiKeyToken(body.token);
    expect(parts.ok).toBe(true);
    if (!parts.ok) return;
    expect(body.apiKey.keyId).toBe(parts.value.keyId);
    const row = (await keyRow(body.apiKey.id))!;
    expect(row.key_id).toBe(parts.value.keyId);
    expect(row.hash_key_id).toBe("apik1");
    expect(row.created_by).toBe(h.admin.id);
    expect(
      await verifyApiKeySecret(
        parts.value.secret,
        row.secret_hash,
        row.hash_key_id,
        testKeyRing("API_KEY_HMAC_KEYS"),
      ),
    ).toBe(true);
    // The secret itself is nowhere in the database row.
    expect(Buffer.from(row.secret_hash).toString("utf8")).not.toContain(parts.value.secret);

    const [event] = await auditRows(h.database.owner, h.tenantA, {
      action: "api_key.create",
      resourceId: body.apiKey.id,
    });
    expect(event).toMatchObject({
      actor_type: "user",
      actor_id: h.admin.id,
      ip: "203.0.113.7",
      details: { scopes: ["read", "write"] },
    });
  });

  it("works at once against a protected route and stops right after revocation (401)", async () => {
    const created = await json(
      await call(KEYS, {
        method: "POST",
        headers: h.session.headers,
        body: { name: "Sync", scopes: ["read"] },
      }),
    );
    const probe = () => call(PROBE_PATH, { headers: bearer(created.token) });
    const before = await probe();
    expect(before.status).toBe(200);
    expect(await json(before)).toEqual({ kind: "api_key", tenantId: h.tenantA });

    const revoked = await call(`${KEYS}/${created.apiKey.id}`, {
      method: "DELETE",
      headers: h.session.headers,
    });
    expect(revoked.status).toBe(200);
    const body = await json(revoked);
    expect(body.apiKey).toMatchObject({ id: created.apiKey.id, status: "revoked", revokedBy: h.admin.id });
    expect(body.apiKey.revokedAt).not.toBeNull();
    expect((await probe()).status).toBe(401);

    // Idempotent: a second DELETE answers the same key, with no second audit event.
    const again = await call(`${KEYS}/${created.apiKey.id}`, {
      method: "DELETE",
      headers: h.session.headers,
    });
    expect(again.status).toBe(200);
    expect((await json(again)).apiKey.revokedAt).toBe(body.apiKey.revokedAt);
    const events = await auditRows(h.database.owner, h.tenantA, { action: "api_key.revoke" });
    expect(events.filter((e) => e.resource_id === created.apiKey.id)).toHaveLength(1);
    expect(events.at(-1)).toMatchObject({ actor_type: "user", actor_id: h.admin.id, details: {} });
  });

  it("keeps the rate limit and expiry given, and the key works until then", async () => {
    const expiresAt = new Date(Date.now() + 3 * 86_400_000).toISOString();
    const res = await call(KEYS, {
      method: "POST",
      headers: h.session.headers,
      body: { name: "Short-lived", scopes: ["read"], rateLimitPerMinute: 5, expiresAt },
    });
    expect(res.status).toBe(201);
    const body = await json(res);
    expect(body.apiKey).toMatchObject({ rateLimitPerMinute: 5, expiresAt, status: "active" });
    expect((await call(PROBE_PATH, { headers: bearer(body.token) })).status).toBe(200);
    // Once the expiry passes (moved into the past here), the key is refused and listed as expired.
    await h.database
      .owner`update medchr.api_keys set expires_at = now() - interval '1 second' where id = ${body.apiKey.id}`;
    expect((await call(PROBE_PATH, { headers: bearer(body.token) })).status).toBe(401);
    const listed = await json(await call(`${KEYS}?limit=100`, { headers: h.session.headers }));
    expect(listed.apiKeys.find((k: Body) => k.id === body.apiKey.id).status).toBe("expired");
  });

  it.each([
    ["no scopes", { name: "x", scopes: [] }, ["scopes"]],
    ["an unknown scope", { name: "x", scopes: ["root"] }, ["scopes.0"]],
    ["a repeated scope", { name: "x", scopes: ["read", "read"] }, ["scopes"]],
    ["a missing name", { scopes: ["read"] }, ["name"]],
    ["a blank name", { name: "   ", scopes: ["read"] }, ["name"]],
    ["a rate limit of 0", { name: "x", scopes: ["read"], rateLimitPerMinute: 0 }, ["rateLimitPerMinute"]],
    [
      "a rate limit above 10000",
      { name: "x", scopes: ["read"], rateLimitPerMinute: 10_001 },
      ["rateLimitPerMinute"],
    ],
    [
      "a fractional rate limit",
      { name: "x", scopes: ["read"], rateLimitPerMinute: 1.5 },
      ["rateLimitPerMinute"],
    ],
    [
      "an expiry in the past",
      { name: "x", scopes: ["read"], expiresAt: "2020-01-01T00:00:00Z" },
      ["expiresAt"],
    ],
    ["an expiry that is not a date", { name: "x", scopes: ["read"], expiresAt: "tomorrow" }, ["expiresAt"]],
  ])("refuses %s with 400 naming the field, creating nothing", async (_label, body, fields) => {
    const [before] = await h.database.owner<{ n: number }[]>`select count(*)::int as n from medchr.api_keys`;
    const audits = await auditCount(h.database.owner, h.tenantA);
    const res = await call(KEYS, { method: "POST", headers: h.session.headers, body });
    expect(res.status).toBe(400);
    expect(fieldsOf(await json(res))).toEqual(fields);
    const [after] = await h.database.owner<{ n: number }[]>`select count(*)::int as n from medchr.api_keys`;
    expect(after!.n).toBe(before!.n);
    expect(await auditCount(h.database.owner, h.tenantA)).toBe(audits);
  });
});

describe("GET /api/v1/admin/api-keys", () => {
  it("lists this clinic's keys page by page, never a hash or a secret", async () => {
    const tenant = await createTenant(h.database.owner, "keys-listing");
    const owner = await createUser(h.database.owner, tenant, { role: "admin" });
    const ownerSession = await signIn(h.database.db, owner);
    const ids: string[] = [];
    const tokens: string[] = [];
    for (let i = 0; i < 3; i++) {
      const created = await json(
        await call(KEYS, {
          method: "POST",
          headers: ownerSession.headers,
          body: { name: `k${i}`, scopes: ["read"] },
        }),
      );
      ids.push(created.apiKey.id);
      tokens.push(created.token);
    }
    const first = await call(`${KEYS}?limit=2`, { headers: ownerSession.headers });
    expect(first.status).toBe(200);
    const firstText = await first.text();
    const page1 = JSON.parse(firstText) as Body;
    const page2 = await json(
      await call(`${KEYS}?limit=2&cursor=${encodeURIComponent(page1.nextCursor)}`, {
        headers: ownerSession.headers,
      }),
    );
    expect([...page1.apiKeys, ...page2.apiKeys].map((k: Body) => k.id)).toEqual(ids);
    expect(page2.nextCursor).toBeNull();
    expect(firstText).not.toMatch(/hash|secret/i);
    for (const token of tokens) expect(firstText).not.toContain(token.slice(20));
  });
});

describe("DELETE /api/v1/admin/api-keys/{apiKeyId}", () => {
  it("answers 404 for another clinic's key, which keeps working, and for an unknown id", async () => {
    const foreign = await createApiKeyFixture(h.database.owner, h.tenantB, { scopes: ["read"] });
    const beforeB = await auditCount(h.database.owner, h.tenantB);
    const res = await call(`${KEYS}/${foreign.id}`, { method: "DELETE", headers: h.session.headers });
    expect(res.status).toBe(404);
    expect((await keyRow(foreign.id))!.revoked_at).toBeNull();
    expect((await call(PROBE_PATH, { headers: foreign.headers })).status).toBe(200);
    expect(await auditCount(h.database.owner, h.tenantB)).toBe(beforeB);
    const unknown = await call(`${KEYS}/00000000-0000-4000-8000-000000000000`, {
      method: "DELETE",
      headers: h.session.headers,
    });
    expect(unknown.status).toBe(404);
    expect((await json(unknown)).error.message).toBe((await json(res)).error.message);
  });
});

describe("who may manage API keys", () => {
  it("refuses clinician sessions and read/write keys with 403; an admin-scoped key may issue and revoke", async () => {
    const clinician = await signIn(h.database.db, await createUser(h.database.owner, h.tenantA));
    const target = await createApiKeyFixture(h.database.owner, h.tenantA, { scopes: ["read"] });
    const attempts = [
      ["GET", KEYS, undefined],
      ["POST", KEYS, { name: "x", scopes: ["read"] }],
      ["DELETE", `${KEYS}/${target.id}`, undefined],
    ] as const;
    const callers = [
      ["clinician session", clinician.headers],
      ["read key", (await createApiKeyFixture(h.database.owner, h.tenantA, { scopes: ["read"] })).headers],
      [
        "write key",
        (await createApiKeyFixture(h.database.owner, h.tenantA, { scopes: ["read", "write"] })).headers,
      ],
    ] as const;
    for (const [who, headers] of callers) {
      for (const [method, path, body] of attempts) {
        expect((await call(path, { method, headers, body })).status, `${who} ${method} ${path}`).toBe(403);
      }
    }
    expect((await keyRow(target.id))!.revoked_at).toBeNull();

    const adminKey = await createApiKeyFixture(h.database.owner, h.tenantA, { scopes: ["admin"] });
    const issued = await call(KEYS, {
      method: "POST",
      headers: adminKey.headers,
      body: { name: "Issued by a key", scopes: ["read"] },
    });
    expect(issued.status).toBe(201);
    const issuedBody = await json(issued);
    // created_by names users only; the audit event names the key that acted.
    expect(issuedBody.apiKey.createdBy).toBeNull();
    const [event] = await auditRows(h.database.owner, h.tenantA, {
      action: "api_key.create",
      resourceId: issuedBody.apiKey.id,
    });
    expect(event).toMatchObject({ actor_type: "api_key", actor_id: adminKey.keyId });
    const revoke = await call(`${KEYS}/${target.id}`, { method: "DELETE", headers: adminKey.headers });
    expect(revoke.status).toBe(200);
    expect((await keyRow(target.id))!.revoked_by).toBeNull();
    expect((await call(PROBE_PATH, { headers: target.headers })).status).toBe(401);
  });

  it("answers 401 without credentials and for a malformed key", async () => {
    expect((await call(KEYS)).status).toBe(401);
    expect((await call(KEYS, { headers: bearer("mk_nope") })).status).toBe(401);
  });
});
