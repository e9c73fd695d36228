/**
 * Audit log throughput: appending to the per-tenant hash chain (validate, lock the head,
 * HMAC, insert + advance) against the yardstick of plain INSERTs of the same rows into a
 * table of the same shape, each in its own request transaction as the application role;
 * and verification throughput (read back, recompute every HMAC, check links and head).
 */
import { appendAuditEvent, type StoredAuditEvent } from "../../shared/audit/append-audit-event";
import { type AuditEventInput, parseAuditEvent } from "../../shared/audit/audit-events";
import { GENESIS_HASH, hashAuditEvent } from "../../shared/audit/hash-audit-event";
import { verifyAuditChain } from "../../shared/audit/verify-audit-chain";
import { type KeyRing, parseKeyRing } from "../../shared/config/key-ring";
import type { Tx } from "../../shared/db/database";
import { createTenant, startTestDatabase } from "../../test/helpers/test-database";
import { type BenchCase, type Benchmark, medianOf, timeWriters, toCase } from "./benchmark";
import { packageVersion } from "./lib/environment";

/** Events per case: enough for a stable rate, small enough to keep the whole run near a minute. */
const EVENTS_PER_CASE = 2_000;
const WARMUP_EVENTS = 200;
/** Each case runs this often; the median round is reported. */
const ROUNDS = 3;
const VERIFY_BATCH_SIZE = 1_000;

const PANEL_WRITES = "Writes: one event per request transaction";
const PANEL_OTHER = "No transaction per event: hashing in process, verifying a chain";

/** Throwaway benchmark key (32 patterned bytes); never used for real data. */
const BENCH_KEYS: KeyRing = (() => {
  const key = btoa(String.fromCharCode(...Array.from({ length: 32 }, (_, i) => (i * 73 + 5) % 256)));
  const { ring } = parseKeyRing("AUDIT_KEYS", `bench1:${key}`, { strict: true });
  if (!ring) throw new Error("bench key ring did not parse");
  return ring;
})();

const ACTOR_ID = "9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a";

/** A realistic PHI-route event: a document registration with ids, a type and a size. */
function sampleEvent(i: number): AuditEventInput {
  return {
    action: "document.register",
    outcome: "SUCCESS",
    actor: { type: "user", id: ACTOR_ID },
    resource: { type: "document", id: crypto.randomUUID() },
    ip: "203.0.113.7",
    userAgent:
      "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36",
    requestId: `bench-${i}`,
    details: { patientId: crypto.randomUUID(), mediaType: "application/pdf", sizeBytes: 100_000 + i },
  };
}

/** Same columns, checks and indexes as medchr.audit_events; no chain, no triggers. */
const PLAIN_TABLE_DDL = `
  create schema if not exists medchr_bench;
  grant usage on schema medchr_bench to medchr_app;
  create table medchr_bench.plain_events (
    tenant_id uuid not null references medchr.tenants (id) on delete restrict,
    seq bigint generated always as identity check (seq > 0),
    id uuid not null default gen_random_uuid(),
    occurred_at timestamptz(3) not null,
    action text not null check (action ~ '^[a-z_]+(\\.[a-z_]+)+$'),
    outcome text not null check (outcome in ('SUCCESS', 'DENIED', 'FAILURE')),
    actor_type text not null check (actor_type in ('user', 'api_key', 'system', 'anonymous')),
    actor_id text,
    resource_type text not null,
    resource_id text,
    ip text,
    user_agent text check (length(user_agent) <= 512),
    request_id text,
    details jsonb not null default '{}'::jsonb,
    prev_hash text not null check (prev_hash ~ '^[0-9a-f]{64}$'),
    hash text not null check (hash ~ '^[0-9a-f]{64}$'),
    key_id text not null,
    primary key (tenant_id, seq),
    unique (id)
  );
  create index plain_events_tenant_time_idx on medchr_bench.plain_events (tenant_id, occurred_at);
  create index plain_events_tenant_resource_idx on medchr_bench.plain_events (tenant_id, resource_type, resource_id);
  grant select, insert on medchr_bench.plain_events to medchr_app;
`;

/** The yardstick: the same validated row, inserted with placeholder hashes. */
async function insertPlain(tx: Tx, input: AuditEventInput): Promise<void> {
  const e = parseAuditEvent(input);
  await tx`
    insert into medchr_bench.plain_events (
      tenant_id, occurred_at, action, outcome, actor_type, actor_id, resource_type, resource_id,
      ip, user_agent, request_id, details, prev_hash, hash, key_id
    ) values (
      medchr.current_tenant_id(), ${new Date().toISOString()}::timestamptz, ${e.action}, ${e.outcome},
      ${e.actor.type}, ${e.actor.id}, ${e.resource.type}, ${e.resource.id}, ${e.ip}, ${e.userAgent},
      ${e.requestId}, ${tx.json(e.details)}, ${GENESIS_HASH}, ${GENESIS_HASH}, 'none'
    )`;
}

