import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testKeyRing } from "../../test/helpers/identity";
import { createTenant, startTestDatabase, type TestDatabase } from "../../test/helpers/test-database";
import type { AuditContext } from "../audit/audit-context";
import { verifyApiKeySecret } from "../auth/api-key-token";
import { parseKeyRing } from "../config/key-ring";
import { createApiKey } from "./create-api-key";
import { listApiKeys } from "./list-api-keys";
import { revokeApiKey } from "./revoke-api-key";

/** Domain-level cases; the HTTP behaviour is in functions/api/routes/admin/api-keys.db.test.ts. */

let t: TestDatabase;
let tenant: string;
const cli: AuditContext = {
  auditKeys: testKeyRing("AUDIT_KEYS"),
  actor: { type: "system", id: "cli.apikey_create" },
  ip: null,
  userAgent: null,
  requestId: "test",
};
const scope = () => ({ tenantId: tenant, requestId: "test" });

beforeAll(async () => {
  t = await startTestDatabase();
  tenant = await createTenant(t.owner, "keys-domain");
});
afterAll(async () => {
  await t?.stop();
});

describe("createApiKey", () => {
  it("hashes under the ring's active key and records which one, so keys survive a rotation", async () => {
    const material = (seed: number) =>
      btoa(String.fromCharCode(...Array.from({ length: 32 }, (_, i) => (i * 29 + seed) % 256)));
    const oldRing = parseKeyRing("API_KEY_HMAC_KEYS", `old:${material(3)}`, { strict: true }).ring!;
    const rotated = parseKeyRing("API_KEY_HMAC_KEYS", `new:${material(7)},old:${material(3)}`, {
      strict: true,
    }).ring!;
    const now = new Date();
    const before = await t.db.withTenant(scope(), (tx) =>
      createApiKey(tx, { name: "before rotation", scopes: ["read"] }, { hmacKeys: oldRing, now }, cli),
    );
    const after = await t.db.withTenant(scope(), (tx) =>
      createApiKey(
        tx,
        { name: "after rotation", scopes: ["admin", "read"] },
        { hmacKeys: rotated, now },
        cli,
      ),
    );
    expect(before.ok && after.ok).toBe(true);
    if (!before.ok || !after.ok) return;
    expect(after.value.apiKey.scopes).toEqual(["read", "admin"]);
    const rows = await t.owner<
      { id: string; secret_hash: Uint8Array; hash_key_id: string; created_by: string | null }[]
    >`
      select id, secret_hash, hash_key_id, created_by from medchr.api_keys where tenant_id = ${tenant} order by created_at, id`;
    expect(rows.map((r) => r.hash_key_id)).toEqual(["old", "new"]);
    expect(rows.every((r) => r.created_by === null)).toBe(true);
    const secretOf = (token: string) => token.slice(20);
    // The old key's hash still verifies with the rotated ring, which names "old".
    expect(await verifyApiKeySecret(secretOf(before.value.token), rows[0]!.secret_hash, "old", rotated)).toBe(
      true,
    );
    expect(await verifyApiKeySecret(secretOf(after.value.token), rows[1]!.secret_hash, "new", rotated)).toBe(
      true,
    );
    expect(await verifyApiKeySecret(secretOf(after.value.token), rows[1]!.secret_hash, "new", oldRing)).toBe(
      false,
    );
  });

  it("refuses an expiry equal to now (must be in the future)", async () => {
    const now = new Date();
    const result = await t.db.withTenant(scope(), (tx) =>
      createApiKey(
        tx,
        { name: "x", scopes: ["read"], expiresAt: now.toISOString() },
        { hmacKeys: testKeyRing("API_KEY_HMAC_KEYS"), now },
        cli,
      ),
    );
    expect(result).toMatchObject({ ok: false, error: { fields: [{ field: "expiresAt" }] } });
  });
});

describe("revokeApiKey and listApiKeys", () => {
  it("a system actor leaves revoked_by empty; malformed ids and cursors are refused as values", async () => {
    const created = await t.db.withTenant(scope(), (tx) =>
      createApiKey(
        tx,
        { name: "to revoke", scopes: ["write"] },
        { hmacKeys: testKeyRing("API_KEY_HMAC_KEYS"), now: new Date() },
        cli,
      ),
    );
    if (!created.ok) throw new Error("setup failed");
    const revoked = await t.db.withTenant(scope(), (tx) =>
      revokeApiKey(tx, { apiKeyId: created.value.apiKey.id, now: new Date() }, cli),
    );
    expect(revoked).toMatchObject({
      ok: true,
      value: { alreadyRevoked: false, apiKey: { status: "revoked", revokedBy: null } },
    });
    const again = await t.db.withTenant(scope(), (tx) =>
      revokeApiKey(tx, { apiKeyId: created.value.apiKey.id, now: new Date() }, cli),
    );
    expect(again).toMatchObject({ ok: true, value: { alreadyRevoked: true } });

    const malformed = await t.db.withTenant(scope(), (tx) =>
      revokeApiKey(tx, { apiKeyId: "1", now: new Date() }, cli),
    );
    expect(malformed).toMatchObject({ ok: false, error: { code: "not_found" } });
    const listed = await t.db.withTenant(scope(), (tx) =>
      listApiKeys(tx, { cursor: "zz" }, { now: new Date() }),
    );
    expect(listed).toMatchObject({ ok: false, error: { fields: [{ field: "cursor" }] } });
  });
});
