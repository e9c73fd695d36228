/**
 * Identity and access costs (issue 3):
 *  1. a full sign-in, as the browser does it: POST /auth/login (bcrypt cost 12 behind the
 *     HMAC pepper, as in production) then POST /auth/mfa/verify with a TOTP code. CPU per
 *     sign-in (process.cpuUsage), split into bcrypt alone and the rest, and wall time;
 *  2. what authentication adds to a request: one trivial GET (count the tenant's patients
 *     inside withTenant) served public, then as a protectedRoute reached with a session
 *     cookie and with an API key (Postgres and Upstash rate-limit backends), under 25
 *     concurrent clients: p50/p95/p99 latency, throughput and CPU per request.
 *
 * PGlite runs in a child process, reached over its socket as in tests: process.cpuUsage()
 * then counts the application alone (what a Worker is billed for) and the engine's CPU is
 * read from /proc. Besides the harness's JSON and chart, writes doc/bench/auth-login.svg
 * and doc/bench/auth-overhead.svg (latency charts; the harness charts rates only).
 */
import { randomBytes } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { buildAuthApp } from "../../functions/auth/app";
import { confirmMfaSetup, startMfaSetup } from "../../shared/auth/mfa";
import { decodeBase32, generateTotpCode, totpStepAt } from "../../shared/auth/mfa/totp";
import { hashPassword, verifyPassword } from "../../shared/auth/password-hash";
import { SESSION_COOKIE } from "../../shared/auth/session-token";
import type { Database, Sql } from "../../shared/db/database";
import { createFunctionApp } from "../../shared/http/create-app";
import { protectedRoute, publicRoute } from "../../shared/http/define-route";
import { tenantScopeOf } from "../../shared/http/tenant-scope";
import { createUser, type TestUser, testKeyRing } from "../../test/helpers/identity";
import { createTenant } from "../../test/helpers/test-database";
import { testEnv } from "../../test/helpers/test-env";
import { startUpstashRedisStandin, type UpstashRedisStandin } from "../local/upstash-redis/server";
import type { BenchCase, Benchmark } from "./benchmark";
import { apiKeysPerClient, sessionsPerClient } from "./lib/credentials";
import { type DatabaseProcess, startBenchDatabase } from "./lib/database-process";
import { CHARTS_DIR, chartSubtitle, packageVersion } from "./lib/environment";
import { PooledLatencies, type Summary, summarise } from "./lib/latency";
import { interleavedRounds, runClients } from "./lib/run-clients";
import { renderBarChart } from "./svg-chart";

/** Measured sign-ins: each is ~0.3 s of bcrypt, so 60 keep this part near 25 s. */
const LOGINS = 60;
const WARMUP_LOGINS = 3;
const BCRYPT_SAMPLES = 20;

/** The acceptance criterion's concurrency. */
const CLIENTS = 25;
/** Per variant; pooled over ROUNDS interleaved rounds so a noisy spell hits every variant alike. */
const REQUESTS_PER_VARIANT = 2_000;
const ROUNDS = 4;
const WARMUP_REQUESTS = 250;
/** One client alone, per variant: the overhead without PGlite's queue in front of it. */
const SINGLE_CLIENT_REQUESTS = 300;
const PATIENTS = 40;

const PASSWORD = "correct horse battery staple 42";

const cpuMsSince = (start: NodeJS.CpuUsage) => {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
};

// ---------------------------------------------------------------------------------------
// Fixtures

interface Fixture {
  owner: Sql;
  db: Database;
  dbProcess: DatabaseProcess;
  tenantId: string;
}

const auditContext = (requestId: string) => ({
  auditKeys: testKeyRing("AUDIT_KEYS"),
  ip: null,
  userAgent: null,
  requestId,
});

/**
 * Users with a production-cost password hash and a confirmed TOTP factor, enrolled
 * through the domain functions. Enrolment confirms with the PREVIOUS step's code (within
 * the allowed drift), so the current step is still unused for each user's one sign-in.
 */
