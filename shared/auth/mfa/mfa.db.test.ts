import { execFile } from "node:child_process";
import { generate } from "otplib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../../../scripts/lib/migrations-dir";
import { createTenant, startTestDatabase, type TestDatabase } from "../../../test/helpers/test-database";
import { verifyAuditChain } from "../../audit/verify-audit-chain";
import { encodeBase64Url, type KeyRing, parseKeyRing } from "../../config/key-ring";
import type { Tx } from "../../db/database";
import { hashToken } from "../session-token";
import { confirmMfaSetup } from "./confirm-mfa-setup";
import { getMfaStatus } from "./get-mfa-status";
import type { MfaAuditContext } from "./mfa-audit";
import { regenerateRecoveryCodes } from "./regenerate-recovery-codes";
import { rekeyMfaSecrets } from "./rekey-mfa-secrets";
import { removeMfaFactor } from "./remove-mfa-factor";
import { startMfaSetup } from "./start-mfa-setup";
import { verifyMfaCode } from "./verify-mfa-code";

const randomKey = () => encodeBase64Url(crypto.getRandomValues(new Uint8Array(32)));
const ring = (purpose: string, value: string): KeyRing =>
  parseKeyRing(purpose, value, { strict: false }).ring!;
const k1 = randomKey();
const mfaKeys = ring("MFA_ENCRYPTION_KEYS", `k1:${k1}`);
const recoveryCodeKeys = ring("PASSWORD_PEPPER_KEYS", `p1:${randomKey()}`);
const auditKeys = ring("AUDIT_KEYS", `a1:${randomKey()}`);
const keys = { mfaKeys, recoveryCodeKeys };
const audit: MfaAuditContext = { auditKeys, ip: "203.0.113.7", userAgent: "vitest", requestId: "req-mfa" };

/** A time in the middle of a 30 s step; tests move forward from here. */
const T0 = new Date("2031-01-01T00:00:10Z");
const STEP_MS = 30_000;
const at = (base: Date, ms: number) => new Date(base.getTime() + ms);
/** The code an authenticator shows at `when` shifted by `steps`, computed by otplib (independent of ours). */
const codeAt = (secret: string, when: Date, steps = 0) =>
  generate({ secret, epoch: Math.floor(when.getTime() / 1000) + steps * 30 });

let t: TestDatabase;
let tenantA: string;
let tenantB: string;
let userCounter = 0;

beforeAll(async () => {
  t = await startTestDatabase();
  tenantA = await createTenant(t.owner, "mfa-a");
  tenantB = await createTenant(t.owner, "mfa-b");
});
afterAll(() => t.stop());

async function newUser(tenantId: string): Promise<string> {
  userCounter += 1;
  const [row] = await t.owner<{ id: string }[]>`
    insert into medchr.users (tenant_id, email, display_name, role)
    values (${tenantId}, ${`user${userCounter}@clinic.example`}, ${`User ${userCounter}`}, 'clinician')
    returning id`;
  return row!.id;
}

function inTenant<T>(tenantId: string, fn: (tx: Tx) => Promise<T>): Promise<T> {
  return t.db.withTenant({ tenantId, requestId: "test" }, fn);
}

/** Enrols a fresh user at `now`; returns the base32 secret and the recovery codes. */
async function enrolledUser(tenantId: string, now: Date, ringOverride = mfaKeys) {
  const userId = await newUser(tenantId);
  const started = await inTenant(tenantId, (tx) =>
    startMfaSetup(tx, { tenantId, userId, now }, ringOverride),
  );
  if (!started.ok) throw new Error("setup failed");
  const code = await codeAt(started.value.secret, now);
  const confirmed = await inTenant(tenantId, (tx) =>
    confirmMfaSetup(
      tx,
      { tenantId, userId, setupToken: started.value.setupToken, code, now },
      { mfaKeys: ringOverride, recoveryCodeKeys },
      audit,
    ),
  );
  if (!confirmed.ok) throw new Error("confirm failed");
  return { userId, secret: started.value.secret, recoveryCodes: confirmed.value.recoveryCodes };
}

function verify(
  tenantId: string,
  userId: string,
  code: string,
  now: Date,
  flow: "login" | "step_up" = "login",
  withKeys = keys,
) {
  return inTenant(tenantId, (tx) =>
    verifyMfaCode(tx, { tenantId, userId, code, flow, now }, withKeys, audit),
  );
}

