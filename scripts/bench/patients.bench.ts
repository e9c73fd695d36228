/**
 * Patient list and search with 10,000 patients in the tenant (issue 4 acceptance): p50/p99
 * latency and throughput of GET /api/v1/patients under 25 concurrent clients, through the
 * real route stack (app.request: request id, security headers, config, authentication,
 * rate limit, validation, one RLS transaction with the query and the patient.list audit
 * append), once with API keys and once with browser sessions.
 *
 * Cases: the first page; a deep page (cursor at row 9,000: keyset, so no OFFSET work);
 * a name prefix; an exact MRN; an exact date of birth. Every answer is checked (200 and a
 * plausible result) so an error page is never timed as a success.
 *
 * PGlite runs in a child process reached over its socket, as the database is reached in
 * production: the engine's work does not stall this process's event loop. Besides the
 * harness's JSON and rate chart, writes doc/bench/patients-latency.svg (p50/p99).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { cpus, platform, release } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { pathToFileURL } from "node:url";
import { registerPatientRoutes } from "../../functions/api/routes/patients";
import { connect, databaseFromSql } from "../../shared/db/database";
import { applyMigrations } from "../../shared/db/migrate";
import { createFunctionApp } from "../../shared/http/create-app";
import { encodePatientCursor } from "../../shared/patients/patient-cursor";
import { CURSOR_TIMESTAMP_FORMAT } from "../../shared/patients/patient-view";
import {
  createApiKey,
  createUser,
  signIn,
  type TestApiKey,
  type TestSession,
} from "../../test/helpers/identity";
import { createTenant } from "../../test/helpers/test-database";
import { testEnv } from "../../test/helpers/test-env";
import { REPO_ROOT, readMigrations } from "../lib/migrations-dir";
import type { BenchCase, Benchmark } from "./benchmark";
import { renderBarChart } from "./svg-chart";

/** The acceptance criterion's tenant size and concurrency. */
const PATIENTS = 10_000;
const CLIENTS = 25;
/** Per case, pooled over ROUNDS interleaved rounds so a noisy spell hits every case alike. */
const REQUESTS_PER_CASE = 600;
const ROUNDS = 3;
const WARMUP_REQUESTS = 100;
/** One client alone, per case: the cost of a request without PGlite's queue in front of it. */
const SINGLE_CLIENT_REQUESTS = 100;
/** The deep page starts after this many patients. */
const DEEP_OFFSET = 9_000;
const PAGE = 25;

const CHARTS_DIR = join(REPO_ROOT, "doc", "bench");

// Synthetic names (no real people): 40 given x 60 family names, spread evenly.
const GIVEN = (
  "Aaliyah Ben Carla Dmitri Elena Farid Grace Hiro Ines Jonas Kemal Lena Marco Nadia Omar " +
  "Paula Quentin Rosa Samir Tara Umberto Vera Wen Ximena Yusuf Zoe Anton Bianca Cyril Dana " +
  "Emil Freya Gustav Hanna Ivan Julia Karl Lucia Milan Nora"
).split(" ");
const FAMILY = (
  "Abbott Baker Castro Dalton Evans Fischer Garcia Hughes Ibsen Jensen Kowalski Larsen Moreau " +
  "Novak Okafor Petrov Quinn Rossi Schmidt Tanaka Ueda Varga Weber Xu Yilmaz Zimmermann " +
  "Andersen Bauer Costa Duarte Eriksen Ferreira Gomez Horvat Iqbal Jovanovic Kim Lopez Meyer " +
  "Nielsen Olsen Popescu Rahman Santos Torres Ulrich Vasquez Wagner Young Zhang Marsh Martin " +
  "Mason Matthews Maxwell Mayer McCarthy Mendes Miller Mitchell"
).split(" ");
/** Name prefixes searched: 3 letters, as typed into a search box; some hit one name, "Ma"/"Mi" several. */
const PREFIXES = ["sch", "mar", "mil", "kow", "ros", "tan", "gar", "jen", "wag", "mey", "ben", "lu"];

// ---------------------------------------------------------------------------------------
// PGlite in a child process

interface DatabaseProcess {
  url: string;
  ownerUrl: string;
  stop(): Promise<void>;
}