async function enrolledUsers(
  f: Fixture,
  count: number,
): Promise<{ users: (TestUser & { secret: Uint8Array })[]; hash: string }> {
  const hash = await hashPassword(PASSWORD, testKeyRing("PASSWORD_PEPPER_KEYS"));
  const users: (TestUser & { secret: Uint8Array })[] = [];
  for (let i = 0; i < count; i++) {
    const user = await createUser(f.owner, f.tenantId, { password: PASSWORD });
    await f.owner`update medchr.users set password_hash = ${hash} where id = ${user.id}`;
    const secret = await f.db.withTenant(
      { tenantId: f.tenantId, actorId: user.id, requestId: "bench-enrol" },
      async (tx) => {
        const now = new Date();
        const started = await startMfaSetup(
          tx,
          { tenantId: f.tenantId, userId: user.id, now },
          testKeyRing("MFA_ENCRYPTION_KEYS"),
        );
        if (!started.ok) throw new Error(`enrolment failed: ${started.error.code}`);
        const secret = decodeBase32(started.value.secret)!;
        const confirmed = await confirmMfaSetup(
          tx,
          {
            tenantId: f.tenantId,
            userId: user.id,
            setupToken: started.value.setupToken,
            code: await generateTotpCode(secret, totpStepAt(now) - 1),
            now,
          },
          {
            mfaKeys: testKeyRing("MFA_ENCRYPTION_KEYS"),
            recoveryCodeKeys: testKeyRing("PASSWORD_PEPPER_KEYS"),
          },
          auditContext("bench-enrol"),
        );
        if (!confirmed.ok) throw new Error(`enrolment failed: ${confirmed.error.code}`);
        return secret;
      },
    );
    users.push({ ...user, secret });
  }
  return { users, hash };
}

// ---------------------------------------------------------------------------------------
// 1. Sign-in CPU

interface LoginSample {
  loginCpuMs: number;
  verifyCpuMs: number;
  wallMs: number;
}

interface LoginResults {
  fullCpu: Summary;
  loginCpu: Summary;
  verifyCpu: Summary;
  wall: Summary;
  bcryptCpu: Summary;
  bcryptWall: Summary;
  /** Engine CPU per sign-in (mean), from /proc; null where unavailable. */
  databaseCpuMs: number | null;
  totalMs: number;
}

async function measureLogins(f: Fixture): Promise<LoginResults> {
  const app = buildAuthApp();
  const env = testEnv(f.dbProcess.url);
  const { users, hash } = await enrolledUsers(f, WARMUP_LOGINS + LOGINS);

  const signInOnce = async (user: TestUser & { secret: Uint8Array }, index: number): Promise<LoginSample> => {
    // A distinct client address per sign-in: the /auth limit (30 calls a minute per IP)
    // is a defence against guessing, not something a benchmark should trip.
    const ip = `198.51.100.${index + 1}`;
    const wallStart = performance.now();
    let cpuStart = process.cpuUsage();
    const login = await app.request(
      "/auth/login",
      {
        method: "POST",
        headers: { "Content-Type": "application/json", "CF-Connecting-IP": ip },
        body: JSON.stringify({ email: user.email, password: PASSWORD }),
      },
      env,
    );
    const first = (await login.json()) as { stage?: string; csrfToken?: string };
    const loginCpuMs = cpuMsSince(cpuStart);
    const token = /__Host-medchr_session=([^;]+)/.exec(login.headers.get("Set-Cookie") ?? "")?.[1];
    if (login.status !== 200 || first.stage !== "mfa_pending" || !token || !first.csrfToken) {
      throw new Error(`login answered ${login.status} (stage ${first.stage ?? "none"})`);
    }
    // The authenticator app's work, outside the measured window.
    const code = await generateTotpCode(user.secret, totpStepAt(new Date()));
    cpuStart = process.cpuUsage();
    const verify = await app.request(
      "/auth/mfa/verify",
      {
        method: "POST",
        headers: {
          "Content-Type": "application/json",
          "CF-Connecting-IP": ip,
          Cookie: `${SESSION_COOKIE}=${token}`,
          "X-CSRF-Token": first.csrfToken,
        },
        body: JSON.stringify({ code }),
      },
      env,
    );
    const second = (await verify.json()) as { stage?: string };
    const verifyCpuMs = cpuMsSince(cpuStart);
    if (verify.status !== 200 || second.stage !== "active") {
      throw new Error(`MFA verify answered ${verify.status} (stage ${second.stage ?? "none"})`);
    }
    return { loginCpuMs, verifyCpuMs, wallMs: performance.now() - wallStart };
  };

  for (let i = 0; i < WARMUP_LOGINS; i++) await signInOnce(users[i]!, i);
  const samples: LoginSample[] = [];
  const dbStart = f.dbProcess.cpuMs();
  const started = performance.now();
  for (let i = WARMUP_LOGINS; i < users.length; i++) samples.push(await signInOnce(users[i]!, i));
  const totalMs = performance.now() - started;
  const dbEnd = f.dbProcess.cpuMs();

  const pepper = testKeyRing("PASSWORD_PEPPER_KEYS");
  const bcryptCpu: number[] = [];
  const bcryptWall: number[] = [];
  for (let i = 0; i < BCRYPT_SAMPLES; i++) {
    const wall = performance.now();
    const cpu = process.cpuUsage();
    if (!(await verifyPassword(PASSWORD, hash, pepper))) throw new Error("bcrypt verify failed");
    bcryptCpu.push(cpuMsSince(cpu));
    bcryptWall.push(performance.now() - wall);
  }

  return {
    fullCpu: summarise(samples.map((s) => s.loginCpuMs + s.verifyCpuMs)),
    loginCpu: summarise(samples.map((s) => s.loginCpuMs)),
    verifyCpu: summarise(samples.map((s) => s.verifyCpuMs)),
    wall: summarise(samples.map((s) => s.wallMs)),
    bcryptCpu: summarise(bcryptCpu),
    bcryptWall: summarise(bcryptWall),
    databaseCpuMs:
      dbStart !== null && dbEnd !== null ? Math.round(((dbEnd - dbStart) / LOGINS) * 10) / 10 : null,
    totalMs,
  };
}

