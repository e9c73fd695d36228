import { env } from "cloudflare:workers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect } from "../../shared/db/database";
import { testEnv } from "../../test/helpers/test-env";
import { DAILY_CRON, runScheduledJobs, SWEEP_CRON } from "./scheduled";

const urls = env as unknown as { TEST_DATABASE_URL: string; TEST_OWNER_DATABASE_URL: string };
const owner = connect(urls.TEST_OWNER_DATABASE_URL);
let tenantId: string;

beforeAll(async () => {
  const [row] = await owner<{ id: string }[]>`
    insert into medchr.tenants (name, slug) values ('Cron Clinic', ${`cron-${Date.now()}`}) returning id`;
  tenantId = row!.id;
});
afterAll(() => owner.end());

describe("cron function (workerd)", () => {
  it("verifies every tenant's audit chain and records the verdict in the tenant's log", async () => {
    await runScheduledJobs(DAILY_CRON, testEnv(urls.TEST_DATABASE_URL));
    await runScheduledJobs(DAILY_CRON, testEnv(urls.TEST_DATABASE_URL));
    const events = await owner<{ seq: string; action: string; outcome: string; details: string }[]>`
      select seq, action, outcome, details::text as details from medchr.audit_events
      where tenant_id = ${tenantId} order by seq`;
    expect(events.map((e) => [Number(e.seq), e.action, e.outcome])).toEqual([
      [1, "audit.verify", "SUCCESS"],
      [2, "audit.verify", "SUCCESS"],
    ]);
    // The second run checked the first run's event.
    expect(JSON.parse(events[1]!.details)).toEqual({ eventsChecked: 1 });
  });

  it("records a FAILURE naming the first bad sequence when the chain was tampered with", async () => {
    await owner.begin(async (tx) => {
      await tx`set local session_replication_role = replica`;
      await tx`update medchr.audit_events set outcome = 'DENIED' where tenant_id = ${tenantId} and seq = 1`;
    });
    await runScheduledJobs(DAILY_CRON, testEnv(urls.TEST_DATABASE_URL));
    const [last] = await owner<{ outcome: string; details: string }[]>`
      select outcome, details::text as details from medchr.audit_events
      where tenant_id = ${tenantId} order by seq desc limit 1`;
    expect(last!.outcome).toBe("FAILURE");
    expect(JSON.parse(last!.details)).toMatchObject({ firstBadSeq: 1, reason: "hash_mismatch" });
  });

  it("purges ended sessions older than 30 days and expired rate-limit windows, keeping live ones", async () => {
    const [user] = await owner<{ id: string }[]>`
      insert into medchr.users (tenant_id, email, display_name, role)
      values (${tenantId}, ${`cron-${Date.now()}@clinic.example.org`}, 'Cron User', 'clinician') returning id`;
    const insertSession = (hashByte: number, revokedDaysAgo: number | null) => owner`
      insert into medchr.ui_sessions (tenant_id, user_id, token_hash, stage, method, absolute_expires_at, revoked_at)
      values (${tenantId}, ${user!.id}, ${new Uint8Array(32).fill(hashByte)}, 'active', 'password',
        now() + interval '1 hour',
        ${revokedDaysAgo === null ? null : new Date(Date.now() - revokedDaysAgo * 86_400_000)})`;
    await insertSession(201, 31);
    await insertSession(202, 2);
    await insertSession(203, null);
    await owner`insert into medchr_ops.rate_limit_buckets (key, window_start, count, expires_at)
      values ('cron-test:abc', now() - interval '2 hours', 1, now() - interval '1 hour')`;
    await runScheduledJobs(DAILY_CRON, testEnv(urls.TEST_DATABASE_URL));
    const left = await owner<{ b: number }[]>`
      select get_byte(token_hash, 0) as b from medchr.ui_sessions where user_id = ${user!.id} order by 1`;
    expect(left.map((r) => r.b)).toEqual([202, 203]);
    const [buckets] = await owner<{ n: number }[]>`
      select count(*)::int as n from medchr_ops.rate_limit_buckets where key = 'cron-test:abc'`;
    expect(buckets!.n).toBe(0);
  });

  it("retries queued storage removals every 15 minutes: a failure stays queued, a success clears it", async () => {
    const path = `${tenantId}/${crypto.randomUUID()}/${"ab".repeat(16)}`;
    await owner`insert into medchr.storage_deletions (tenant_id, storage_path, reason, next_attempt_at)
      values (${tenantId}, ${path}, 'document_deleted', now() - interval '1 minute')`;
    const removeCalls: string[] = [];
    const storage = (status: number) => ({
      fetch: async (request: Request) => {
        removeCalls.push(new URL(request.url).pathname);
        return status === 200
          ? Response.json({ removed: 1 })
          : Response.json({ error: { code: "unavailable", message: "down", requestId: "x" } }, { status });
      },
    });
    await runScheduledJobs(SWEEP_CRON, { ...testEnv(urls.TEST_DATABASE_URL), STORAGE: storage(503) });
    const [failed] = await owner<{ attempts: number; next_attempt_at: Date }[]>`
      select attempts, next_attempt_at from medchr.storage_deletions where storage_path = ${path}`;
    expect(failed!.attempts).toBe(1);
    expect(new Date(failed!.next_attempt_at).getTime()).toBeGreaterThan(Date.now());
    await owner`update medchr.storage_deletions set next_attempt_at = now() - interval '1 second' where storage_path = ${path}`;
    await runScheduledJobs(SWEEP_CRON, { ...testEnv(urls.TEST_DATABASE_URL), STORAGE: storage(200) });
    const left = await owner`select 1 from medchr.storage_deletions where storage_path = ${path}`;
    expect(left).toHaveLength(0);
    expect(removeCalls.every((p) => p === "/storage/internal/remove")).toBe(true);
  });

  it("does nothing but log when its configuration is invalid", async () => {
    await expect(runScheduledJobs(DAILY_CRON, { APP_ENV: "prod" })).resolves.toBeUndefined();
  });
});
