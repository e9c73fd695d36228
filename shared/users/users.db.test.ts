import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createUser as createUserFixture, testKeyRing } from "../../test/helpers/identity";
import { createTenant, startTestDatabase, type TestDatabase } from "../../test/helpers/test-database";
import type { AuditContext } from "../audit/audit-context";
import { checkPassword } from "../auth/password-policy";
import { createUser } from "./create-user";
import { listUsers } from "./list-users";
import { revokeUserSessionsByAdmin } from "./revoke-user-sessions-by-admin";
import { updateUser } from "./update-user";

/** Domain-level cases the HTTP tests cannot reach (functions/api/routes/admin/users.db.test.ts covers the rest). */

let t: TestDatabase;
let tenant: string;
const pepperKeys = () => testKeyRing("PASSWORD_PEPPER_KEYS");
const audit = (): AuditContext => ({
  auditKeys: testKeyRing("AUDIT_KEYS"),
  actor: { type: "system", id: "test.users" },
  ip: null,
  userAgent: null,
  requestId: "test",
});
const scope = () => ({ tenantId: tenant, requestId: "test" });
const auditTotal = async () => {
  const [row] = await t.owner<{ n: number }[]>`
    select count(*)::int as n from medchr.audit_events where tenant_id = ${tenant}`;
  return row!.n;
};

beforeAll(async () => {
  t = await startTestDatabase();
  tenant = await createTenant(t.owner, "users-domain");
});
afterAll(async () => {
  await t?.stop();
});

describe("createUser", () => {
  it("a duplicate email is a value, not an aborted transaction: the same transaction carries on", async () => {
    const existing = await createUserFixture(t.owner, tenant);
    const outcome = await t.db.withTenant(scope(), async (tx) => {
      const duplicate = await createUser(
        tx,
        { email: existing.email, displayName: "Dup", role: "clinician" },
        { pepperKeys: pepperKeys(), bcryptCost: 4 },
        audit(),
      );
      const fresh = await createUser(
        tx,
        { email: `fresh-${Date.now()}@clinic.example.org`, displayName: "Fresh", role: "clinician" },
        { pepperKeys: pepperKeys(), bcryptCost: 4 },
        audit(),
      );
      return { duplicate, fresh };
    });
    expect(outcome.duplicate).toMatchObject({ ok: false, error: { code: "conflict" } });
    expect(outcome.fresh.ok).toBe(true);
  });

  it("generates passwords that meet the password policy", async () => {
    const result = await t.db.withTenant(scope(), (tx) =>
      createUser(
        tx,
        { email: `gen-${Date.now()}@clinic.example.org`, displayName: "Gen Erated", role: "auditor" },
        { pepperKeys: pepperKeys(), bcryptCost: 4 },
        audit(),
      ),
    );
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const generated = result.value.generatedPassword!;
    expect(checkPassword(generated, { email: result.value.user.email, displayName: "Gen Erated" }).ok).toBe(
      true,
    );
  });
});

describe("updateUser", () => {
  it("writes and records nothing when the values are already those asked for", async () => {
    const user = await createUserFixture(t.owner, tenant, { role: "clinician" });
    const before = await auditTotal();
    const result = await t.db.withTenant(scope(), (tx) =>
      updateUser(
        tx,
        {
          userId: user.id,
          changes: { role: "clinician", status: "active", displayName: "Test User" },
          now: new Date(),
        },
        audit(),
      ),
    );
    expect(result).toMatchObject({ ok: true, value: { sessionsRevoked: 0 } });
    expect(await auditTotal()).toBe(before);
  });

  it("answers not_found for a malformed id instead of a database error", async () => {
    const result = await t.db.withTenant(scope(), (tx) =>
      updateUser(
        tx,
        { userId: "x'; drop table medchr.users; --", changes: { role: "auditor" }, now: new Date() },
        audit(),
      ),
    );
    expect(result).toMatchObject({ ok: false, error: { code: "not_found" } });
  });
});

describe("revokeUserSessionsByAdmin and listUsers", () => {
  it("not_found for a malformed id; invalid_input naming cursor for a forged cursor", async () => {
    const revoked = await t.db.withTenant(scope(), (tx) =>
      revokeUserSessionsByAdmin(tx, { userId: "nope", now: new Date() }, audit()),
    );
    expect(revoked).toMatchObject({ ok: false, error: { code: "not_found" } });
    const listed = await t.db.withTenant(scope(), (tx) => listUsers(tx, { cursor: "AAAA" }));
    expect(listed).toMatchObject({
      ok: false,
      error: { code: "invalid_input", fields: [{ field: "cursor" }] },
    });
  });
});