interface EventRow {
  action: string;
  outcome: string;
  actor_type: string;
  actor_id: string | null;
  details: Record<string, unknown>;
}
async function eventsFor(userId: string): Promise<EventRow[]> {
  return t.owner<EventRow[]>`
    select action, outcome, actor_type, actor_id, details from medchr.audit_events
     where resource_id = ${userId} order by tenant_id, seq`;
}

async function lockoutRow(userId: string, flow: string) {
  const [row] = await t.owner<{ failures: number; locked_until: Date | null }[]>`
    select failures, locked_until from medchr.mfa_lockouts where user_id = ${userId} and flow = ${flow}`;
  return row;
}

describe("MFA setup", () => {
  it("stores only the token hash and the encrypted secret, and confirms with a code from the new secret", async () => {
    const userId = await newUser(tenantA);
    const started = await inTenant(tenantA, (tx) =>
      startMfaSetup(tx, { tenantId: tenantA, userId, now: T0 }, mfaKeys),
    );
    expect(started.ok).toBe(true);
    if (!started.ok) return;
    const { setupToken, secret, otpauthUri, expiresAt } = started.value;
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(otpauthUri).toContain(`secret=${secret}`);
    expect(otpauthUri).toContain("issuer=MedCHR");
    expect(expiresAt).toEqual(at(T0, 10 * 60_000));

    const [row] = await t.owner<{ token_hash: Uint8Array; secret_ciphertext: string; key_id: string }[]>`
      select token_hash, secret_ciphertext, key_id from medchr.mfa_setup_tokens where user_id = ${userId}`;
    expect(new Uint8Array(row!.token_hash)).toEqual(await hashToken(setupToken));
    expect(row!.secret_ciphertext).toMatch(/^v1\.k1\./);
    expect(row!.secret_ciphertext).not.toContain(secret);
    expect(row!.key_id).toBe("k1");

    const confirmInput = { tenantId: tenantA, userId, setupToken, now: at(T0, 60_000) };
    const wrong = await inTenant(tenantA, (tx) =>
      confirmMfaSetup(tx, { ...confirmInput, code: "000000" }, keys, audit),
    );
    expect(wrong).toMatchObject({ ok: false, error: { code: "unauthorized" } });

    // The wrong code left the setup open: the right one still works.
    const code = await codeAt(secret, at(T0, 60_000));
    const confirmed = await inTenant(tenantA, (tx) =>
      confirmMfaSetup(tx, { ...confirmInput, code }, keys, audit),
    );
    expect(confirmed.ok).toBe(true);
    if (!confirmed.ok) return;
    expect(confirmed.value.replaced).toBe(false);
    expect(confirmed.value.recoveryCodes).toHaveLength(10);
    expect(new Set(confirmed.value.recoveryCodes).size).toBe(10);

    const status = await inTenant(tenantA, (tx) => getMfaStatus(tx, { userId }));
    expect(status).toEqual({
      ok: true,
      value: { enrolled: true, enabledAt: at(T0, 60_000), recoveryCodesRemaining: 10 },
    });
    const stored = await t.owner<{ code_hash: Uint8Array; key_id: string }[]>`
      select code_hash, key_id from medchr.mfa_recovery_codes where user_id = ${userId}`;
    expect(stored).toHaveLength(10);
    expect(stored.every((r) => r.key_id === "p1" && r.code_hash.length === 32)).toBe(true);

    expect(await eventsFor(userId)).toEqual([
      {
        action: "mfa.enroll",
        outcome: "SUCCESS",
        actor_type: "user",
        actor_id: userId,
        details: { factor: "totp" },
      },
      {
        action: "mfa.recovery_codes_generate",
        outcome: "SUCCESS",
        actor_type: "user",
        actor_id: userId,
        details: { count: 10 },
      },
    ]);

    // The confirming code's step is spent: it cannot be replayed to log in.
    const replay = await verify(tenantA, userId, code, at(T0, 61_000));
    expect(replay).toMatchObject({ ok: false, error: { code: "unauthorized" } });
    expect((await eventsFor(userId)).at(-1)).toMatchObject({
      action: "mfa.verify",
      outcome: "DENIED",
      details: { factor: "totp", stepUp: false, replay: true },
    });
  });

  it("refuses an expired, a consumed, another user's, a superseded and a malformed setup token", async () => {
    const alice = await newUser(tenantA);
    const bob = await newUser(tenantA);
    const start = (userId: string, now: Date) =>
      inTenant(tenantA, (tx) => startMfaSetup(tx, { tenantId: tenantA, userId, now }, mfaKeys));
    const confirm = (userId: string, setupToken: string, code: string, now: Date) =>
      inTenant(tenantA, (tx) =>
        confirmMfaSetup(tx, { tenantId: tenantA, userId, setupToken, code, now }, keys, audit),
      );

    const first = await start(alice, T0);
    if (!first.ok) throw new Error("setup failed");
    const expiredAt = at(T0, 10 * 60_000);
    expect(
      await confirm(alice, first.value.setupToken, await codeAt(first.value.secret, expiredAt), expiredAt),
    ).toMatchObject({ ok: false, error: { code: "unauthorized" } });

    // Bob cannot confirm Alice's setup, even with a valid code for it.
    const now = at(T0, 60_000);
    expect(
      await confirm(bob, first.value.setupToken, await codeAt(first.value.secret, now), now),
    ).toMatchObject({ ok: false, error: { code: "unauthorized" } });

    // A second setup supersedes the first.
    const second = await start(alice, now);
    if (!second.ok) throw new Error("setup failed");
    expect(
      await confirm(alice, first.value.setupToken, await codeAt(first.value.secret, now), now),
    ).toMatchObject({ ok: false, error: { code: "unauthorized" } });

    const done = await confirm(alice, second.value.setupToken, await codeAt(second.value.secret, now), now);
    expect(done.ok).toBe(true);
    const later = at(now, STEP_MS);
    expect(
      await confirm(alice, second.value.setupToken, await codeAt(second.value.secret, later), later),
    ).toMatchObject({ ok: false, error: { code: "unauthorized" } });

    expect(await confirm(alice, "not-a-token", "123456", now)).toMatchObject({
      ok: false,
      error: { code: "unauthorized" },
    });
    // Bob never enrolled; Alice enrolled exactly once.
    expect(await inTenant(tenantA, (tx) => getMfaStatus(tx, { userId: bob }))).toMatchObject({
      value: { enrolled: false, recoveryCodesRemaining: 0 },
    });
    expect((await eventsFor(alice)).filter((e) => e.action === "mfa.enroll")).toHaveLength(1);
  });

  it("replaces an existing factor: the old secret and recovery codes stop working", async () => {
    const { userId, secret: oldSecret, recoveryCodes: oldCodes } = await enrolledUser(tenantA, T0);
    const now = at(T0, 5 * 60_000);
    const started = await inTenant(tenantA, (tx) =>
      startMfaSetup(tx, { tenantId: tenantA, userId, now }, mfaKeys),
    );
    if (!started.ok) throw new Error("setup failed");
    const newCode = await codeAt(started.value.secret, now);
    const confirmed = await inTenant(tenantA, (tx) =>
      confirmMfaSetup(
        tx,
        { tenantId: tenantA, userId, setupToken: started.value.setupToken, code: newCode, now },
        keys,
        audit,
      ),
    );
    expect(confirmed).toMatchObject({ ok: true, value: { replaced: true } });
    const later = at(now, 2 * STEP_MS);
    expect((await verify(tenantA, userId, await codeAt(oldSecret, later), later)).ok).toBe(false);
    expect((await verify(tenantA, userId, oldCodes[0]!, later)).ok).toBe(false);
    expect(await verify(tenantA, userId, await codeAt(started.value.secret, later), later)).toMatchObject({
      ok: true,
      value: { factor: "totp" },
    });
  });
});

