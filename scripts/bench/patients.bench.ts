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
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { registerPatientRoutes } from "../../functions/api/routes/patients";
import { createFunctionApp } from "../../shared/http/create-app";
import { encodePatientCursor } from "../../shared/patients/patient-cursor";
import { CURSOR_TIMESTAMP_FORMAT } from "../../shared/patients/patient-view";
import { createTenant } from "../../test/helpers/test-database";
import { testEnv } from "../../test/helpers/test-env";
import type { BenchCase, Benchmark } from "./benchmark";
import { apiKeysPerClient, sessionsPerClient } from "./lib/credentials";
import { startBenchDatabase } from "./lib/database-process";
import { CHARTS_DIR, chartSubtitle, packageVersion } from "./lib/environment";
import { type Latency, latencyOf, PooledLatencies } from "./lib/latency";
import { interleavedRounds, runClients } from "./lib/run-clients";
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

async function requestAll(
  app: App,
  env: Record<string, unknown>,
  query: Query,
  credential: Credential,
  total: number,
  offset: number,
  clients = CLIENTS,
): Promise<number[]> {
  const latencies: number[] = [];
  await runClients(clients, total, async (client, i) => {
    const headers = { "CF-Connecting-IP": `198.51.100.${client + 1}`, ...credential.headers(client) };
    const path = `/api/v1/patients?${query.query(offset + i)}`;
    const started = performance.now();
    const res = await app.request(path, { headers }, env);
    const body = (await res.json()) as { patients: unknown[]; nextCursor: string | null };
    latencies.push(performance.now() - started);
    if (res.status !== 200 || !query.check(body)) {
      throw new Error(`${credential.name} / ${query.name}: status ${res.status}, unexpected answer`);
    }
  });
  return latencies;
}

const benchmark: Benchmark = {
  name: "patients",
  title: `Patients: list and search with ${PATIENTS.toLocaleString("en-US")} patients, ${CLIENTS} concurrent clients`,
  async run() {
    const database = await startBenchDatabase();
    const { owner, db } = database;
    try {
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
      const keys = await apiKeysPerClient(owner, tenantId, CLIENTS, {
        scopes: ["read"],
        ratePerMinute: 100_000,
      });
      const sessions = await sessionsPerClient(owner, db, tenantId, CLIENTS);
      const credentials: Credential[] = [
        { name: "API key", headers: (c) => ({ Authorization: keys[c]!.headers.Authorization! }) },
        { name: "session", headers: (c) => ({ Cookie: sessions[c]!.cookie }) },
      ];

      const app = buildApp();
      const env = testEnv(database.url);
      const variants = credentials.flatMap((credential) => queries.map((query) => ({ credential, query })));
      for (const v of variants) await requestAll(app, env, v.query, v.credential, WARMUP_REQUESTS, 0);

      const acc = variants.map(() => new PooledLatencies());
      const perRound = REQUESTS_PER_CASE / ROUNDS;
      await interleavedRounds(variants.length, ROUNDS, 3, async (index, round) => {
        const v = variants[index]!;
        const started = performance.now();
        const latencies = await requestAll(app, env, v.query, v.credential, perRound, round * perRound);
        acc[index]!.add(latencies, performance.now() - started);
      });

      const single: Latency[] = [];
      for (const v of variants)
        single.push(
          latencyOf(await requestAll(app, env, v.query, v.credential, SINGLE_CLIENT_REQUESTS, 0, 1)),
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
          perSecond: a.perSecond(),
          credential: v.credential.name,
          query: v.query.name,
          p50Ms: latency.p50,
          p99Ms: latency.p99,
          maxMs: latency.max,
          roundP50s: a.roundP50s,
          roundP99s: a.roundP99s,
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
          subtitle: chartSubtitle("patients"),
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
      await database.stop();
    }
  },
};

export default benchmark;