// ---------------------------------------------------------------------------------------
// 2. Authenticated request overhead

/** The same handler three ways: only the authentication in front of it differs. */
function probeApp(publicTenantId: string) {
  const app = createFunctionApp("api", { usesDatabase: true });
  const ok = { 200: { description: "The tenant's patient count" } };
  app.openapi(
    publicRoute({ method: "get", path: "/bench/public", audit: { none: "benchmark" }, responses: ok }),
    async (c) => {
      const scope = { tenantId: publicTenantId, requestId: c.var.requestId };
      const [row] = await c.var.db.withTenant(
        scope,
        (tx) => tx<{ n: number }[]>`select count(*)::int as n from medchr.patients`,
      );
      return c.json({ n: row?.n ?? 0 }, 200);
    },
  );
  app.openapi(
    protectedRoute({
      method: "get",
      path: "/bench/protected",
      permission: "patient.read",
      audit: { none: "benchmark: measures authentication alone" },
      responses: ok,
    }),
    async (c) => {
      const [row] = await c.var.db.withTenant(
        tenantScopeOf(c),
        (tx) => tx<{ n: number }[]>`select count(*)::int as n from medchr.patients`,
      );
      return c.json({ n: row?.n ?? 0 }, 200);
    },
  );
  return app;
}

interface Variant {
  name: string;
  group: string;
  path: string;
  env: Record<string, unknown>;
  headers(client: number): Record<string, string>;
}

interface VariantResult {
  name: string;
  group: string;
  latency: Summary;
  requests: number;
  ms: number;
  perSecond: number;
  /** Application CPU per request (this process). */
  appCpuMs: number;
  /** Engine CPU per request (the PGlite process), or null. */
  databaseCpuMs: number | null;
  /** p50 and p99 of each round, to show the spread. */
  roundP50s: number[];
  roundP99s: number[];
  /** One client, no concurrency. */
  single: Summary;
}

async function requestAll(
  app: ReturnType<typeof probeApp>,
  variant: Variant,
  total: number,
  clients = CLIENTS,
): Promise<number[]> {
  const latencies: number[] = [];
  await runClients(clients, total, async (client) => {
    const headers = variant.headers(client);
    const started = performance.now();
    const res = await app.request(variant.path, { headers }, variant.env);
    const body = (await res.json()) as { n?: number };
    latencies.push(performance.now() - started);
    if (res.status !== 200 || body.n !== PATIENTS) {
      throw new Error(`${variant.name}: ${res.status}, count ${String(body.n)} (expected ${PATIENTS})`);
    }
  });
  return latencies;
}