describe("verifyMfaCode with TOTP", () => {
  it("accepts one step of drift either way and refuses two", async () => {
    const { userId, secret } = await enrolledUser(tenantA, T0);
    const now = at(T0, 10 * STEP_MS);
    for (const steps of [-2, 2]) {
      expect(await verify(tenantA, userId, await codeAt(secret, now, steps), now)).toMatchObject({
        ok: false,
        error: { code: "unauthorized" },
      });
    }
    // Ascending, since each accepted step spends every step up to it.
    for (const steps of [-1, 0, 1]) {
      expect(await verify(tenantA, userId, await codeAt(secret, now, steps), now)).toEqual({
        ok: true,
        value: { factor: "totp" },
      });
    }
    const events = (await eventsFor(userId)).filter((e) => e.action === "mfa.verify");
    expect(events.map((e) => [e.outcome, e.details.replay])).toEqual([
      ["DENIED", false],
      ["DENIED", false],
      ["SUCCESS", false],
      ["SUCCESS", false],
      ["SUCCESS", false],
    ]);
    // A success resets the failure counter.
    expect(await lockoutRow(userId, "login")).toMatchObject({ failures: 0, locked_until: null });
  });

  it("refuses a replayed step (and any earlier one), audits replay:true, and marks step-up", async () => {
    const { userId, secret } = await enrolledUser(tenantA, T0);
    const now = at(T0, 10 * STEP_MS);
    const code = await codeAt(secret, now, 1);
    expect((await verify(tenantA, userId, code, now, "step_up")).ok).toBe(true);
    expect(await verify(tenantA, userId, code, at(now, 1000), "step_up")).toMatchObject({
      ok: false,
      error: { code: "unauthorized" },
    });
    // The current step is still inside the window but older than the one spent.
    expect((await verify(tenantA, userId, await codeAt(secret, now), now, "login")).ok).toBe(false);

    const verifies = (await eventsFor(userId)).filter((e) => e.action === "mfa.verify");
    expect(verifies).toEqual([
      expect.objectContaining({
        outcome: "SUCCESS",
        details: { factor: "totp", stepUp: true, replay: false },
      }),
      expect.objectContaining({ outcome: "DENIED", details: { factor: "totp", stepUp: true, replay: true } }),
      expect.objectContaining({
        outcome: "DENIED",
        details: { factor: "totp", stepUp: false, replay: true },
      }),
    ]);
    // Replays count as failures.
    expect(await lockoutRow(userId, "step_up")).toMatchObject({ failures: 1 });
  });

  it("lets exactly one of two concurrent logins with the same code through", async () => {
    const { userId, secret } = await enrolledUser(tenantA, T0);
    const now = at(T0, 20 * STEP_MS);
    const code = await codeAt(secret, now);
    const results = await Promise.all([
      verify(tenantA, userId, code, now),
      verify(tenantA, userId, code, now),
    ]);
    expect(results.filter((r) => r.ok)).toHaveLength(1);
  });

  it("refuses a secret copied from another user's row, without counting it against the user", async () => {
    const alice = await enrolledUser(tenantA, T0);
    const bob = await enrolledUser(tenantA, T0);
    await t.owner`
      update medchr.mfa_factors set secret_ciphertext =
        (select secret_ciphertext from medchr.mfa_factors where user_id = ${alice.userId})
       where user_id = ${bob.userId}`;
    const now = at(T0, 10 * STEP_MS);
    const result = await verify(tenantA, bob.userId, await codeAt(alice.secret, now), now);
    expect(result).toMatchObject({ ok: false, error: { code: "unavailable" } });
    expect((await eventsFor(bob.userId)).at(-1)).toMatchObject({
      action: "mfa.verify",
      outcome: "FAILURE",
      details: { factor: "totp", replay: false },
    });
    expect((await lockoutRow(bob.userId, "login"))?.failures ?? 0).toBe(0);
    // Alice's own row still works.
    expect((await verify(tenantA, alice.userId, await codeAt(alice.secret, now), now)).ok).toBe(true);
  });

  it("refuses garbage and a user without a factor", async () => {
    const { userId } = await enrolledUser(tenantA, T0);
    const now = at(T0, 10 * STEP_MS);
    for (const bad of ["12345", "1234567", "abcdef", "x".repeat(5000)]) {
      expect(await verify(tenantA, userId, bad, now)).toMatchObject({
        ok: false,
        error: { code: "unauthorized" },
      });
    }
    // Each counted as a failure, audited under the factor it most resembles.
    expect(await lockoutRow(userId, "login")).toMatchObject({ failures: 4 });
    const denied = (await eventsFor(userId)).filter((e) => e.action === "mfa.verify");
    expect(denied.map((e) => [e.outcome, e.details.factor])).toEqual([
      ["DENIED", "totp"],
      ["DENIED", "totp"],
      ["DENIED", "recovery_code"],
      ["DENIED", "recovery_code"],
    ]);
    const stranger = await newUser(tenantA);
    expect(await verify(tenantA, stranger, "123456", now)).toMatchObject({
      ok: false,
      error: { code: "unauthorized" },
    });
    expect(
      await inTenant(tenantA, (tx) =>
        verifyMfaCode(
          tx,
          { tenantId: tenantA, userId: "nope", code: "123456", flow: "login", now },
          keys,
          audit,
        ),
      ),
    ).toMatchObject({ ok: false, error: { code: "invalid_input" } });
  });
});

