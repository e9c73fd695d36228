import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestDatabase, type TestDatabase } from "../../test/helpers/test-database";
import { verifyAuditChain } from "../audit/verify-audit-chain";
import { verifyPassword } from "../auth/password-hash";
import { parseKeyRing } from "../config/key-ring";
import { bootstrapTenant, generatePassword } from "./bootstrap-tenant";

const ring = (name: string, material: string) =>
  parseKeyRing(name, `k1:${material}`, { strict: false }).ring!;
const keys = {
  pepperKeys: ring("PASSWORD_PEPPER_KEYS", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"),
  auditKeys: ring("AUDIT_KEYS", "HyAhIiMkJSYnKCkqKywtLi8wMTIzNDU2Nzg5Ojs8PT4"),
};
const input = {
  tenantName: "Harbor Clinic",
  slug: "harbor-clinic",
  adminEmail: "Admin@Harbor.Example.org",
  adminName: "Harbor Admin",
  emailDomains: ["harbor.example.org"],
};

let t: TestDatabase;
beforeAll(async () => {
  t = await startTestDatabase();
});
afterAll(() => t.stop());

describe("bootstrapTenant", () => {
  it("creates the tenant and its admin, with a working one-time password and an audit trail", async () => {
    const result = await bootstrapTenant(t.owner, input, keys);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const { tenantId, adminUserId, adminPassword } = result.value;
    expect(adminPassword).toMatch(/^[A-Za-z0-9]{20}$/);

    const [user] = await t.db.withTenant(
      { tenantId, requestId: "test-1" },
      (tx) =>
        tx<{ id: string; email: string; role: string; password_hash: string }[]>`
        select id, email, role, password_hash from medchr.users`,
    );
    expect(user).toMatchObject({ id: adminUserId, email: "admin@harbor.example.org", role: "admin" });
    expect(await verifyPassword(adminPassword, user!.password_hash, keys.pepperKeys)).toBe(true);

    const events = await t.db.withTenant(
      { tenantId, requestId: "test-2" },
      (tx) =>
        tx<{ seq: string; action: string; actor_id: string }[]>`
        select seq, action, actor_id from medchr.audit_events order by seq`,
    );
    expect(events.map((e) => [Number(e.seq), e.action, e.actor_id])).toEqual([
      [1, "tenant.create", "cli.bootstrap"],
      [2, "user.create", "cli.bootstrap"],
    ]);
    const report = await verifyAuditChain(t.db, keys.auditKeys, tenantId);
    expect(report.ok).toBe(true);
    expect(report.eventsChecked).toBe(2);
  });

  it("refuses a second tenant with the same slug or admin e-mail, leaving nothing behind", async () => {
    const [before] = await t.owner<{ n: number }[]>`select count(*)::int as n from medchr.tenants`;
    const again = await bootstrapTenant(t.owner, { ...input, slug: "other-slug" }, keys);
    expect(again).toMatchObject({ ok: false, error: { code: "conflict" } });
    const [after] = await t.owner<{ n: number }[]>`select count(*)::int as n from medchr.tenants`;
    expect(after!.n).toBe(before!.n);
  });

  it("validates input and names the bad fields", async () => {
    const bad = await bootstrapTenant(t.owner, { ...input, slug: "Bad Slug!", adminEmail: "nope" }, keys);
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.error.message).toMatch(/slug.*adminEmail|adminEmail.*slug/);
  });
});

describe("generatePassword", () => {
  it("makes 20 characters from the unambiguous alphabet, different each time", () => {
    const a = generatePassword();
    const b = generatePassword();
    expect(a).toMatch(/^[A-HJ-NP-Za-km-z2-9]{20}$/);
    expect(a).not.toBe(b);
  });
});
