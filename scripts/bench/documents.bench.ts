/**
 * Document upload round trip (issue 4 acceptance): presign + PUT + register, p50/p99 at 25
 * concurrent clients, small PDF. Each round trip is what a partner integration does:
 *
 *   1. POST /api/v1/patients/{id}/documents/presign-upload  (api: auth, RLS transaction,
 *      storage function -> Supabase signed upload URL, intent row + audit event)
 *   2. PUT the bytes to the signed URL                       (straight to the storage service)
 *   3. POST .../register-upload                              (api: intent check, stream the
 *      object back through the storage function: magic bytes, SHA-256, size; one transaction
 *      with the document row, the intent consumed and the audit event)
 *
 * Everything runs for real on this machine: the api routes through app.request, the storage
 * function app as the STORAGE binding, the Supabase Storage stand-in over HTTP with objects on
 * disk, and PGlite in a child process (so the engine does not stall this event loop).
 * Besides the harness's JSON and rate chart, writes doc/bench/documents-latency.svg.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { cpus, platform, release } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { pathToFileURL } from "node:url";
import { buildDocumentsTestApp, SAMPLES } from "../../functions/api/routes/documents/testing";
import { buildStorageApp } from "../../functions/storage/app";
import { connect } from "../../shared/db/database";
import { applyMigrations } from "../../shared/db/migrate";
import { createApiKey, type TestApiKey } from "../../test/helpers/identity";
import { createTenant } from "../../test/helpers/test-database";
import { testEnv } from "../../test/helpers/test-env";
import { REPO_ROOT, readMigrations } from "../lib/migrations-dir";
import { startTestStorageStandin } from "../local/supabase-storage/testing";
import type { BenchCase, Benchmark } from "./benchmark";
import { renderBarChart } from "./svg-chart";

/** The acceptance criterion's concurrency. */
const CLIENTS = 25;
const ROUND_TRIPS = 500;
const WARMUP_ROUND_TRIPS = 50;
/** One client alone: the cost of a round trip without a queue in front of PGlite. */
const SINGLE_CLIENT_ROUND_TRIPS = 60;
/** "Small PDF": a one-page text PDF is 10-50 KB. */
const PDF_BYTES = SAMPLES.pdf(30_000);

const CHARTS_DIR = join(REPO_ROOT, "doc", "bench");
const STEPS = ["presign", "PUT", "register", "round trip"] as const;
type Step = (typeof STEPS)[number];

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

type Samples = Record<Step, number[]>;
const emptySamples = (): Samples => ({ presign: [], PUT: [], register: [], "round trip": [] });

function machine(): string {
  const cpu = cpus();
  return `${cpu.length} x ${cpu[0]?.model.trim() ?? "unknown CPU"}, ${platform()} ${release()}, Node ${process.versions.node}`;
}

function packageVersion(name: string): string {
  const manifest = join(REPO_ROOT, "node_modules", ...name.split("/"), "package.json");
  return (JSON.parse(readFileSync(manifest, "utf8")) as { version: string }).version;
}