describe("recovery codes", () => {
  it("are single use, accepted in any case and spacing, and audited", async () => {
    const { userId, recoveryCodes } = await enrolledUser(tenantA, T0);
    const now = at(T0, 60_000);
    const typed = recoveryCodes[3]!.toUpperCase().replace(/-/g, " ");
    expect(await verify(tenantA, userId, typed, now)).toEqual({
      ok: true,
      value: { factor: "recovery_code", recoveryCodesRemaining: 9 },
    });
    expect(await verify(tenantA, userId, recoveryCodes[3]!, at(now, 1000))).toMatchObject({
      ok: false,
      error: { code: "unauthorized" },
    });
    expect(await verify(tenantA, userId, "zzzzz-zzzzz-zzzzz-zzzzz", at(now, 2000))).toMatchObject({
      ok: false,
      error: { code: "unauthorized" },
    });
    const verifies = (await eventsFor(userId)).filter((e) => e.action === "mfa.verify");
    expect(verifies.map((e) => [e.outcome, e.details])).toEqual([
      ["SUCCESS", { factor: "recovery_code", stepUp: false, replay: false }],
      ["DENIED", { factor: "recovery_code", stepUp: false, replay: true }],
      ["DENIED", { factor: "recovery_code", stepUp: false, replay: false }],
    ]);
    expect(await inTenant(tenantA, (tx) => getMfaStatus(tx, { userId }))).toMatchObject({
      value: { recoveryCodesRemaining: 9 },
    });
  });

  it("can be regenerated: the old set stops working, the new one works", async () => {
    const { userId, recoveryCodes } = await enrolledUser(tenantA, T0);
    const regenerated = await inTenant(tenantA, (tx) =>
      regenerateRecoveryCodes(tx, { tenantId: tenantA, userId, now: T0 }, recoveryCodeKeys, audit),
    );
    if (!regenerated.ok) throw new Error("regenerate failed");
    expect(regenerated.value.recoveryCodes).toHaveLength(10);
    expect(regenerated.value.recoveryCodes).not.toContain(recoveryCodes[0]);
    expect((await verify(tenantA, userId, recoveryCodes[0]!, T0)).ok).toBe(false);
    expect((await verify(tenantA, userId, regenerated.value.recoveryCodes[0]!, T0)).ok).toBe(true);
    expect((await eventsFor(userId)).filter((e) => e.action === "mfa.recovery_codes_generate")).toHaveLength(
      2,
    );

    const stranger = await newUser(tenantA);
    expect(
      await inTenant(tenantA, (tx) =>
        regenerateRecoveryCodes(
          tx,
          { tenantId: tenantA, userId: stranger, now: T0 },
          recoveryCodeKeys,
          audit,
        ),
      ),
    ).toMatchObject({ ok: false, error: { code: "not_found" } });
  });
});

