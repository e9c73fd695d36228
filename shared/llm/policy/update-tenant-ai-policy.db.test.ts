import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { testKeyRing } from "../../../test/helpers/identity";
import { createTenant, startTestDatabase, type TestDatabase } from "../../../test/helpers/test-database";
import type { AuditContext } from "../../audit/audit-context";
import type { Tx } from "../../db/database";
import { getTenantAiPolicy } from "./get-tenant-ai-policy";
import { TENANT_AI_POLICY_DEFAULTS } from "./tenant-ai-policy";
import { updateTenantAiPolicy } from "./update-tenant-ai-policy";

let t: TestDatabase;
let tenantA: string;
let tenantB: string;
const ADMIN = "5b0f3c1e-2d4a-4e6b-8c9d-0a1b2c3d4e5f";
const audit: AuditContext = {
  auditKeys: testKeyRing("AUDIT_KEYS"),
  actor: { type: "user", id: ADMIN },
  ip: null,
  userAgent: null,
  requestId: "test-ai-policy",
};
const inTenant = <T>(tenantId: string, fn: (tx: Tx) => Promise<T>) =>
  t.db.withTenant({ tenantId, requestId: "test-ai-policy" }, fn);
const BAA = { deploymentProcessors: ["openai"] };

beforeAll(async () => {
  t = await startTestDatabase();
  tenantA = await createTenant(t.owner, "ai-policy-a");
  tenantB = await createTenant(t.owner, "ai-policy-b");
});
beforeEach(async () => {
  await t.owner`delete from medchr.tenant_ai_policies`;
});
afterAll(async () => {
  await t?.stop();
});

const auditRows = () =>
  t.owner<{ action: string; details: Record<string, unknown> }[]>`
    select action, details from medchr.audit_events where action = 'tenant.ai_policy_update' order by seq`;

describe("getTenantAiPolicy", () => {
  it("is on-box only with redaction when never changed, the same as a fresh row's column defaults", async () => {
    expect(await inTenant(tenantA, (tx) => getTenantAiPolicy(tx))).toEqual(TENANT_AI_POLICY_DEFAULTS);
    await t.owner`insert into medchr.tenant_ai_policies (tenant_id) values (${tenantA})`;
    const row = await inTenant(tenantA, (tx) => getTenantAiPolicy(tx));
    expect({ ...row, updatedAt: null }).toEqual(TENANT_AI_POLICY_DEFAULTS);
  });
});

describe("updateTenantAiPolicy", () => {
  it("allows external processing with a BAA processor, bumps the version, audits field names only", async () => {
    const before = (await auditRows()).length;
    const result = await inTenant(tenantA, (tx) =>
      updateTenantAiPolicy(
        tx,
        { mode: "external", allowedProcessors: ["openai"], redactionRequired: true, version: 1 },
        BAA,
        audit,
      ),
    );
    expect(result.ok && result.value.policy).toMatchObject({
      mode: "external",
      allowedProcessors: ["openai"],
      redactionRequired: true,
      version: 2,
      updatedBy: ADMIN,
    });
    const rows = await auditRows();
    expect(rows.length).toBe(before + 1);
    expect(rows.at(-1)!.details).toEqual({
      fields: ["mode", "allowed_processors"],
      mode: "external",
      redactionRequired: true,
    });
    // Another clinic is untouched.
    expect(await inTenant(tenantB, (tx) => getTenantAiPolicy(tx))).toEqual(TENANT_AI_POLICY_DEFAULTS);
  });

  it("refuses a stale version with a conflict and changes nothing", async () => {
    const first = await inTenant(tenantA, (tx) =>
      updateTenantAiPolicy(
        tx,
        { mode: "off", allowedProcessors: [], redactionRequired: true, version: 1 },
        BAA,
        audit,
      ),
    );
    expect(first.ok).toBe(true);
    const stale = await inTenant(tenantA, (tx) =>
      updateTenantAiPolicy(
        tx,
        { mode: "external", allowedProcessors: ["openai"], redactionRequired: false, version: 1 },
        BAA,
        audit,
      ),
    );
    expect(stale).toMatchObject({ ok: false, error: { code: "conflict", currentVersion: 2 } });
    expect(await inTenant(tenantA, (tx) => getTenantAiPolicy(tx))).toMatchObject({ mode: "off", version: 2 });
  });

  it("refuses external without a processor, or with one the deployment has no BAA with", async () => {
    const none = await inTenant(tenantA, (tx) =>
      updateTenantAiPolicy(
        tx,
        { mode: "external", allowedProcessors: [], redactionRequired: true, version: 1 },
        BAA,
        audit,
      ),
    );
    expect(none).toMatchObject({ ok: false, error: { code: "invalid_input" } });
    const noBaa = await inTenant(tenantA, (tx) =>
      updateTenantAiPolicy(
        tx,
        { mode: "external", allowedProcessors: ["openai"], redactionRequired: true, version: 1 },
        { deploymentProcessors: [] },
        audit,
      ),
    );
    expect(noBaa).toMatchObject({ ok: false, error: { code: "invalid_input" } });
    const unknown = await inTenant(tenantA, (tx) =>
      updateTenantAiPolicy(
        tx,
        { mode: "external", allowedProcessors: ["acme-ai" as "openai"], redactionRequired: true, version: 1 },
        BAA,
        audit,
      ),
    );
    expect(unknown).toMatchObject({ ok: false, error: { code: "invalid_input" } });
    expect(await inTenant(tenantA, (tx) => getTenantAiPolicy(tx))).toEqual(TENANT_AI_POLICY_DEFAULTS);
  });

  it("an unchanged policy writes nothing and audits nothing", async () => {
    const before = (await auditRows()).length;
    const same = await inTenant(tenantA, (tx) =>
      updateTenantAiPolicy(
        tx,
        { mode: "on_box", allowedProcessors: [], redactionRequired: true, version: 1 },
        BAA,
        audit,
      ),
    );
    expect(same).toMatchObject({ ok: true, value: { changedFields: [] } });
    expect((await auditRows()).length).toBe(before);
    const [count] = await t.owner<{ n: number }[]>`select count(*)::int as n from medchr.tenant_ai_policies`;
    expect(count!.n).toBe(0);
  });
});
