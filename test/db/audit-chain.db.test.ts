import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appendAuditEvent, type StoredAuditEvent } from "../../shared/audit/append-audit-event";
import type { AuditEventInput } from "../../shared/audit/audit-events";
import { GENESIS_HASH, hashAuditEvent } from "../../shared/audit/hash-audit-event";
import {
  type AuditChainReport,
  type AuditVerifyProgress,
  verifyAllTenants,
  verifyAuditChain,
} from "../../shared/audit/verify-audit-chain";
import { encodeBase64Url, type KeyRing, parseKeyRing } from "../../shared/config/key-ring";
import type { Sql } from "../../shared/db/database";
import { createTenant, startTestDatabase, type TestDatabase } from "../helpers/test-database";

/** Throwaway test keys: 32 patterned bytes each, never used outside tests. */
const keyBytes = (seed: number) => Uint8Array.from({ length: 32 }, (_, i) => (i * 37 + seed * 101) % 256);
const ring = (spec: string): KeyRing => {
  const { ring: parsed, problems } = parseKeyRing("AUDIT_KEYS", spec, { strict: true });
  if (!parsed) throw new Error(problems.join("; "));
  return parsed;
};
const KEY1 = `audit1:${encodeBase64Url(keyBytes(1))}`;
const KEY2 = `audit2:${encodeBase64Url(keyBytes(2))}`;
const KEYS = ring(KEY1);

const USER_ID = "9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a";

/** A varied, PHI-free event for position i (reads, updates, lists, uploads...). */
function sampleEvent(i: number): AuditEventInput {
  const base = {
    outcome: "SUCCESS",
    actor: { type: "user", id: USER_ID },
    ip: i % 2 ? "203.0.113.7" : "2001:db8::7",
    userAgent: `Mozilla/5.0 test/${i}`,
    requestId: `req-${i}`,
  } as const;
  const patientId = crypto.randomUUID();
  switch (i % 4) {
    case 0:
      return { ...base, action: "patient.read", resource: { type: "patient", id: patientId } };
    case 1:
      return {
        ...base,
        action: "patient.update",
        resource: { type: "patient", id: patientId },
        details: { fields: ["given_name", "notes"] },
      };
    case 2:
      return {
        ...base,
        action: "patient.list",
        resource: { type: "patient", id: null },
        details: { count: i },
      };
    default:
      return {
        ...base,
        action: "document.register",
        resource: { type: "document", id: crypto.randomUUID() },
        details: { patientId, mediaType: "application/pdf", sizeBytes: 1000 + i },
      };
  }
}

let t: TestDatabase;
let tenantCounter = 0;

beforeAll(async () => {
  t = await startTestDatabase();
});
afterAll(async () => {
  await t?.stop();
});

const scope = (tenantId: string) => ({ tenantId, requestId: "test", actorId: USER_ID });

async function newTenant(): Promise<string> {
  tenantCounter += 1;
  return createTenant(t.owner, `audit-${tenantCounter}`);
}

/** A fresh tenant with n events, each appended in its own request transaction. */
async function seedChain(
  n: number,
  keys: KeyRing = KEYS,
): Promise<{ tenantId: string; events: StoredAuditEvent[] }> {
  const tenantId = await newTenant();
  const events: StoredAuditEvent[] = [];
  for (let i = 1; i <= n; i++) {
    events.push(await t.db.withTenant(scope(tenantId), (tx) => appendAuditEvent(tx, keys, sampleEvent(i))));
  }
  return { tenantId, events };
}

const verify = (tenantId: string, keys: KeyRing = KEYS) =>
  verifyAuditChain(t.db, keys, tenantId, { batchSize: 3 });

/**
 * Tampering as someone with superuser rights would: session_replication_role = replica
 * skips the append-only triggers (superuser only), and the superuser bypasses RLS.
 */
function tamper(fn: (sql: Sql) => Promise<unknown>): Promise<unknown> {
  return t.owner.begin(async (sql) => {
    await sql`set local session_replication_role = replica`;
    await fn(sql as unknown as Sql);
  });
}

const failure = (report: AuditChainReport) => ({ ok: report.ok, ...report.failure });