describe("MFA lockout", () => {
  it("locks a flow for 5 minutes after 5 failures, refuses even a correct code, then clears", async () => {
    const { userId, secret } = await enrolledUser(tenantA, T0);
    const start = at(T0, 10 * STEP_MS);
    for (let i = 0; i < 4; i++) {
      expect(await verify(tenantA, userId, "000000", at(start, i * 1000))).toMatchObject({
        error: { code: "unauthorized" },
      });
    }
    expect(await verify(tenantA, userId, "000000", at(start, 4000))).toEqual({
      ok: false,
      error: { code: "rate_limited", message: expect.any(String), retryAfterSeconds: 300 },
    });
    expect((await eventsFor(userId)).at(-1)).toMatchObject({
      action: "mfa.lockout",
      outcome: "SUCCESS",
      details: { failures: 5, lockedSeconds: 300, flow: "login" },
    });

    // One minute in: a correct code is refused without being looked at (its step stays unspent).
    const oneMinute = at(start, 64_000);
    const correct = await codeAt(secret, oneMinute);
    expect(await verify(tenantA, userId, correct, oneMinute)).toMatchObject({
      ok: false,
      error: { code: "rate_limited", retryAfterSeconds: 240 },
    });
    expect((await eventsFor(userId)).at(-1)).toMatchObject({
      action: "access.denied",
      outcome: "DENIED",
      details: { reason: "rate_limited" },
    });
    const [factor] = await t.owner<{ last_used_step: string }[]>`
      select last_used_step from medchr.mfa_factors where user_id = ${userId}`;
    expect(Number(factor!.last_used_step)).toBeLessThan(Math.floor(oneMinute.getTime() / STEP_MS));

    // The step-up flow is counted separately and is not locked.
    expect(await verify(tenantA, userId, correct, oneMinute, "step_up")).toMatchObject({ ok: true });

    // Still locked at 4:59 after the lock, open at 5:00.
    const unlocked = at(start, 4000 + 5 * 60_000);
    expect(
      await verify(tenantA, userId, await codeAt(secret, unlocked, 1), at(unlocked, -1000)),
    ).toMatchObject({
      error: { code: "rate_limited", retryAfterSeconds: 1 },
    });
    expect(await verify(tenantA, userId, await codeAt(secret, unlocked, 1), unlocked)).toEqual({
      ok: true,
      value: { factor: "totp" },
    });
    const tail = (await eventsFor(userId)).slice(-2);
    expect(tail).toEqual([
      expect.objectContaining({
        action: "mfa.lockout_clear",
        outcome: "SUCCESS",
        details: { flow: "login" },
      }),
      expect.objectContaining({ action: "mfa.verify", outcome: "SUCCESS" }),
    ]);
    expect(await lockoutRow(userId, "login")).toMatchObject({ failures: 0, locked_until: null });
  });

  it("counts failures in a 15-minute window from the first one", async () => {
    const { userId } = await enrolledUser(tenantA, T0);
    for (let i = 0; i < 4; i++) await verify(tenantA, userId, "000000", at(T0, i * 60_000));
    expect(await lockoutRow(userId, "login")).toMatchObject({ failures: 4, locked_until: null });
    // 15 minutes after the window opened, a fifth failure starts a new window instead of locking.
    expect(await verify(tenantA, userId, "000000", at(T0, 15 * 60_000))).toMatchObject({
      error: { code: "unauthorized" },
    });
    expect(await lockoutRow(userId, "login")).toMatchObject({ failures: 1, locked_until: null });
  });

  it("a step-up lockout does not block login", async () => {
    const { userId, secret } = await enrolledUser(tenantA, T0);
    const now = at(T0, 10 * STEP_MS);
    for (let i = 0; i < 5; i++) await verify(tenantA, userId, "999999", now, "step_up");
    expect((await eventsFor(userId)).at(-1)).toMatchObject({
      action: "mfa.lockout",
      details: { flow: "step_up" },
    });
    expect(await verify(tenantA, userId, await codeAt(secret, now), now, "step_up")).toMatchObject({
      error: { code: "rate_limited" },
    });
    expect(await verify(tenantA, userId, await codeAt(secret, now), now, "login")).toMatchObject({
      ok: true,
    });
  });
});