async function measureOverhead(f: Fixture, variants: Variant[]): Promise<VariantResult[]> {
  const app = probeApp(f.tenantId);
  for (const variant of variants) await requestAll(app, variant, WARMUP_REQUESTS);

  const acc = variants.map(() => ({
    pooled: new PooledLatencies(summarise),
    appCpuMs: 0,
    databaseCpuMs: 0 as number | null,
  }));
  const perRound = REQUESTS_PER_VARIANT / ROUNDS;
  await interleavedRounds(variants.length, ROUNDS, 1, async (index) => {
    const a = acc[index]!;
    const dbStart = f.dbProcess.cpuMs();
    const cpu = process.cpuUsage();
    const started = performance.now();
    const latencies = await requestAll(app, variants[index]!, perRound);
    const ms = performance.now() - started;
    a.appCpuMs += cpuMsSince(cpu);
    const dbEnd = f.dbProcess.cpuMs();
    a.databaseCpuMs =
      a.databaseCpuMs !== null && dbStart !== null && dbEnd !== null
        ? a.databaseCpuMs + dbEnd - dbStart
        : null;
    a.pooled.add(latencies, ms);
  });
  const single: Summary[] = [];
  for (const variant of variants)
    single.push(summarise(await requestAll(app, variant, SINGLE_CLIENT_REQUESTS, 1)));
  return variants.map((v, i) => {
    const { pooled, appCpuMs, databaseCpuMs } = acc[i]!;
    const requests = pooled.latencies.length;
    return {
      name: v.name,
      group: v.group,
      latency: summarise(pooled.latencies),
      requests,
      ms: Math.round(pooled.ms),
      perSecond: pooled.perSecond(),
      appCpuMs: Math.round((appCpuMs / requests) * 100) / 100,
      databaseCpuMs: databaseCpuMs === null ? null : Math.round((databaseCpuMs / requests) * 100) / 100,
      roundP50s: pooled.roundP50s.map((p) => Math.round(p * 10) / 10),
      roundP99s: pooled.roundP99s.map((p) => Math.round(p * 10) / 10),
      single: single[i]!,
    };
  });
}

// ---------------------------------------------------------------------------------------
// Charts and report

async function writeCharts(login: LoginResults, overhead: VariantResult[]): Promise<void> {
  const subtitle = chartSubtitle("auth");
  await mkdir(CHARTS_DIR, { recursive: true });
  const loginSvg = renderBarChart({
    title: "Sign-in (password + TOTP): CPU and time per sign-in",
    subtitle,
    unit: "ms",
    panels: [
      {
        title: `Application CPU per sign-in (${LOGINS} sequential sign-ins)`,
        bars: [
          { label: "full sign-in, p50", value: login.fullCpu.p50, group: "sign-in" },
          { label: "full sign-in, p99", value: login.fullCpu.p99, group: "sign-in" },
          { label: "POST /auth/login, p50", value: login.loginCpu.p50, group: "sign-in" },
          { label: "POST /auth/mfa/verify, p50", value: login.verifyCpu.p50, group: "sign-in" },
          { label: "bcrypt verify alone, p50", value: login.bcryptCpu.p50, group: "bcrypt cost 12 alone" },
          ...(login.databaseCpuMs !== null
            ? [{ label: "database engine, mean", value: login.databaseCpuMs, group: "database engine" }]
            : []),
          { label: "bcryptjs 12 in workerd (facts)", value: 350, group: "yardstick" },
          { label: "OWASP: a hash under 1 s", value: 1000, group: "yardstick" },
        ],
      },
      {
        title: "Wall time per sign-in (two requests)",
        bars: [
          { label: "p50", value: login.wall.p50, group: "sign-in" },
          { label: "p99", value: login.wall.p99, group: "sign-in" },
        ],
      },
    ],
  });
  await writeFile(join(CHARTS_DIR, "auth-login.svg"), loginSvg);

  const overheadSvg = renderBarChart({
    title: `Authentication overhead: one GET, ${CLIENTS} concurrent clients`,
    subtitle,
    unit: "ms",
    panels: (["p50", "p99"] as const).map((q) => ({
      title: `${q} latency (${REQUESTS_PER_VARIANT.toLocaleString("en-US")} requests per variant)`,
      bars: overhead.map((v) => ({ label: v.name, value: v.latency[q], group: v.group })),
    })),
  });
  await writeFile(join(CHARTS_DIR, "auth-overhead.svg"), overheadSvg);
}

