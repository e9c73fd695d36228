import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { testKeyRing } from "../../test/helpers/identity";
import { createTenant, startTestDatabase, type TestDatabase } from "../../test/helpers/test-database";
import type { AuditContext } from "../audit/audit-context";
import type { Tx } from "../db/database";
import { getTenantPolicy, TENANT_POLICY_DEFAULTS } from "./get-tenant-policy";
import { updateTenantPolicy } from "./update-tenant-policy";

let t: TestDatabase;
let tenantA: string;
let tenantB: string;
const ADMIN = "5b0f3c1e-2d4a-4e6b-8c9d-0a1b2c3d4e5f";
const audit = (actor: AuditContext["actor"] = { type: "user", id: ADMIN }): AuditContext => ({
  auditKeys: testKeyRing("AUDIT_KEYS"),
  actor,
  ip: null,
  userAgent: null,
  requestId: "test",
});
const inTenant = <T>(tenantId: string, fn: (tx: Tx) => Promise<T>) =>
  t.db.withTenant({ tenantId, requestId: "test" }, fn);

beforeAll(async () => {
  t = await startTestDatabase();
  tenantA = await createTenant(t.owner, "policy-domain-a");
  tenantB = await createTenant(t.owner, "policy-domain-b");
});
beforeEach(async () => {
  await t.owner`delete from medchr.tenant_policies`;
});
afterAll(async () => {
  await t?.stop();
});

describe("getTenantPolicy", () => {
  it("fills in the same defaults the per-request look-ups use when the clinic has no row", async () => {
    const policy = await t.db.withTenant({ tenantId: tenantA, requestId: "test" }, (tx) =>
      getTenantPolicy(tx),
    );
    expect(policy).toEqual({ ...TENANT_POLICY_DEFAULTS, updatedAt: null, updatedBy: null });
    // The SECURITY DEFINER session look-up coalesces to the same values.
    const [defaults] = await t.owner<
      { ip_allowlist: string[]; step_up_window_minutes: number; mfa_required: boolean }[]
    >`
      select coalesce(p.ip_allowlist, '[]'::jsonb) as ip_allowlist, coalesce(p.step_up_window_minutes, 15) as step_up_window_minutes,
        coalesce(p.mfa_required, true) as mfa_required
      from medchr.tenants t left join medchr.tenant_policies p on p.tenant_id = t.id where t.id = ${tenantA}`;
    expect(defaults).toEqual({ ip_allowlist: [], step_up_window_minutes: 15, mfa_required: true });
    // And the column defaults of a fresh row.
    await t.owner`insert into medchr.tenant_policies (tenant_id) values (${tenantA})`;
    const row = await t.db.withTenant({ tenantId: tenantA, requestId: "test" }, (tx) => getTenantPolicy(tx));
    expect({ ...row, updatedAt: null }).toEqual({
      ...TENANT_POLICY_DEFAULTS,
      updatedAt: null,
      updatedBy: null,
    });
  });
});

describe("updateTenantPolicy", () => {
  it("refuses any non-empty allowlist when the caller's address is unknown, unless confirmed", async () => {
    const refused = await inTenant(tenantA, (tx) =>
      updateTenantPolicy(tx, { ipAllowlist: ["0.0.0.0/0"] }, { clientIp: null }, audit()),
    );
    expect(refused).toMatchObject({ ok: false, error: { code: "conflict" } });
    if (!refused.ok) expect(refused.error.message).toMatch(/could not be determined/);
    const confirmed = await inTenant(tenantA, (tx) =>
      updateTenantPolicy(
        tx,
        { ipAllowlist: ["0.0.0.0/0"], confirmLockout: true },
        { clientIp: null },
        audit(),
      ),
    );
    expect(confirmed).toMatchObject({ ok: true, value: { changedFields: ["ip_allowlist"] } });
  });

  it("matches an IPv4 caller seen as an IPv4-mapped IPv6 address", async () => {
    const result = await inTenant(tenantA, (tx) =>
      updateTenantPolicy(
        tx,
        { ipAllowlist: ["203.0.113.0/24"] },
        { clientIp: "::ffff:203.0.113.8" },
        audit(),
      ),
    );
    expect(result.ok).toBe(true);
  });

  it("writes only the caller's tenant, records updated_by for users only, and audits the changed fields", async () => {
    const byKey = await inTenant(tenantB, (tx) =>
      updateTenantPolicy(
        tx,
        { mfaRequired: false, stepUpWindowMinutes: 30 },
        { clientIp: "198.51.100.1" },
        audit({ type: "api_key", id: "abcdefghijklmnop" }),
      ),
    );
    expect(byKey).toMatchObject({
      ok: true,
      value: { changedFields: ["step_up_window_minutes", "mfa_required"], policy: { updatedBy: null } },
    });
    const rows = await t.owner<{ tenant_id: string; mfa_required: boolean }[]>`
      select tenant_id, mfa_required from medchr.tenant_policies`;
    expect(rows).toEqual([{ tenant_id: tenantB, mfa_required: false }]);

    const byUser = await inTenant(tenantB, (tx) =>
      updateTenantPolicy(tx, { stepUpWindowMinutes: 31 }, { clientIp: "198.51.100.1" }, audit()),
    );
    expect(byUser).toMatchObject({ ok: true, value: { policy: { updatedBy: ADMIN, mfaRequired: false } } });
    const events = await t.owner<{ details: unknown; resource_id: string }[]>`
      select details, resource_id from medchr.audit_events
      where tenant_id = ${tenantB} and action = 'tenant.policy_update' order by seq`;
    expect(events).toEqual([
      { details: { fields: ["step_up_window_minutes", "mfa_required"] }, resource_id: tenantB },
      { details: { fields: ["step_up_window_minutes"] }, resource_id: tenantB },
    ]);
  });
});