describe("appendAuditEvent", () => {
  it("appends a contiguous, linked chain whose head is the last event", async () => {
    const { tenantId, events } = await seedChain(7);
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(events[0]!.prevHash).toBe(GENESIS_HASH);
    for (let i = 1; i < events.length; i++) expect(events[i]!.prevHash).toBe(events[i - 1]!.hash);
    for (const e of events) {
      expect(e.hash).toMatch(/^[0-9a-f]{64}$/);
      expect(e.keyId).toBe("audit1");
      expect(e.tenantId).toBe(tenantId);
      expect(e.occurredAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    }
    const [head] =
      await t.owner`select seq, hash from medchr.audit_chain_heads where tenant_id = ${tenantId}`;
    expect({ seq: Number(head!.seq), hash: head!.hash }).toEqual({ seq: 7, hash: events[6]!.hash });
  });

  it("stores exactly what it hashed", async () => {
    const { tenantId, events } = await seedChain(4);
    const rows = await t.owner`
      select seq, id, occurred_at, action, actor_id, resource_id, ip, user_agent, request_id, details::text as details, hash
        from medchr.audit_events where tenant_id = ${tenantId} order by seq`;
    const last = events[3]!;
    expect(rows[3]).toMatchObject({
      id: last.id,
      action: last.action,
      actor_id: USER_ID,
      resource_id: last.resource.id,
      ip: last.ip,
      user_agent: last.userAgent,
      request_id: "req-4",
      details: JSON.stringify(last.details),
      hash: last.hash,
    });
    expect((rows[3]!.occurred_at as Date).toISOString()).toBe(last.occurredAt);
    const recomputed = await hashAuditEvent(keyBytes(1), last);
    expect(recomputed).toBe(last.hash);
  });

  it("commits or rolls back with the caller's transaction", async () => {
    const { tenantId } = await seedChain(2);
    await expect(
      t.db.withTenant(scope(tenantId), async (tx) => {
        await appendAuditEvent(tx, KEYS, sampleEvent(3));
        throw new Error("the change being audited failed");
      }),
    ).rejects.toThrow("the change being audited failed");
    const [{ count }] = (await t.owner`
      select count(*)::int as count from medchr.audit_events where tenant_id = ${tenantId}`) as unknown as [
      { count: number },
    ];
    expect(count).toBe(2);
    expect(failure(await verify(tenantId))).toEqual({ ok: true });
    const next = await t.db.withTenant(scope(tenantId), (tx) => appendAuditEvent(tx, KEYS, sampleEvent(3)));
    expect(next.seq).toBe(3);
  });

  it("throws on an event outside the catalogue before writing anything", async () => {
    const tenantId = await newTenant();
    const bad = { ...sampleEvent(0), details: { note: "free text" } } as unknown as AuditEventInput;
    await expect(t.db.withTenant(scope(tenantId), (tx) => appendAuditEvent(tx, KEYS, bad))).rejects.toThrow(
      /invalid audit event/,
    );
    const heads = await t.owner`select 1 from medchr.audit_chain_heads where tenant_id = ${tenantId}`;
    expect(heads).toHaveLength(0);
  });

  it("refuses a transaction without a tenant, or for another tenant than the one named", async () => {
    const a = await newTenant();
    const b = await newTenant();
    await expect(
      t.db.withoutTenant({ requestId: "test" }, (tx) => appendAuditEvent(tx, KEYS, sampleEvent(0))),
    ).rejects.toThrow(/tenant transaction/);
    await expect(
      t.db.withTenant(scope(a), (tx) => appendAuditEvent(tx, KEYS, sampleEvent(0), { tenantId: b })),
    ).rejects.toThrow(/does not match/);
    const ok = await t.db.withTenant(scope(a), (tx) =>
      appendAuditEvent(tx, KEYS, sampleEvent(0), { tenantId: a }),
    );
    expect(ok.seq).toBe(1);
  });

  it("signs with the ring's active key and verifies across a key rotation", async () => {
    const { tenantId } = await seedChain(3, ring(KEY1));
    const rotated = ring(`${KEY2},${KEY1}`);
    for (let i = 4; i <= 6; i++) {
      await t.db.withTenant(scope(tenantId), (tx) => appendAuditEvent(tx, rotated, sampleEvent(i)));
    }
    const keyIds =
      await t.owner`select key_id from medchr.audit_events where tenant_id = ${tenantId} order by seq`;
    expect(keyIds.map((r) => r.key_id)).toEqual(["audit1", "audit1", "audit1", "audit2", "audit2", "audit2"]);
    expect(failure(await verify(tenantId, rotated))).toEqual({ ok: true });
    // A ring that dropped the old key can no longer vouch for the old events.
    expect(failure(await verify(tenantId, ring(KEY2)))).toEqual({ ok: false, seq: 1, reason: "unknown_key" });
  });
});

describe("verifyAuditChain", () => {
  it("verifies a good chain page by page and reports progress", async () => {
    const { tenantId } = await seedChain(10);
    const progress: AuditVerifyProgress[] = [];
    const report = await verifyAuditChain(t.db, KEYS, tenantId, {
      batchSize: 4,
      onProgress: (p) => progress.push(p),
    });
    expect(report).toEqual({ tenantId, ok: true, eventsChecked: 10, headSeq: 10 });
    expect(progress.map((p) => p.checked)).toEqual([0, 4, 8, 10]);
    expect(progress.every((p) => p.total === 10 && p.tenantId === tenantId)).toBe(true);
  });

  it("treats a tenant that never wrote an event as an empty, valid chain", async () => {
    const tenantId = await newTenant();
    expect(await verify(tenantId)).toEqual({ tenantId, ok: true, eventsChecked: 0, headSeq: null });
  });

  it("verifies every tenant through medchr.list_tenant_ids()", async () => {
    const good = await seedChain(3);
    const bad = await seedChain(3);
    await tamper(
      (sql) =>
        sql`update medchr.audit_events set outcome = 'DENIED' where tenant_id = ${bad.tenantId} and seq = 2`,
    );
    const reports = await verifyAllTenants(t.db, KEYS, { batchSize: 2 });
    const byTenant = new Map(reports.map((r) => [r.tenantId, r]));
    expect(byTenant.get(good.tenantId)).toMatchObject({ ok: true, eventsChecked: 3 });
    expect(byTenant.get(bad.tenantId)).toMatchObject({
      ok: false,
      failure: { seq: 2, reason: "hash_mismatch" },
    });
    const [{ count }] = (await t.owner`select count(*)::int as count from medchr.tenants`) as unknown as [
      { count: number },
    ];
    expect(reports).toHaveLength(count);
  });
});

/**
 * Tamper vectors in the style of Certificate Transparency's: each starts from a valid
 * 10-event chain, changes it the way an attacker with database superuser rights (but not
 * the audit key) could, and must be detected at exactly the named sequence. Pages of 3
 * rows put some tampering on page boundaries.
 */
describe("tamper detection", () => {
  const N = 10;

  // "Flip a bit": one character or one value in one stored column of event 4.
  const flips: [string, (sql: Sql, tenantId: string) => Promise<unknown>][] = [
    [
      "action",
      (sql, id) =>
        sql`update medchr.audit_events set action = 'patient.reae' where tenant_id = ${id} and seq = 4`,
    ],
    [
      "outcome",
      (sql, id) => sql`update medchr.audit_events set outcome = 'DENIED' where tenant_id = ${id} and seq = 4`,
    ],
    [
      "details",
      (sql, id) =>
        sql`update medchr.audit_events set details = jsonb_set(details, '{sizeBytes}', '1005') where tenant_id = ${id} and seq = 4`,
    ],
    [
      "occurred_at (1 ms)",
      (sql, id) =>
        sql`update medchr.audit_events set occurred_at = occurred_at + interval '1 millisecond' where tenant_id = ${id} and seq = 4`,
    ],
    [
      "actor_id",
      (sql, id) =>
        sql`update medchr.audit_events set actor_id = overlay(actor_id placing 'e' from 1 for 1) where tenant_id = ${id} and seq = 4`,
    ],
    [
      "resource_id",
      (sql, id) =>
        sql`update medchr.audit_events set resource_id = gen_random_uuid()::text where tenant_id = ${id} and seq = 4`,
    ],
    [
      "ip",
      (sql, id) => sql`update medchr.audit_events set ip = '203.0.113.8' where tenant_id = ${id} and seq = 4`,
    ],
    [
      "user_agent",
      (sql, id) =>
        sql`update medchr.audit_events set user_agent = user_agent || ' ' where tenant_id = ${id} and seq = 4`,
    ],
    [
      "request_id",
      (sql, id) =>
        sql`update medchr.audit_events set request_id = 'req-5' where tenant_id = ${id} and seq = 4`,
    ],
    [
      "hash (last hex digit)",
      (sql, id) =>
        sql`update medchr.audit_events
               set hash = left(hash, 63) || case when right(hash, 1) = '0' then '1' else '0' end
             where tenant_id = ${id} and seq = 4`,
    ],
  ];
  it.each(flips)("flipping %s of event 4 is detected at seq 4 (hash_mismatch)", async (_field, flip) => {
    const { tenantId } = await seedChain(N);
    await tamper((sql) => flip(sql, tenantId));
    expect(failure(await verify(tenantId))).toEqual({ ok: false, seq: 4, reason: "hash_mismatch" });
  });

  it("flipping prev_hash of event 4 is detected at seq 4 (broken_link)", async () => {
    const { tenantId } = await seedChain(N);
    await tamper(
      (sql) =>
        sql`update medchr.audit_events set prev_hash = left(prev_hash, 63) || case when right(prev_hash, 1) = '0' then '1' else '0' end
             where tenant_id = ${tenantId} and seq = 4`,
    );
    expect(failure(await verify(tenantId))).toEqual({ ok: false, seq: 4, reason: "broken_link" });
  });

  it.each([1, 5, 6])(
    "deleting event %i in the middle is detected at that seq (sequence_gap)",
    async (seq) => {
      const { tenantId } = await seedChain(N);
      await tamper(
        (sql) => sql`delete from medchr.audit_events where tenant_id = ${tenantId} and seq = ${seq}`,
      );
      expect(failure(await verify(tenantId))).toEqual({ ok: false, seq, reason: "sequence_gap" });
    },
  );

  it("swapping the payloads of events 3 and 7 is detected at seq 3", async () => {
    const { tenantId } = await seedChain(N);
    await tamper(
      (sql) => sql`
        update medchr.audit_events as e
           set action = o.action, outcome = o.outcome, actor_type = o.actor_type, actor_id = o.actor_id,
               resource_type = o.resource_type, resource_id = o.resource_id, details = o.details,
               occurred_at = o.occurred_at
          from medchr.audit_events as o
         where e.tenant_id = ${tenantId} and o.tenant_id = e.tenant_id
           and ((e.seq = 3 and o.seq = 7) or (e.seq = 7 and o.seq = 3))`,
    );
    expect(failure(await verify(tenantId))).toEqual({ ok: false, seq: 3, reason: "hash_mismatch" });
  });

  it("swapping whole events 3 and 7 (their sequence numbers) is detected at seq 3", async () => {
    const { tenantId } = await seedChain(N);
    await tamper(async (sql) => {
      const where = (seq: number) => sql`tenant_id = ${tenantId} and seq = ${seq}`;
      await sql`update medchr.audit_events set seq = 1000000 where ${where(3)}`;
      await sql`update medchr.audit_events set seq = 3 where ${where(7)}`;
      await sql`update medchr.audit_events set seq = 7 where ${where(1000000)}`;
    });
    expect(failure(await verify(tenantId))).toEqual({ ok: false, seq: 3, reason: "broken_link" });
  });

  it.each([1, 3, N])(
    "truncating the last %i events is detected at the first deleted seq (head_mismatch)",
    async (k) => {
      const { tenantId } = await seedChain(N);
      await tamper(
        (sql) => sql`delete from medchr.audit_events where tenant_id = ${tenantId} and seq > ${N - k}`,
      );
      expect(failure(await verify(tenantId))).toEqual({ ok: false, seq: N - k + 1, reason: "head_mismatch" });
    },
  );

  it.each([0, 4, N - 1])(
    "replaying the old head at seq %i is detected at that seq + 1 (head_mismatch)",
    async (oldSeq) => {
      const { tenantId, events } = await seedChain(N);
      const oldHash = oldSeq === 0 ? GENESIS_HASH : events[oldSeq - 1]!.hash;
      await tamper(
        (sql) =>
          sql`update medchr.audit_chain_heads set seq = ${oldSeq}, hash = ${oldHash} where tenant_id = ${tenantId}`,
      );
      expect(failure(await verify(tenantId))).toEqual({
        ok: false,
        seq: oldSeq + 1,
        reason: "head_mismatch",
      });
    },
  );

  it("a head with the right seq but another hash is detected at that seq (head_mismatch)", async () => {
    const { tenantId, events } = await seedChain(N);
    await tamper(
      (sql) =>
        sql`update medchr.audit_chain_heads set hash = ${events[4]!.hash} where tenant_id = ${tenantId}`,
    );
    expect(failure(await verify(tenantId))).toEqual({ ok: false, seq: N, reason: "head_mismatch" });
  });

  it("a deleted head is detected (missing_head)", async () => {
    const { tenantId } = await seedChain(N);
    await tamper((sql) => sql`delete from medchr.audit_chain_heads where tenant_id = ${tenantId}`);
    expect(failure(await verify(tenantId))).toEqual({ ok: false, seq: 1, reason: "missing_head" });
  });

  it("event 6 re-hashed with a wrong key under the same key id is detected at seq 6", async () => {
    const { tenantId, events } = await seedChain(N);
    const forged = { ...events[5]!, details: { count: 0 } };
    const wrongHash = await hashAuditEvent(keyBytes(99), forged);
    await tamper(
      (sql) => sql`update medchr.audit_events set details = '{"count":0}', hash = ${wrongHash}
                    where tenant_id = ${tenantId} and seq = 6`,
    );
    expect(failure(await verify(tenantId))).toEqual({ ok: false, seq: 6, reason: "hash_mismatch" });
  });

  it("a whole suffix rewritten and re-linked with a wrong key (and the head moved along) is detected at its first seq", async () => {
    const { tenantId, events } = await seedChain(N);
    // The attacker lacks the audit key, so recomputes a consistent-looking chain from seq 6 with their own.
    const attackerKey = keyBytes(99);
    let prevHash = events[4]!.hash;
    const rewritten: { seq: number; prevHash: string; hash: string }[] = [];
    for (const event of events.slice(5)) {
      const hash = await hashAuditEvent(attackerKey, { ...event, prevHash, outcome: "DENIED" });
      rewritten.push({ seq: event.seq, prevHash, hash });
      prevHash = hash;
    }
    await tamper(async (sql) => {
      for (const r of rewritten) {
        await sql`update medchr.audit_events set outcome = 'DENIED', prev_hash = ${r.prevHash}, hash = ${r.hash}
                   where tenant_id = ${tenantId} and seq = ${r.seq}`;
      }
      await sql`update medchr.audit_chain_heads set hash = ${prevHash} where tenant_id = ${tenantId}`;
    });
    expect(failure(await verify(tenantId))).toEqual({ ok: false, seq: 6, reason: "hash_mismatch" });
  });

  it("event 6 claiming a key id the ring does not hold is detected at seq 6 (unknown_key)", async () => {
    const { tenantId } = await seedChain(N);
    await tamper(
      (sql) => sql`update medchr.audit_events set key_id = 'evil' where tenant_id = ${tenantId} and seq = 6`,
    );
    expect(failure(await verify(tenantId))).toEqual({ ok: false, seq: 6, reason: "unknown_key" });
  });

  it("names the lowest bad seq when there are several problems", async () => {
    const { tenantId, events } = await seedChain(N);
    await tamper(async (sql) => {
      await sql`update medchr.audit_events set outcome = 'DENIED' where tenant_id = ${tenantId} and seq = 8`;
      await sql`update medchr.audit_chain_heads set seq = 2, hash = ${events[1]!.hash} where tenant_id = ${tenantId}`;
    });
    expect(failure(await verify(tenantId))).toEqual({ ok: false, seq: 3, reason: "head_mismatch" });
  });
});

describe("append-only and tenant isolation", () => {
  let tenantId: string;
  beforeAll(async () => {
    ({ tenantId } = await seedChain(3));
  });

  const asApp = <T>(fn: (tx: Parameters<Parameters<TestDatabase["db"]["withTenant"]>[1]>[0]) => Promise<T>) =>
    t.db.withTenant(scope(tenantId), fn);

  it("the application role cannot UPDATE, DELETE or TRUNCATE audit events", async () => {
    await expect(
      asApp((tx) => tx`update medchr.audit_events set outcome = 'DENIED' where seq = 1`),
    ).rejects.toThrow(/permission denied/);
    await expect(asApp((tx) => tx`delete from medchr.audit_events where seq = 1`)).rejects.toThrow(
      /permission denied/,
    );
    await expect(asApp((tx) => tx`truncate medchr.audit_events`)).rejects.toThrow(/permission denied/);
    expect(failure(await verify(tenantId))).toEqual({ ok: true });
  });

  it("the application role cannot move the head back, skip ahead, or delete it", async () => {
    await expect(
      asApp((tx) => tx`update medchr.audit_chain_heads set seq = 0, hash = ${GENESIS_HASH}`),
    ).rejects.toThrow(/advance by one/);
    await expect(asApp((tx) => tx`update medchr.audit_chain_heads set seq = seq + 2`)).rejects.toThrow(
      /advance by one/,
    );
    await expect(asApp((tx) => tx`delete from medchr.audit_chain_heads`)).rejects.toThrow(
      /permission denied/,
    );
  });

  it("even the owner is stopped by the append-only triggers", async () => {
    await expect(
      t.owner`update medchr.audit_events set outcome = 'DENIED' where tenant_id = ${tenantId}`,
    ).rejects.toThrow(/append-only/);
    await expect(t.owner`delete from medchr.audit_events where tenant_id = ${tenantId}`).rejects.toThrow(
      /append-only/,
    );
    await expect(t.owner`truncate medchr.audit_events`).rejects.toThrow(/append-only/);
    expect(failure(await verify(tenantId))).toEqual({ ok: true });
  });

  it("another tenant cannot read this tenant's events or head, nor write into its chain", async () => {
    const other = await newTenant();
    const asOther = <T>(fn: Parameters<TestDatabase["db"]["withTenant"]>[1]) =>
      t.db.withTenant(scope(other), fn as never) as Promise<T>;
    expect(
      await asOther((tx) => tx`select * from medchr.audit_events where tenant_id = ${tenantId}`),
    ).toHaveLength(0);
    expect(await asOther((tx) => tx`select * from medchr.audit_events`)).toHaveLength(0);
    expect(
      await asOther((tx) => tx`select * from medchr.audit_chain_heads where tenant_id = ${tenantId}`),
    ).toHaveLength(0);
    await expect(
      asOther(
        (tx) => tx`insert into medchr.audit_events (tenant_id, seq, occurred_at, action, outcome, actor_type,
                     resource_type, prev_hash, hash, key_id)
                   values (${tenantId}, 4, now(), 'patient.read', 'SUCCESS', 'system', 'patient',
                     ${GENESIS_HASH}, ${GENESIS_HASH}, 'audit1')`,
      ),
    ).rejects.toThrow(/row-level security/);
    // Verifying as the other tenant sees nothing of the first tenant's chain.
    expect(await verify(other)).toEqual({ tenantId: other, ok: true, eventsChecked: 0, headSeq: null });
    expect(failure(await verify(tenantId))).toEqual({ ok: true });
  });
});

describe("concurrent appends", () => {
  it("200 concurrent appends across 3 tenants leave 3 valid, contiguous chains", async () => {
    const tenants = [await newTenant(), await newTenant(), await newTenant()];
    const stored = await Promise.all(
      Array.from({ length: 200 }, (_, i) => {
        const tenantId = tenants[i % 3]!;
        return t.db.withTenant(scope(tenantId), (tx) => appendAuditEvent(tx, KEYS, sampleEvent(i)));
      }),
    );
    let total = 0;
    for (const tenantId of tenants) {
      const seqs = stored
        .filter((e) => e.tenantId === tenantId)
        .map((e) => e.seq)
        .sort((a, b) => a - b);
      expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
      const report = await verifyAuditChain(t.db, KEYS, tenantId, { batchSize: 50 });
      expect(report).toEqual({ tenantId, ok: true, eventsChecked: seqs.length, headSeq: seqs.length });
      total += seqs.length;
    }
    expect(total).toBe(200);
  });

  it("concurrent first appends for a new tenant create one genesis head", async () => {
    const tenantId = await newTenant();
    const stored = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        t.db.withTenant(scope(tenantId), (tx) => appendAuditEvent(tx, KEYS, sampleEvent(i))),
      ),
    );
    expect(stored.map((e) => e.seq).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(failure(await verify(tenantId))).toEqual({ ok: true });
  });
});