/** scripts/local/pglite-server.ts in its own Node process; it stops when its stdin closes. */
async function startDatabaseProcess(): Promise<DatabaseProcess> {
  const server = pathToFileURL(join(REPO_ROOT, "scripts", "local", "pglite-server.ts")).href;
  const code = [
    `const { startLocalPostgres } = await import(${JSON.stringify(server)});`,
    "const pg = await startLocalPostgres();",
    "process.stdout.write(JSON.stringify({ url: pg.url, ownerUrl: pg.ownerUrl }) + '\\n');",
    "process.stdin.on('end', () => pg.stop().finally(() => process.exit(0)));",
    "process.stdin.resume();",
  ].join("\n");
  const child: ChildProcess = spawn(
    process.execPath,
    ["--import", "tsx", "--input-type=module", "-e", code],
    {
      cwd: REPO_ROOT,
      stdio: ["pipe", "pipe", "inherit"],
    },
  );
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const first = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once("line", (line) => {
      lines.close();
      resolve(line);
    });
    child.once("exit", (status) => reject(new Error(`PGlite process exited early (${status})`)));
  });
  const { url, ownerUrl } = JSON.parse(first) as { url: string; ownerUrl: string };
  return {
    url,
    ownerUrl,
    async stop() {
      child.stdin!.end();
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

// ---------------------------------------------------------------------------------------
// Statistics

/** Nearest rank: the smallest sample with at least q of the samples at or below it. */
function percentile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

interface Latency {
  p50: number;
  p99: number;
  max: number;
}

function latencyOf(samples: readonly number[]): Latency {
  const sorted = [...samples].sort((a, b) => a - b);
  const round = (v: number) => Math.round(v * 10) / 10;
  return {
    p50: round(percentile(sorted, 0.5)),
    p99: round(percentile(sorted, 0.99)),
    max: round(sorted[sorted.length - 1]!),
  };
}

// ---------------------------------------------------------------------------------------
// Cases

interface Query {
  name: string;
  /** The query string of request `i`. */
  query(i: number): string;
  /** Whether the answer is plausible (a wrong filter must not be timed as a fast search). */
  check(body: { patients: unknown[]; nextCursor: string | null }): boolean;
}

interface Credential {
  name: string;
  headers(client: number): Record<string, string>;
}

interface CaseResult extends BenchCase {
  credential: string;
  query: string;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  roundP50s: number[];
  roundP99s: number[];
  /** One client alone: no queue. */
  singleP50Ms: number;
  singleP99Ms: number;
}

type App = ReturnType<typeof buildApp>;

/** The api function's stack with the patients routes, as functions/api/app.ts wires them. */
function buildApp() {
  const app = createFunctionApp("api", { usesDatabase: true });
  registerPatientRoutes(app);
  return app;
}

async function runClients(
  app: App,
  env: Record<string, unknown>,
  query: Query,
  credential: Credential,
  total: number,
  offset: number,
  clients = CLIENTS,
): Promise<number[]> {
  const latencies: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: clients }, async (_, client) => {
      const headers = { "CF-Connecting-IP": `198.51.100.${client + 1}`, ...credential.headers(client) };
      // Each client takes the next request until none are left: all stay busy to the end.
      for (let i = next++; i < total; i = next++) {
        const path = `/api/v1/patients?${query.query(offset + i)}`;
        const started = performance.now();
        const res = await app.request(path, { headers }, env);
        const body = (await res.json()) as { patients: unknown[]; nextCursor: string | null };
        latencies.push(performance.now() - started);
        if (res.status !== 200 || !query.check(body)) {
          throw new Error(`${credential.name} / ${query.name}: status ${res.status}, unexpected answer`);
        }
      }
    }),
  );
  return latencies;
}

function machine(): string {
  const cpu = cpus();
  return `${cpu.length} x ${cpu[0]?.model.trim() ?? "unknown CPU"}, ${platform()} ${release()}, Node ${process.versions.node}`;
}

function packageVersion(name: string): string {
  const manifest = join(REPO_ROOT, "node_modules", ...name.split("/"), "package.json");
  return (JSON.parse(readFileSync(manifest, "utf8")) as { version: string }).version;
}

