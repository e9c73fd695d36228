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
import { randomBytes } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  buildDocumentsTestApp,
  insertPatient,
  SAMPLES,
  storageFunctionEnv,
} from "../../functions/api/routes/documents/testing";
import { buildStorageApp } from "../../functions/storage/app";
import { createTenant } from "../../test/helpers/test-database";
import { testEnv } from "../../test/helpers/test-env";
import { startTestStorageStandin } from "../local/supabase-storage/testing";
import type { BenchCase, Benchmark } from "./benchmark";
import { apiKeysPerClient } from "./lib/credentials";
import { startBenchDatabase } from "./lib/database-process";
import { CHARTS_DIR, chartSubtitle, packageVersion } from "./lib/environment";
import { type Latency, latencyOf } from "./lib/latency";
import { runClients } from "./lib/run-clients";
import { renderBarChart } from "./svg-chart";

/** The acceptance criterion's concurrency. */
const CLIENTS = 25;
const ROUND_TRIPS = 500;
const WARMUP_ROUND_TRIPS = 50;
/** One client alone: the cost of a round trip without a queue in front of PGlite. */
const SINGLE_CLIENT_ROUND_TRIPS = 60;
/** "Small PDF": a one-page text PDF is 10-50 KB. */
const PDF_BYTES = SAMPLES.pdf(30_000);

const STEPS = ["presign", "PUT", "register", "round trip"] as const;
type Step = (typeof STEPS)[number];

type Samples = Record<Step, number[]>;
const emptySamples = (): Samples => ({ presign: [], PUT: [], register: [], "round trip": [] });

const benchmark: Benchmark = {
  name: "documents",
  title: `Documents: presign + PUT + register round trip, ${CLIENTS} concurrent clients, ${Math.round(PDF_BYTES.length / 1024)} KB PDF`,
  async run() {
    const database = await startBenchDatabase();
    const standin = await startTestStorageStandin();
    const { owner } = database;
    try {
      const tenantId = await createTenant(owner, "bench-documents");
      const patientId = await insertPatient(owner, tenantId);
      // Limits raised so the run measures the upload path, not the rate limiter's refusals.
      const keys = await apiKeysPerClient(owner, tenantId, CLIENTS, {
        scopes: ["read", "write"],
        ratePerMinute: 100_000,
      });

      const internalToken = randomBytes(32).toString("base64url");
      const storageApp = buildStorageApp();
      const storageEnv = storageFunctionEnv(standin, internalToken);
      const env = testEnv(database.url, {
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

      async function roundTrips(total: number, clients: number): Promise<{ samples: Samples; ms: number }> {
        const samples = emptySamples();
        const started = performance.now();
        await runClients(clients, total, (client) => roundTrip(client, samples));
        return { samples, ms: performance.now() - started };
      }

      await roundTrips(WARMUP_ROUND_TRIPS, CLIENTS);
      const loaded = await roundTrips(ROUND_TRIPS, CLIENTS);
      const alone = await roundTrips(SINGLE_CLIENT_ROUND_TRIPS, 1);

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
          subtitle: chartSubtitle("documents"),
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
      await standin.stop();
      await database.stop();
    }
  },
};

export default benchmark;