function logOverhead(results: VariantResult[]): void {
  const base = results[0]!;
  console.info(
    "\n  variant | p50 | p95 | p99 | req/s | app CPU/req | DB CPU/req | +p50 | +p99 | 1 client p50 / p99 (ms)",
  );
  for (const r of results) {
    console.info(
      `  ${r.name} | ${r.latency.p50} | ${r.latency.p95} | ${r.latency.p99} | ${r.perSecond} | ${r.appCpuMs} | ${r.databaseCpuMs ?? "n/a"} | ${(r.latency.p50 - base.latency.p50).toFixed(1)} | ${(r.latency.p99 - base.latency.p99).toFixed(1)} | ${r.single.p50} / ${r.single.p99}`,
    );
    console.info(`    rounds p50 ${r.roundP50s.join(" / ")}; p99 ${r.roundP99s.join(" / ")}`);
  }
}

const benchmark: Benchmark = {
  name: "auth",
  title: "Identity and access: sign-in cost and authentication overhead",
  async run() {
    const database = await startBenchDatabase();
    const { owner } = database;
    let standin: UpstashRedisStandin | undefined;
    let standinError: string | undefined;
    try {
      const f: Fixture = {
        owner,
        db: database.db,
        dbProcess: database,
        tenantId: await createTenant(owner, "bench-auth"),
      };
      // Patients in the measured tenant and in another one: the count proves RLS scoped it.
      const other = await createTenant(owner, "bench-auth-other");
      for (const tenantId of [f.tenantId, other]) {
        await owner`insert into medchr.patients (tenant_id, given_name, family_name)
          select ${tenantId}, 'Given', 'Family ' || g from generate_series(1, ${PATIENTS}) g`;
      }

      console.info(`  sign-in: ${LOGINS} sequential sign-ins (bcrypt cost 12 + TOTP)...`);
      const login = await measureLogins(f);
      console.info(
        `  sign-in CPU p50 ${login.fullCpu.p50} ms (login ${login.loginCpu.p50} + verify ${login.verifyCpu.p50}), p99 ${login.fullCpu.p99} ms; bcrypt alone p50 ${login.bcryptCpu.p50} ms; DB engine ${login.databaseCpuMs ?? "n/a"} ms; wall p50 ${login.wall.p50} ms`,
      );

      try {
        standin = await startUpstashRedisStandin({
          token: randomBytes(24).toString("base64url"),
          spawn: true,
        });
      } catch (error) {
        standinError = error instanceof Error ? error.message : String(error);
      }
      const sessions = await sessionsPerClient(owner, f.db, f.tenantId, CLIENTS);
      // Default key limit of 600 a minute: the whole run sends each key well under that,
      // so nothing is refused.
      const keys = await apiKeysPerClient(owner, f.tenantId, CLIENTS, { scopes: ["read"] });
      const pgEnv = testEnv(database.url);
      const keyHeaders = (client: number) => ({ Authorization: keys[client]!.headers.Authorization! });
      const variants: Variant[] = [
        {
          name: "public (no auth)",
          group: "yardstick: no auth",
          path: "/bench/public",
          env: pgEnv,
          headers: () => ({}),
        },
        {
          name: "session cookie",
          group: "session",
          path: "/bench/protected",
          env: pgEnv,
          headers: (client) => ({ Cookie: sessions[client]!.cookie }),
        },
        {
          name: "API key, Postgres limiter",
          group: "API key",
          path: "/bench/protected",
          env: pgEnv,
          headers: keyHeaders,
        },
        ...(standin
          ? [
              {
                name: "API key, Upstash limiter",
                group: "API key",
                path: "/bench/protected",
                env: testEnv(database.url, {
                  UPSTASH_REDIS_REST_URL: standin.url,
                  UPSTASH_REDIS_REST_TOKEN: standin.token,
                }),
                headers: keyHeaders,
              },
            ]
          : []),
      ];
      console.info(
        `  overhead: ${variants.length} variants x ${REQUESTS_PER_VARIANT} requests, ${CLIENTS} clients, ${ROUNDS} interleaved rounds...`,
      );
      const overhead = await measureOverhead(f, variants);
      logOverhead(overhead);
      await writeCharts(login, overhead);
      console.info("  wrote doc/bench/auth-login.svg and doc/bench/auth-overhead.svg");

      const PANEL_CONCURRENT = `GET reading one row in withTenant, ${CLIENTS} concurrent clients`;
      const cases: BenchCase[] = [
        ...overhead.map((v) => ({
          name: v.name,
          group: v.group,
          panel: PANEL_CONCURRENT,
          ops: v.requests,
          ms: v.ms,
          perSecond: v.perSecond,
        })),
        {
          name: "sign-in: login + MFA verify",
          group: "sign-in",
          panel: "Sequential sign-ins (2 requests each, bcrypt cost 12)",
          ops: LOGINS * 2,
          ms: Math.round(login.totalMs),
          perSecond: Math.round(((LOGINS * 2 * 1000) / login.totalMs) * 10) / 10,
        },
      ];
      const base = overhead[0]!;
      const result = {
        unit: "requests",
        cases,
        notes: [
          "Sign-in CPU is process.cpuUsage() (user + system) of the application process around each request; the PGlite engine runs in a child process and its CPU (from /proc) is reported apart, as the database's share.",
          `Sign-ins are sequential, each user once (a TOTP step can be used once per user), ${LOGINS} measured after ${WARMUP_LOGINS} warm-up; p99 of ${LOGINS} samples is close to the slowest.`,
          "Overhead: the same handler (count the tenant's patients in one withTenant transaction) public with a fixed tenant, then as a protectedRoute (patient.read) with a session cookie or an API key; overhead = authenticated minus public, at the same percentile.",
          `${CLIENTS} clients, each with its own session or API key, ${REQUESTS_PER_VARIANT} requests per variant in ${ROUNDS} interleaved rounds after ${WARMUP_REQUESTS} warm-up; every answer is checked (200 and the tenant's count). Then ${SINGLE_CLIENT_REQUESTS} requests per variant from one client alone: the overhead without a queue.`,
          "Each request opens its own database connection (one client per request, as in a Worker), in every variant.",
          "PGlite is one single-threaded Postgres engine and runs one transaction at a time (ADR 0003): 25 clients queue on it, so latencies are dominated by that queue and grow with the number of transactions a request makes; on managed Postgres the transactions of different requests run in parallel.",
          ...(standin
            ? [
                "The Upstash variant uses the local Upstash REST stand-in in front of redis-server, on loopback; the stand-in's HTTP server runs in this process, so its CPU is inside that variant's application CPU.",
              ]
            : [`Upstash variant skipped: the stand-in did not start (${standinError ?? "unknown"}).`]),
        ],
        setup: {
          logins: LOGINS,
          warmupLogins: WARMUP_LOGINS,
          bcryptSamples: BCRYPT_SAMPLES,
          clients: CLIENTS,
          requestsPerVariant: REQUESTS_PER_VARIANT,
          rounds: ROUNDS,
          warmupRequests: WARMUP_REQUESTS,
          database: `PGlite ${packageVersion("@electric-sql/pglite")} in a child process via @electric-sql/pglite-socket, postgres.js (prepare off), one connection per request`,
          bcryptjs: packageVersion("bcryptjs"),
          mode: "APP_ENV=test (non-strict): same login and MFA path, rate limits on",
        },
        // Extra detail for bench-results/auth.json (the harness spreads the result into it).
        login,
        overhead: overhead.map((v) => ({
          ...v,
          overheadP50Ms: Math.round((v.latency.p50 - base.latency.p50) * 100) / 100,
          overheadP99Ms: Math.round((v.latency.p99 - base.latency.p99) * 100) / 100,
          overheadCpuMs: Math.round((v.appCpuMs - base.appCpuMs) * 100) / 100,
          overheadSingleClientP50Ms: Math.round((v.single.p50 - base.single.p50) * 100) / 100,
        })),
      };
      return result;
    } finally {
      await standin?.stop();
      await database.stop();
    }
  },
};

export default benchmark;