describe("removeMfaFactor", () => {
  it("removes the factor, its recovery codes and lockouts, audited with the acting admin", async () => {
    const { userId, secret, recoveryCodes } = await enrolledUser(tenantA, T0);
    const admin = await newUser(tenantA);
    const now = at(T0, 10 * STEP_MS);
    for (let i = 0; i < 5; i++) await verify(tenantA, userId, "000000", now);
    const removed = await inTenant(tenantA, (tx) =>
      removeMfaFactor(
        tx,
        { tenantId: tenantA, userId, now },
        { ...audit, actor: { type: "user", id: admin } },
      ),
    );
    expect(removed).toEqual({ ok: true, value: { recoveryCodesDeleted: 10 } });
    expect((await eventsFor(userId)).slice(-2)).toEqual([
      {
        action: "mfa.remove",
        outcome: "SUCCESS",
        actor_type: "user",
        actor_id: admin,
        details: { factor: "totp" },
      },
      {
        action: "mfa.lockout_clear",
        outcome: "SUCCESS",
        actor_type: "user",
        actor_id: admin,
        details: { flow: "login" },
      },
    ]);
    expect(await inTenant(tenantA, (tx) => getMfaStatus(tx, { userId }))).toEqual({
      ok: true,
      value: { enrolled: false, enabledAt: null, recoveryCodesRemaining: 0 },
    });
    expect((await verify(tenantA, userId, await codeAt(secret, now, 1), now)).ok).toBe(false);
    expect((await verify(tenantA, userId, recoveryCodes[0]!, now)).ok).toBe(false);
    expect(
      await inTenant(tenantA, (tx) => removeMfaFactor(tx, { tenantId: tenantA, userId, now }, audit)),
    ).toMatchObject({ ok: false, error: { code: "not_found" } });
  });
});

