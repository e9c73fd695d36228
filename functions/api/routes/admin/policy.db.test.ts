import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createApiKey, createUser, signIn } from "../../../../test/helpers/identity";
import {
  type AdminHarness,
  auditCount,
  auditRows,
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
const POLICY = "/api/v1/admin/policy";
const OFFICE_IP = "203.0.113.5";

beforeAll(async () => {
  h = await startAdminHarness("policy");
});
beforeEach(async () => {
  await h.database.owner`delete from medchr.tenant_policies`;
});
afterAll(async () => {
  await h?.stop();
});

const put = (body: unknown, ip = OFFICE_IP, headers = h.session.headers) =>
  call(POLICY, { method: "PUT", headers, body, ip });

describe("GET /api/v1/admin/policy", () => {
  it("answers the defaults for a clinic that never changed its policy", async () => {
    const res = await call(POLICY, { headers: h.session.headers });
    expect(res.status).toBe(200);
    expect((await json(res)).policy).toEqual({
      ipAllowlist: [],
      stepUpWindowMinutes: 15,
      mfaRequired: true,
      updatedAt: null,
      updatedBy: null,
    });
  });
});

describe("PUT /api/v1/admin/policy", () => {
  it("changes only the fields given, audits their names, and another clinic is untouched", async () => {
    const res = await put({ stepUpWindowMinutes: 10 });
    expect(res.status).toBe(200);
    const { policy } = await json(res);
    expect(policy).toMatchObject({
      ipAllowlist: [],
      stepUpWindowMinutes: 10,
      mfaRequired: true,
      updatedBy: h.admin.id,
    });
    expect(policy.updatedAt).not.toBeNull();

    const second = await json(await put({ mfaRequired: false }));
    expect(second.policy).toMatchObject({ stepUpWindowMinutes: 10, mfaRequired: false });

    const events = await auditRows(h.database.owner, h.tenantA, { action: "tenant.policy_update" });
    expect(
      events.slice(-2).map((e) => [e.resource_type, e.resource_id, e.actor_id, e.ip, e.details]),
    ).toEqual([
      ["tenant", h.tenantA, h.admin.id, OFFICE_IP, { fields: ["step_up_window_minutes"] }],
      ["tenant", h.tenantA, h.admin.id, OFFICE_IP, { fields: ["mfa_required"] }],
    ]);

    const otherAdmin = await createUser(h.database.owner, h.tenantB, { role: "admin" });
    const other = await call(POLICY, { headers: (await signIn(h.database.db, otherAdmin)).headers });
    expect((await json(other)).policy).toMatchObject({ stepUpWindowMinutes: 15, mfaRequired: true });
  });

  it("normalises the allowlist, and the list is enforced on the next request", async () => {
    const res = await put({ ipAllowlist: [" 203.0.113.0/24 ", "198.51.100.7", "203.0.113.0/24"] });
    expect(res.status).toBe(200);
    expect((await json(res)).policy.ipAllowlist).toEqual(["203.0.113.0/24", "198.51.100.7/32"]);
    const [event] = (await auditRows(h.database.owner, h.tenantA, { action: "tenant.policy_update" })).slice(
      -1,
    );
    expect(event!.details).toEqual({ fields: ["ip_allowlist"] });
    expect(JSON.stringify(event)).not.toContain("198.51.100.7");

    expect((await call(POLICY, { headers: h.session.headers, ip: OFFICE_IP })).status).toBe(200);
    expect((await call(POLICY, { headers: h.session.headers, ip: "192.0.2.44" })).status).toBe(403);
    const key = await createApiKey(h.database.owner, h.tenantA, { scopes: ["read"] });
    expect((await call(PROBE_PATH, { headers: key.headers, ip: "192.0.2.44" })).status).toBe(403);
    expect((await call(PROBE_PATH, { headers: key.headers, ip: "198.51.100.7" })).status).toBe(200);

    // Clearing the list lifts the restriction.
    expect((await put({ ipAllowlist: [] })).status).toBe(200);
    expect((await call(POLICY, { headers: h.session.headers, ip: "192.0.2.44" })).status).toBe(200);
  });

  it("refuses an allowlist that would lock out the admin making the change, unless confirmed", async () => {
    const before = await auditCount(h.database.owner, h.tenantA);
    const refused = await put({ ipAllowlist: ["198.51.100.0/24"] }, "192.0.2.10");
    expect(refused.status).toBe(409);
    const error = (await json(refused)).error;
    expect(error.code).toBe("conflict");
    expect(error.message).toContain("192.0.2.10");
    expect(error.message).toContain("confirmLockout");
    expect(
      (await json(await call(POLICY, { headers: h.session.headers, ip: "192.0.2.10" }))).policy.ipAllowlist,
    ).toEqual([]);
    expect(await auditCount(h.database.owner, h.tenantA)).toBe(before);

    // A list that contains the caller passes without confirmation (IPv6 too).
    expect((await put({ ipAllowlist: ["2001:db8::/32"] }, "2001:db8::1")).status).toBe(200);

    const confirmed = await put({ ipAllowlist: ["198.51.100.0/24"], confirmLockout: true }, "2001:db8::1");
    expect(confirmed.status).toBe(200);
    expect((await json(confirmed)).policy.ipAllowlist).toEqual(["198.51.100.0/24"]);
    expect((await call(POLICY, { headers: h.session.headers, ip: "2001:db8::1" })).status).toBe(403);
  });

  it("records nothing when nothing changes", async () => {
    await put({ stepUpWindowMinutes: 20 });
    const before = await auditCount(h.database.owner, h.tenantA);
    const res = await put({ stepUpWindowMinutes: 20, ipAllowlist: [] });
    expect(res.status).toBe(200);
    expect(await auditCount(h.database.owner, h.tenantA)).toBe(before);
  });

  it.each([
    ["an invalid address", { ipAllowlist: ["10.0.0.1", "not-an-ip"] }, ["ipAllowlist.1"]],
    ["a prefix longer than 32 bits", { ipAllowlist: ["10.0.0.0/33"] }, ["ipAllowlist.0"]],
    ["a block with host bits set", { ipAllowlist: ["10.0.0.0/24", "203.0.113.9/24"] }, ["ipAllowlist.1"]],
    ["a non-string entry", { ipAllowlist: [42] }, ["ipAllowlist.0"]],
    ["a step-up window of 0", { stepUpWindowMinutes: 0 }, ["stepUpWindowMinutes"]],
    ["a step-up window above 60", { stepUpWindowMinutes: 61 }, ["stepUpWindowMinutes"]],
    ["a string for mfaRequired", { mfaRequired: "no" }, ["mfaRequired"]],
    ["no field at all", { confirmLockout: true }, ["(body)"]],
  ])("refuses %s with 400 naming the field", async (_label, body, fields) => {
    const res = await put(body);
    expect(res.status).toBe(400);
    expect(fieldsOf(await json(res))).toEqual(fields);
  });

  it("refuses 101 allowlist entries", async () => {
    const list = Array.from({ length: 101 }, (_, i) => `10.0.${i}.0/24`);
    const res = await put({ ipAllowlist: list, confirmLockout: true });
    expect(res.status).toBe(400);
    expect(fieldsOf(await json(res))).toEqual(["ipAllowlist"]);
  });
});

describe("who may manage the policy", () => {
  it("refuses clinicians and read/write keys with 403, accepts an admin-scoped key", async () => {
    const clinician = await signIn(h.database.db, await createUser(h.database.owner, h.tenantA));
    const read = await createApiKey(h.database.owner, h.tenantA, { scopes: ["read"] });
    const write = await createApiKey(h.database.owner, h.tenantA, { scopes: ["write"] });
    for (const headers of [clinician.headers, read.headers, write.headers]) {
      expect((await call(POLICY, { headers })).status).toBe(403);
      expect((await put({ stepUpWindowMinutes: 5 }, OFFICE_IP, headers)).status).toBe(403);
    }
    expect((await json(await call(POLICY, { headers: h.session.headers }))).policy.stepUpWindowMinutes).toBe(
      15,
    );

    const adminKey = await createApiKey(h.database.owner, h.tenantA, { scopes: ["admin"] });
    const res = await put({ stepUpWindowMinutes: 5 }, OFFICE_IP, adminKey.headers);
    expect(res.status).toBe(200);
    expect((await json(res)).policy).toMatchObject({ stepUpWindowMinutes: 5, updatedBy: null });
    const [event] = (await auditRows(h.database.owner, h.tenantA, { action: "tenant.policy_update" })).slice(
      -1,
    );
    expect(event).toMatchObject({ actor_type: "api_key", actor_id: adminKey.keyId });
  });
});
