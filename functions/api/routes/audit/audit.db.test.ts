import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createFunctionApp } from "../../../../shared/http/create-app";
import { createApiKey, createUser, signIn, type TestSession } from "../../../../test/helpers/identity";
import { createTenant, startTestDatabase, type TestDatabase } from "../../../../test/helpers/test-database";
import { testEnv } from "../../../../test/helpers/test-env";
import { registerAuditRoutes } from "./index";

// biome-ignore lint/suspicious/noExplicitAny: response bodies are checked field by field
type Body = Record<string, any>;

const app = createFunctionApp("api", { usesDatabase: true });
registerAuditRoutes(app);

let database: TestDatabase;
let env: Record<string, unknown>;
let tenantA: string;
let tenantB: string;
let auditorA: TestSession;
let auditorB: TestSession;
let clinicianA: TestSession;
let ip = 0;

const call = (url: string, session: TestSession | Record<string, string>) =>
  app.request(
    url,
    {
      headers: {
        "CF-Connecting-IP": `198.51.100.${++ip % 250}`,
        ...("csrfToken" in session ? (session as TestSession).headers : (session as Record<string, string>)),
      },
    },
    env,
  );

async function ok(url: string, session: TestSession = auditorA): Promise<Body> {
  const res = await call(url, session);
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json()) as Body;
}

beforeAll(async () => {
  database = await startTestDatabase();
  env = testEnv(database.url);
  tenantA = await createTenant(database.owner, "audit-review-a");
  tenantB = await createTenant(database.owner, "audit-review-b");
  // Signing users in writes session.create events: each tenant's log has some history.
  auditorA = await signIn(database.db, await createUser(database.owner, tenantA, { role: "auditor" }));
  auditorB = await signIn(database.db, await createUser(database.owner, tenantB, { role: "auditor" }));
  clinicianA = await signIn(database.db, await createUser(database.owner, tenantA, { role: "clinician" }));
  for (let i = 0; i < 5; i++) await signIn(database.db, await createUser(database.owner, tenantA));
});

afterAll(async () => {
  await database?.stop();
});

describe("GET /api/v1/audit/events", () => {
  it("lists the clinic's events newest first and records the read", async () => {
    const page = await ok("/api/v1/audit/events?limit=3");
    expect(page.events).toHaveLength(3);
    const seqs = page.events.map((e: Body) => e.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => b - a));
    expect(page.nextCursor).toBe(String(seqs.at(-1)));
    const again = await ok("/api/v1/audit/events?limit=1&action=audit.read");
    expect(again.events[0]).toMatchObject({
      action: "audit.read",
      outcome: "SUCCESS",
      resource: { type: "audit_chain" },
      details: { count: 3, filtered: false },
    });
  });

  it("pages through every event exactly once", async () => {
    const seen: number[] = [];
    let cursor: string | null = null;
    do {
      const page: Body = await ok(`/api/v1/audit/events?limit=4${cursor ? `&cursor=${cursor}` : ""}`);
      seen.push(...page.events.map((e: Body) => e.seq));
      cursor = page.nextCursor;
    } while (cursor);
    expect(new Set(seen).size).toBe(seen.length);
    expect(Math.min(...seen)).toBe(1);
    // Reads appended audit.read events meanwhile; the walk still covers 1..its first head.
    expect(seen.length).toBeGreaterThanOrEqual(Math.max(...seen) - 10);
    expect(seen).toEqual([...seen].sort((a, b) => b - a));
  });

  it("filters by action prefix, outcome, actor, resource and time", async () => {
    const sessions = await ok("/api/v1/audit/events?action=session.&limit=200");
    expect(sessions.events.length).toBeGreaterThanOrEqual(7);
    expect(sessions.events.every((e: Body) => e.action.startsWith("session."))).toBe(true);
    const one = sessions.events[0];
    const byActor = await ok(`/api/v1/audit/events?actorType=user&actorId=${one.actor.id}`);
    expect(byActor.events.every((e: Body) => e.actor.id === one.actor.id)).toBe(true);
    const byResource = await ok(`/api/v1/audit/events?resourceType=session&resourceId=${one.resource.id}`);
    expect(byResource.events.map((e: Body) => e.id)).toContain(one.id);
    const future = await ok("/api/v1/audit/events?from=2999-01-01T00:00:00Z");
    expect(future.events).toEqual([]);
    const denied = await ok("/api/v1/audit/events?outcome=DENIED");
    expect(denied.events.every((e: Body) => e.outcome === "DENIED")).toBe(true);
    const last = await ok("/api/v1/audit/events?limit=3&action=audit.read");
    expect(last.events[0].details).toEqual({ count: denied.events.length, filtered: true });
  });

  it("refuses malformed filters with 400 naming the field", async () => {
    for (const query of [
      "limit=0",
      "limit=201",
      "cursor=abc",
      "action=DROP%20TABLE",
      "outcome=MAYBE",
      "resourceId=not-a-uuid",
      "from=yesterday",
      "from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z",
      "actorName=x",
    ]) {
      const res = await call(`/api/v1/audit/events?${query}`, auditorA);
      expect(res.status, query).toBe(400);
      const body = (await res.json()) as Body;
      expect(body.error.code, query).toMatch(/validation_failed|bad_request/);
      expect(typeof body.error.requestId).toBe("string");
    }
  });

  it("shows only the caller's clinic and needs audit.read", async () => {
    const a = await ok("/api/v1/audit/events?limit=200");
    const b = await ok("/api/v1/audit/events?limit=200", auditorB);
    const idsA = new Set(a.events.map((e: Body) => e.id));
    expect(b.events.some((e: Body) => idsA.has(e.id))).toBe(false);
    expect((await call("/api/v1/audit/events", clinicianA)).status).toBe(403);
    const readKey = await createApiKey(database.owner, tenantA, { scopes: ["read"] });
    expect((await call("/api/v1/audit/events", readKey.headers)).status).toBe(403);
    expect((await call("/api/v1/audit/events", {})).status).toBe(401);
  });
});

describe("GET /api/v1/audit/verify", () => {
  it("verifies the clinic's chain and records the verdict", async () => {
    const report = await ok("/api/v1/audit/verify");
    expect(report).toMatchObject({ ok: true });
    expect(report.eventsChecked).toBeGreaterThan(5);
    const [event] = (await ok("/api/v1/audit/events?limit=1&action=audit.verify")).events;
    expect(event).toMatchObject({
      action: "audit.verify",
      outcome: "SUCCESS",
      details: { eventsChecked: report.eventsChecked },
    });
  });

  it("names the first tampered sequence", async () => {
    // The owner bypasses the append-only trigger the way an attacker with table rights would.
    await database.owner.unsafe("alter table medchr.audit_events disable trigger audit_events_no_update");
    await database.owner`
      update medchr.audit_events set details = '{"count": 999}'::jsonb
      where tenant_id = ${tenantB} and seq = 2`;
    await database.owner.unsafe("alter table medchr.audit_events enable trigger audit_events_no_update");
    const report = await ok("/api/v1/audit/verify", auditorB);
    expect(report).toMatchObject({ ok: false, failure: { seq: 2, reason: "hash_mismatch" } });
    const [event] = (await ok("/api/v1/audit/events?limit=1&action=audit.verify", auditorB)).events;
    expect(event).toMatchObject({ outcome: "FAILURE", details: { firstBadSeq: 2, reason: "hash_mismatch" } });
    // Tenant A's chain is untouched.
    expect((await ok("/api/v1/audit/verify")).ok).toBe(true);
  });
});