describe("tenant isolation", () => {
  it("another tenant's transaction sees no factor and cannot verify or remove it", async () => {
    const { userId, secret } = await enrolledUser(tenantA, T0);
    const now = at(T0, 10 * STEP_MS);
    expect(await inTenant(tenantB, (tx) => getMfaStatus(tx, { userId }))).toMatchObject({
      value: { enrolled: false },
    });
    expect(
      await inTenant(tenantB, (tx) => removeMfaFactor(tx, { tenantId: tenantB, userId, now }, audit)),
    ).toMatchObject({ ok: false, error: { code: "not_found" } });
    // The lockout row cannot be created under the wrong tenant either (RLS WITH CHECK).
    const code = await codeAt(secret, now);
    await expect(
      inTenant(tenantB, (tx) =>
        verifyMfaCode(tx, { tenantId: tenantA, userId, code, flow: "login", now }, keys, audit),
      ),
    ).rejects.toThrow();
    expect((await verify(tenantA, userId, code, now)).ok).toBe(true);
  });
});

describe("rekeyMfaSecrets", () => {
  it("re-encrypts factors and pending setups under the new active key; codes keep working", async () => {
    const tenantC = await createTenant(t.owner, "mfa-c");
    const users = [await enrolledUser(tenantC, T0), await enrolledUser(tenantC, T0)];
    const pendingUser = await newUser(tenantC);
    const now = at(T0, 60_000);
    const pending = await inTenant(tenantC, (tx) =>
      startMfaSetup(tx, { tenantId: tenantC, userId: pendingUser, now }, mfaKeys),
    );
    if (!pending.ok) throw new Error("setup failed");

    const rotated = ring("MFA_ENCRYPTION_KEYS", `k2:${randomKey()},k1:${k1}`);
    const system: MfaAuditContext & { actor: { type: "system"; id: string } } = {
      ...audit,
      actor: { type: "system", id: "cli.mfa_rekey" },
    };
    const report = await inTenant(tenantC, (tx) =>
      rekeyMfaSecrets(tx, { tenantId: tenantC, now }, rotated, system),
    );
    expect(report).toEqual({
      ok: true,
      value: { factors: 2, setupTokens: 1, setupTokensDeleted: 2, failed: 0, failureReasons: [] },
    });
    const rows = await t.owner<{ key_id: string; secret_ciphertext: string }[]>`
      select key_id, secret_ciphertext from medchr.mfa_factors where tenant_id = ${tenantC}
      union all
      select key_id, secret_ciphertext from medchr.mfa_setup_tokens where tenant_id = ${tenantC}`;
    expect(rows).toHaveLength(3);
    expect(rows.every((r) => r.key_id === "k2" && r.secret_ciphertext.startsWith("v1.k2."))).toBe(true);

    // The old key can now leave the ring.
    const onlyNew = {
      mfaKeys: { ...rotated, keys: new Map([["k2", rotated.keys.get("k2")!]]) },
      recoveryCodeKeys,
    };
    const later = at(now, 10 * STEP_MS);
    for (const user of users) {
      expect(
        await verify(tenantC, user.userId, await codeAt(user.secret, later), later, "login", onlyNew),
      ).toEqual({ ok: true, value: { factor: "totp" } });
    }
    const pendingCode = await codeAt(pending.value.secret, later);
    const confirmed = await inTenant(tenantC, (tx) =>
      confirmMfaSetup(
        tx,
        {
          tenantId: tenantC,
          userId: pendingUser,
          setupToken: pending.value.setupToken,
          code: pendingCode,
          now: later,
        },
        onlyNew,
        audit,
      ),
    );
    expect(confirmed.ok).toBe(true);

    const rekeyEvents = await t.owner<EventRow[]>`
      select action, outcome, actor_type, actor_id, details from medchr.audit_events
       where tenant_id = ${tenantC} and action = 'mfa.rekey'`;
    expect(rekeyEvents).toEqual([
      {
        action: "mfa.rekey",
        outcome: "SUCCESS",
        actor_type: "system",
        actor_id: "cli.mfa_rekey",
        details: { factors: 2 },
      },
    ]);

    // Idempotent: nothing left to do, nothing audited.
    const again = await inTenant(tenantC, (tx) =>
      rekeyMfaSecrets(tx, { tenantId: tenantC, now: later }, rotated, system),
    );
    expect(again).toMatchObject({ ok: true, value: { factors: 0, setupTokens: 0, failed: 0 } });

    // A row under a key the ring no longer has is reported and left alone.
    const k3Ring = ring("MFA_ENCRYPTION_KEYS", `k3:${randomKey()}`);
    const orphan = await enrolledUser(tenantC, T0, k3Ring);
    const failed = await inTenant(tenantC, (tx) =>
      rekeyMfaSecrets(tx, { tenantId: tenantC, now: later }, rotated, system),
    );
    expect(failed).toMatchObject({
      ok: true,
      value: { factors: 0, failed: 1, failureReasons: ["unknown_key"] },
    });
    const [orphanRow] = await t.owner<{ key_id: string }[]>`
      select key_id from medchr.mfa_factors where user_id = ${orphan.userId}`;
    expect(orphanRow!.key_id).toBe("k3");
    const [lastRekey] = await t.owner<EventRow[]>`
      select action, outcome, actor_type, actor_id, details from medchr.audit_events
       where tenant_id = ${tenantC} and action = 'mfa.rekey' order by seq desc limit 1`;
    expect(lastRekey).toMatchObject({ outcome: "FAILURE", details: { factors: 0 } });
  });
});