const benchmark: Benchmark = {
  name: "documents",
  title: `Documents: presign + PUT + register round trip, ${CLIENTS} concurrent clients, ${Math.round(PDF_BYTES.length / 1024)} KB PDF`,
  async run() {
    const dbProcess = await startDatabaseProcess();
    const standin = await startTestStorageStandin();
    const owner = connect(dbProcess.ownerUrl, { max: 4 });
    try {
      await applyMigrations(owner, await readMigrations());
      const tenantId = await createTenant(owner, "bench-documents");
      const [patient] = await owner<{ id: string }[]>`
        insert into medchr.patients (tenant_id, given_name, family_name, mrn)
        values (${tenantId}, 'Bench', 'Patient', 'MRN-BENCH-1') returning id`;
      const patientId = patient!.id;
      // One key per client, as 25 partner integrations would call; limits raised so the run
      // measures the upload path, not the rate limiter's refusals.
      const keys: TestApiKey[] = [];
      for (let i = 0; i < CLIENTS; i++) {
        keys.push(await createApiKey(owner, tenantId, { scopes: ["read", "write"], ratePerMinute: 100_000 }));
      }

      const internalToken = randomBytes(32).toString("base64url");
      const storageApp = buildStorageApp();
      const storageEnv = {
        APP_ENV: "test",
        HIPAA_MODE: "false",
        SUPABASE_URL: standin.url,
        SUPABASE_SERVICE_ROLE_KEY: standin.serviceRoleKey,
        SUPABASE_STORAGE_BUCKET: standin.bucket,
        STORAGE_INTERNAL_TOKEN: internalToken,
      };
      const env = testEnv(dbProcess.url, {
        STORAGE: { fetch: (request: Request) => Promise.resolve(storageApp.fetch(request, storageEnv)) },
        STORAGE_INTERNAL_TOKEN: internalToken,
      });
      const app = buildDocumentsTestApp();
      const base = `/api/v1/patients/${patientId}/documents`;

      async function roundTrip(client: number, samples: Samples): Promise<void> {
        const headers = {
          Authorization: keys[client]!.headers.Authorization!,
          "Content-Type": "application/json",
          "CF-Connecting-IP": `198.51.100.${client + 1}`,
        };
        const t0 = performance.now();
        const presignRes = await app.request(
          `${base}/presign-upload`,
          {
            method: "POST",
            headers,
            body: JSON.stringify({
              filename: "lab.pdf",
              contentType: "application/pdf",
              size: PDF_BYTES.length,
            }),
          },
          env,
        );
        const presigned = (await presignRes.json()) as { uploadId: string; uploadUrl: string };
        if (presignRes.status !== 201) throw new Error(`presign: ${presignRes.status}`);
        const t1 = performance.now();
        const put = await fetch(presigned.uploadUrl, {
          method: "PUT",
          headers: { "Content-Type": "application/pdf" },
          body: PDF_BYTES,
        });
        await put.arrayBuffer();
        if (put.status !== 200) throw new Error(`PUT: ${put.status}`);
        const t2 = performance.now();
        const registerRes = await app.request(
          `${base}/register-upload`,
          { method: "POST", headers, body: JSON.stringify({ uploadId: presigned.uploadId }) },
          env,
        );
        const registered = (await registerRes.json()) as { document?: { sizeBytes: number } };
        if (registerRes.status !== 201 || registered.document?.sizeBytes !== PDF_BYTES.length) {
          throw new Error(`register: ${registerRes.status}`);
        }
        const t3 = performance.now();
        samples.presign.push(t1 - t0);
        samples.PUT.push(t2 - t1);
        samples.register.push(t3 - t2);
        samples["round trip"].push(t3 - t0);
      }

      async function runClients(total: number, clients: number): Promise<{ samples: Samples; ms: number }> {
        const samples = emptySamples();
        let next = 0;
        const started = performance.now();
        await Promise.all(
          Array.from({ length: clients }, async (_, client) => {
            for (let i = next++; i < total; i = next++) await roundTrip(client, samples);
          }),
        );
        return { samples, ms: performance.now() - started };
      }

      await runClients(WARMUP_ROUND_TRIPS, CLIENTS);
      const loaded = await runClients(ROUND_TRIPS, CLIENTS);
      const alone = await runClients(SINGLE_CLIENT_ROUND_TRIPS, 1);

      const stats = (s: Samples) =>
        Object.fromEntries(STEPS.map((step) => [step, latencyOf(s[step])])) as Record<Step, Latency>;
      const atLoad = stats(loaded.samples);
      const single = stats(alone.samples);
      for (const step of STEPS) {
        console.info(
          `  ${step}: p50 ${atLoad[step].p50} ms, p99 ${atLoad[step].p99} ms at ${CLIENTS} clients; one client alone p50 ${single[step].p50} ms, p99 ${single[step].p99} ms`,
        );
      }

      const cases: BenchCase[] = [
        {
          name: `${CLIENTS} clients`,
          group: "round trips",
          panel: "presign + PUT + register round trips per second",
          ops: ROUND_TRIPS,
          ms: Math.round(loaded.ms),
          perSecond: Math.round((ROUND_TRIPS * 1000) / loaded.ms),
        },
        {
          name: "1 client",
          group: "round trips",
          panel: "presign + PUT + register round trips per second",
          ops: SINGLE_CLIENT_ROUND_TRIPS,
          ms: Math.round(alone.ms),
          perSecond: Math.round((SINGLE_CLIENT_ROUND_TRIPS * 1000) / alone.ms),
        },
      ];

      await mkdir(CHARTS_DIR, { recursive: true });
      await writeFile(
        join(CHARTS_DIR, "documents-latency.svg"),
        renderBarChart({
          title: `Documents: upload round trip latency, ${CLIENTS} concurrent clients (lower is better)`,
          subtitle: `${machine()}; ${new Date().toISOString().slice(0, 10)}; npm run bench -- --only documents`,
          unit: "ms",
          panels: [
            {
              title: `p50 and p99 per step at ${CLIENTS} clients, and p50 of one client alone`,
              bars: STEPS.flatMap((step) => [
                { label: `${step}, p50`, value: atLoad[step].p50, group: `p50, ${CLIENTS} clients` },
                { label: `${step}, p99`, value: atLoad[step].p99, group: `p99, ${CLIENTS} clients` },
                { label: `${step}, p50 alone`, value: single[step].p50, group: "p50, one client alone" },
              ]),
            },
          ],
        }),
      );
      console.info("  wrote doc/bench/documents-latency.svg");

      return {
        unit: "round trips",
        cases,
        notes: [
          ...STEPS.map(
            (step) =>
              `${step}: p50 ${atLoad[step].p50} ms, p99 ${atLoad[step].p99} ms (max ${atLoad[step].max} ms) at ${CLIENTS} clients; one client alone p50 ${single[step].p50} ms, p99 ${single[step].p99} ms.`,
          ),
          `${CLIENTS} clients, each with its own API key, ${ROUND_TRIPS} round trips after ${WARMUP_ROUND_TRIPS} warm-up ones; then ${SINGLE_CLIENT_ROUND_TRIPS} from one client alone. Every answer is checked (201, registered size).`,
          `A round trip is the partner flow for one ${PDF_BYTES.length}-byte PDF: presign (api), PUT to the signed URL (storage service), register (api: the object is streamed back for magic bytes, SHA-256 and size). No virus scan (CLAMD_HOST unset): clamd's own scan time is not ours to measure.`,
          "Per api request: API-key authentication (HMAC look-up + Postgres rate-limit bucket), RLS transactions (presign: patient check, then intent + audit; register: intent check, then document + intent + audit), each with its own database connection as in a Worker without Hyperdrive.",
          "PGlite is one single-threaded Postgres engine and runs one transaction at a time: at 25 clients the api steps mostly queue behind other requests' transactions; on managed Postgres they run in parallel. The storage function runs in this process (as app.fetch), the Supabase Storage stand-in in this process too (HTTP, objects on local disk): PUT and the register read are local-disk numbers, not Supabase's.",
        ],
        setup: {
          clients: CLIENTS,
          roundTrips: ROUND_TRIPS,
          warmupRoundTrips: WARMUP_ROUND_TRIPS,
          singleClientRoundTrips: SINGLE_CLIENT_ROUND_TRIPS,
          pdfBytes: PDF_BYTES.length,
          database: `PGlite ${packageVersion("@electric-sql/pglite")} in a child process via @electric-sql/pglite-socket, postgres.js (prepare off), one connection per request`,
          storage: `Supabase Storage stand-in (scripts/local/supabase-storage) driven by @supabase/supabase-js ${packageVersion("@supabase/supabase-js")}`,
          ...Object.fromEntries(
            STEPS.flatMap((step) => [
              [`${step} p50 ms`, atLoad[step].p50],
              [`${step} p99 ms`, atLoad[step].p99],
            ]),
          ),
        },
      };
    } finally {
      await owner.end({ timeout: 1 });
      await standin.stop();
      await dbProcess.stop();
    }
  },
};

export default benchmark;