const benchmark: Benchmark = {
  name: "patients",
  title: `Patients: list and search with ${PATIENTS.toLocaleString("en-US")} patients, ${CLIENTS} concurrent clients`,
  async run() {
    const dbProcess = await startDatabaseProcess();
    const owner = connect(dbProcess.ownerUrl, { max: 4 });
    const appSql = connect(dbProcess.url, { max: 8 });
    try {
      await applyMigrations(owner, await readMigrations());
      const db = databaseFromSql(appSql);
      const tenantId = await createTenant(owner, "bench-patients");
      const otherTenant = await createTenant(owner, "bench-patients-other");

      // One statement per tenant. created_at one minute apart, as if entered over a week;
      // dates of birth spread over 1930..2012; MRNs unique.
      const seedStarted = performance.now();
      for (const [tenant, count] of [
        [tenantId, PATIENTS],
        [otherTenant, 2_000],
      ] as const) {
        await owner`
          insert into medchr.patients (tenant_id, mrn, given_name, family_name, date_of_birth, sex, contact,
            lifestyle, created_at)
          select ${tenant}, 'MRN-' || lpad(g::text, 7, '0'),
            (${owner.json(GIVEN)}::jsonb ->> ((g * 7) % ${GIVEN.length})),
            (${owner.json(FAMILY)}::jsonb ->> ((g * 13) % ${FAMILY.length})),
            date '1930-01-01' + ((g * 7919) % 30000),
            (array['female', 'male', 'other', 'unknown'])[1 + g % 4],
            jsonb_build_object('phone', '+1 555 ' || lpad((g % 10000)::text, 4, '0')),
            jsonb_build_object('smoking', 'never'),
            now() - make_interval(mins => ${count} - g)
          from generate_series(1, ${count}) g`;
      }
      await owner`analyze medchr.patients`;
      const seedMs = Math.round(performance.now() - seedStarted);
      console.info(
        `  seeded ${PATIENTS.toLocaleString("en-US")} patients (+2,000 in another tenant) in ${seedMs} ms`,
      );

      // What the searches look for: existing MRNs and dates of birth of the measured tenant.
      const dobs = (
        await owner<{ dob: string }[]>`
          select distinct date_of_birth::text as dob from medchr.patients where tenant_id = ${tenantId}
          order by 1 limit 500`
      ).map((r) => r.dob);
      const [deep] = await owner<{ id: string; created_at: string }[]>`
        select id, to_char(created_at at time zone 'UTC', ${CURSOR_TIMESTAMP_FORMAT}) as created_at
        from medchr.patients where tenant_id = ${tenantId}
        order by created_at, id offset ${DEEP_OFFSET - 1} limit 1`;
      const deepCursor = encodePatientCursor({ createdAt: deep!.created_at, id: deep!.id });

      const queries: Query[] = [
        {
          name: "first page",
          query: () => `limit=${PAGE}`,
          check: (b) => b.patients.length === PAGE && b.nextCursor !== null,
        },
        {
          name: `page at row ${DEEP_OFFSET.toLocaleString("en-US")}`,
          query: () => `limit=${PAGE}&cursor=${deepCursor}`,
          check: (b) => b.patients.length === PAGE,
        },
        {
          name: "name prefix",
          query: (i) => `q=${PREFIXES[i % PREFIXES.length]}&limit=${PAGE}`,
          check: (b) => b.patients.length > 0,
        },
        {
          name: "MRN",
          query: (i) => `mrn=MRN-${String(1 + ((i * 7919) % PATIENTS)).padStart(7, "0")}`,
          check: (b) => b.patients.length === 1,
        },
        {
          name: "date of birth",
          query: (i) => `dateOfBirth=${dobs[i % dobs.length]}`,
          check: (b) => b.patients.length >= 1,
        },
      ];

      // One API key and one signed-in clinician per client, as 25 partner integrations or
      // 25 people would call. The key limit is raised so the run is never rate limited.
      const keys: TestApiKey[] = [];
      for (let i = 0; i < CLIENTS; i++)
        keys.push(await createApiKey(owner, tenantId, { scopes: ["read"], ratePerMinute: 100_000 }));
      const sessions: TestSession[] = [];
      for (let i = 0; i < CLIENTS; i++) sessions.push(await signIn(db, await createUser(owner, tenantId)));
      const credentials: Credential[] = [
        { name: "API key", headers: (c) => ({ Authorization: keys[c]!.headers.Authorization! }) },
        { name: "session", headers: (c) => ({ Cookie: sessions[c]!.cookie }) },
      ];

      const app = buildApp();
      const env = testEnv(dbProcess.url);
      const variants = credentials.flatMap((credential) => queries.map((query) => ({ credential, query })));
      for (const v of variants) await runClients(app, env, v.query, v.credential, WARMUP_REQUESTS, 0);

      const acc = variants.map(() => ({
        latencies: [] as number[],
        ms: 0,
        p50s: [] as number[],
        p99s: [] as number[],
      }));
      const perRound = REQUESTS_PER_CASE / ROUNDS;
      for (let round = 0; round < ROUNDS; round++) {
        for (let k = 0; k < variants.length; k++) {
          // Rotate the order each round: no case always runs first (or after the slowest).
          const index = (k + round * 3) % variants.length;
          const v = variants[index]!;
          const a = acc[index]!;
          const started = performance.now();
          const latencies = await runClients(app, env, v.query, v.credential, perRound, round * perRound);
          a.ms += performance.now() - started;
          a.latencies.push(...latencies);
          const spread = latencyOf(latencies);
          a.p50s.push(spread.p50);
          a.p99s.push(spread.p99);
        }
      }

      const single: Latency[] = [];
      for (const v of variants)
        single.push(
          latencyOf(await runClients(app, env, v.query, v.credential, SINGLE_CLIENT_REQUESTS, 0, 1)),
        );

      const cases: CaseResult[] = variants.map((v, i) => {
        const a = acc[i]!;
        const latency = latencyOf(a.latencies);
        return {
          name: `${v.query.name} (${v.credential.name})`,
          group: v.credential.name,
          panel: v.query.name,
          ops: a.latencies.length,
          ms: Math.round(a.ms),
          perSecond: Math.round((a.latencies.length * 1000) / a.ms),
          credential: v.credential.name,
          query: v.query.name,
          p50Ms: latency.p50,
          p99Ms: latency.p99,
          maxMs: latency.max,
          roundP50s: a.p50s,
          roundP99s: a.p99s,
          singleP50Ms: single[i]!.p50,
          singleP99Ms: single[i]!.p99,
        };
      });
      for (const c of cases)
        console.info(
          `  ${c.name}: p50 ${c.p50Ms} ms, p99 ${c.p99Ms} ms, ${c.perSecond} requests/s; one client alone p50 ${c.singleP50Ms} ms, p99 ${c.singleP99Ms} ms`,
        );

      await mkdir(CHARTS_DIR, { recursive: true });
      await writeFile(
        join(CHARTS_DIR, "patients-latency.svg"),
        renderBarChart({
          title: `Patients: list and search latency, ${PATIENTS.toLocaleString("en-US")} patients, ${CLIENTS} concurrent clients`,
          subtitle: `${machine()}; ${new Date().toISOString().slice(0, 10)}; npm run bench -- --only patients`,
          unit: "ms",
          panels: credentials.map((credential) => ({
            title: `${credential.name}: p50 and p99 per request (lower is better)`,
            bars: cases
              .filter((c) => c.credential === credential.name)
              .flatMap((c) => [
                { label: `${c.query}, p50`, value: c.p50Ms, group: `p50, ${CLIENTS} clients` },
                { label: `${c.query}, p99`, value: c.p99Ms, group: `p99, ${CLIENTS} clients` },
                { label: `${c.query}, p50 alone`, value: c.singleP50Ms, group: "p50, one client alone" },
              ]),
          })),
        }),
      );
      console.info("  wrote doc/bench/patients-latency.svg");

      return {
        unit: "requests",
        cases,
        notes: [
          ...cases.map(
            (c) =>
              `${c.name}: p50 ${c.p50Ms} ms, p99 ${c.p99Ms} ms (max ${c.maxMs} ms) at ${CLIENTS} clients; one client alone p50 ${c.singleP50Ms} ms, p99 ${c.singleP99Ms} ms.`,
          ),
          `${CLIENTS} clients, each with its own API key (read scope) or clinician session, ${REQUESTS_PER_CASE} requests per case in ${ROUNDS} interleaved rounds after ${WARMUP_REQUESTS} warm-up requests per case; every answer is checked. Then ${SINGLE_CLIENT_REQUESTS} requests per case from one client alone: the cost of one request without a queue.`,
          "A request is the whole api stack through app.request: authentication (API key: HMAC look-up + Postgres rate-limit bucket; session: hashed-token look-up), then one RLS transaction holding the query and the patient.list audit append (per-tenant hash chain). All 25 clients write to the same tenant's audit chain, its worst case.",
          "Each request opens its own database connection (one client per request, as in a Worker without Hyperdrive).",
          "PGlite is one single-threaded Postgres engine and runs one transaction at a time (ADR 0003): the 25 clients queue on it, so p50/p99 here are mostly queueing behind other requests' transactions (about 3 per request), not query time; on managed Postgres the transactions of different requests run in parallel. Compare cases with each other, not with production.",
          `The tenant holds ${PATIENTS.toLocaleString("en-US")} patients and another tenant 2,000 (RLS keeps them out of every answer). Keyset pagination: the page after row ${DEEP_OFFSET.toLocaleString("en-US")} is one index range scan, like the first.`,
        ],
        setup: {
          patients: PATIENTS,
          clients: CLIENTS,
          requestsPerCase: REQUESTS_PER_CASE,
          rounds: ROUNDS,
          warmupRequests: WARMUP_REQUESTS,
          singleClientRequests: SINGLE_CLIENT_REQUESTS,
          pageSize: PAGE,
          seedMs,
          database: `PGlite ${packageVersion("@electric-sql/pglite")} in a child process via @electric-sql/pglite-socket, postgres.js (prepare off), one connection per request`,
        },
      };
    } finally {
      await appSql.end({ timeout: 1 });
      await owner.end({ timeout: 1 });
      await dbProcess.stop();
    }
  },
};

export default benchmark;