const benchmark: Benchmark = {
  name: "audit-append",
  title: "Audit log: append and verify throughput",
  async run() {
    const t = await startTestDatabase();
    try {
      await t.owner.unsafe(PLAIN_TABLE_DDL);
      const tenant = async (slug: string) => createTenant(t.owner, slug);
      const scope = (tenantId: string, i: number) => ({
        tenantId,
        requestId: `bench-${i}`,
        actorId: ACTOR_ID,
      });
      const plain = (tenantId: string) => (i: number) =>
        t.db.withTenant(scope(tenantId, i), (tx) => insertPlain(tx, sampleEvent(i)));
      const audit = (tenantId: string) => (i: number) =>
        t.db.withTenant(scope(tenantId, i), (tx) => appendAuditEvent(tx, BENCH_KEYS, sampleEvent(i)));

      // Warm up both paths (JIT, connections, catalog caches) on a throwaway tenant.
      const warm = await tenant("bench-warmup");
      const warmup = { name: "warmup", group: "warmup", panel: "warmup" };
      await timeWriters(warmup, 8, WARMUP_EVENTS, plain(warm));
      await timeWriters(warmup, 8, WARMUP_EVENTS, audit(warm));

      const cases: BenchCase[] = [];
      const log = (c: BenchCase) => {
        console.info(`  ${c.name}: ${c.perSecond.toLocaleString("en-US")} events/s`);
        return c;
      };

      // CPU only: validation, canonical JSON and HMAC, no database.
      const key = BENCH_KEYS.keys.get(BENCH_KEYS.activeKeyId)!;
      cases.push(
        log(
          await medianOf(ROUNDS, async () => {
            const started = performance.now();
            for (let i = 0; i < EVENTS_PER_CASE; i++) {
              const event: StoredAuditEvent = {
                ...parseAuditEvent(sampleEvent(i)),
                tenantId: warm,
                seq: i + 1,
                id: crypto.randomUUID(),
                occurredAt: new Date().toISOString(),
                prevHash: GENESIS_HASH,
                hash: "",
                keyId: BENCH_KEYS.activeKeyId,
              };
              event.hash = await hashAuditEvent(key, event);
            }
            const label = { name: "validate + HMAC (no DB)", group: "in-process", panel: PANEL_OTHER };
            return toCase(label, EVENTS_PER_CASE, performance.now() - started);
          }),
        ),
      );

      const writerCounts = [1, 8] as const;
      const label = (what: string, group: string, n: number) => ({
        name: `${what}, ${n} writer${n > 1 ? "s" : ""}`,
        group,
        panel: PANEL_WRITES,
      });
      for (const n of writerCounts) {
        const measured = await medianOf(ROUNDS, async (round) => {
          const tenantId = await tenant(`bench-plain-${n}-${round}`);
          return timeWriters(
            label("plain INSERT", "yardstick: plain INSERT", n),
            n,
            EVENTS_PER_CASE,
            plain(tenantId),
          );
        });
        cases.push(log(measured));
      }
      const chains: string[] = [];
      for (const n of writerCounts) {
        const measured = await medianOf(ROUNDS, async (round) => {
          const tenantId = await tenant(`bench-audit-${n}-${round}`);
          chains.push(tenantId);
          return timeWriters(label("audit append", "audit append", n), n, EVENTS_PER_CASE, audit(tenantId));
        });
        cases.push(log(measured));
      }

      // Verify every chain just written (EVENTS_PER_CASE events each), once per round.
      cases.push(
        log(
          await medianOf(ROUNDS, async () => {
            const started = performance.now();
            let verified = 0;
            for (const tenantId of chains) {
              const report = await verifyAuditChain(t.db, BENCH_KEYS, tenantId, {
                batchSize: VERIFY_BATCH_SIZE,
              });
              if (!report.ok) throw new Error(`bench chain failed to verify: ${JSON.stringify(report)}`);
              verified += report.eventsChecked;
            }
            const label = {
              name: `verify (pages of ${VERIFY_BATCH_SIZE})`,
              group: "verify",
              panel: PANEL_OTHER,
            };
            return toCase(label, verified, performance.now() - started);
          }),
        ),
      );

      return {
        unit: "events",
        cases,
        notes: [
          "One event per request transaction (withTenant: SET LOCAL ROLE + tenant settings, then the work), as routes do.",
          `Each case runs ${ROUNDS} times (fresh tenant, ${EVENTS_PER_CASE} events each); the median round is reported.`,
          "All writers of a case write to the same tenant: the worst case for the per-tenant head lock.",
          "PGlite is one single-threaded Postgres engine behind a socket and runs one transaction at a time, so 8 writers measure contention and queueing on that engine, not parallel speed-up; on managed Postgres, writers to different tenants run in parallel and writers to one tenant queue on its head row.",
          "The plain table has the same columns, checks and indexes, but no RLS, no triggers and no chain.",
        ],
        setup: {
          eventsPerCase: EVENTS_PER_CASE,
          rounds: ROUNDS,
          warmupEvents: WARMUP_EVENTS,
          verifyBatchSize: VERIFY_BATCH_SIZE,
          database: `PGlite ${packageVersion("@electric-sql/pglite")} via @electric-sql/pglite-socket, postgres.js (prepare off), app pool of 8`,
        },
      };
    } finally {
      await t.stop();
    }
  },
};

export default benchmark;