/** Runs the operator CLI as operators do (asynchronously: PGlite lives in this process). */
function runRekeyCli(args: string[], env: Record<string, string>) {
  const names = ["DATABASE_URL", "MFA_ENCRYPTION_KEYS", "AUDIT_KEYS"];
  const childEnv: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value !== undefined && !names.includes(name)) childEnv[name] = value;
  }
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      "npx",
      ["tsx", "scripts/mfa-rekey.ts", ...args],
      { cwd: REPO_ROOT, env: { ...childEnv, ...env }, timeout: 60_000 },
      (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === "number" ? error.code : -1) : 0, stdout, stderr });
      },
    );
  });
}

describe("npm run mfa:rekey", () => {
  it("rekeys one tenant, reports undecryptable rows with exit 1, and refuses bad usage with exit 2", async () => {
    const tenantD = await createTenant(t.owner, "mfa-d");
    const user = await enrolledUser(tenantD, T0);
    const env = {
      DATABASE_URL: t.url,
      MFA_ENCRYPTION_KEYS: `k5:${randomKey()},k1:${k1}`,
      AUDIT_KEYS: `a1:${encodeBase64Url(auditKeys.keys.get("a1")!)}`,
    };
    const one = await runRekeyCli(["--tenant", tenantD], env);
    expect(one.stderr).not.toMatch(/error:/);
    expect(one.code).toBe(0);
    expect(one.stdout).toContain(`OK      ${tenantD}  factors=1 setup_tokens=0`);
    const [row] = await t.owner<{ key_id: string }[]>`
      select key_id from medchr.mfa_factors where user_id = ${user.userId}`;
    expect(row!.key_id).toBe("k5");

    // Every tenant: tenant A holds the row copied from another user above, which cannot decrypt.
    const all = await runRekeyCli([], env);
    expect(all.code).toBe(1);
    expect(all.stdout).toMatch(new RegExp(`FAILED  ${tenantA} .*failed=1 reasons=authentication_failed`));
    expect(all.stdout).toContain(`OK      ${tenantD}  factors=0`);

    expect((await runRekeyCli(["--tenant", "nope"], env)).code).toBe(2);
    expect((await runRekeyCli([], { ...env, MFA_ENCRYPTION_KEYS: `k1:${"A".repeat(43)}` })).code).toBe(2);
    const missing = await runRekeyCli([], { DATABASE_URL: t.url, AUDIT_KEYS: env.AUDIT_KEYS });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("MFA_ENCRYPTION_KEYS");
  });
});

describe("audit chain", () => {
  it("stays valid in every tenant after everything above", async () => {
    const tenants = await t.owner<{ id: string }[]>`select id from medchr.tenants`;
    expect(tenants.length).toBeGreaterThanOrEqual(4);
    for (const { id } of tenants) {
      const report = await verifyAuditChain(t.db, auditKeys, id);
      expect(report.ok).toBe(true);
    }
  });
});
