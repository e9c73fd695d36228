/**
 * Issue 10 benchmarks, on PGlite with the real migrations:
 *  1. Draft latency (on-box drafter) for a patient with 20 processed documents: the whole
 *     draft_report step (record, chunks, full-text retrieval per section, the gateway with its
 *     egress event, grounding, tables, the store with report.drafted).
 *  2. Retrieval: hybrid search (searchPatientChunks: exact vector leg + full text, RRF) for a
 *     patient with PATIENT_CHUNKS chunks among TENANT_CHUNKS in the tenant, beside the
 *     yardstick, an exact pgvector scan of the same patient's rows; and the recall of the
 *     table's HNSW index used with the patient filter (the post-filtering trap) against it.
 *  3. Nearest chunks across the whole tenant (TENANT_CHUNKS): the HNSW index at two ef_search
 *     widths beside an exact scan of every row, with the index's recall against it.
 *
 *   npm run bench -- --only reports            (BENCH_TENANT_CHUNKS=1000000 for the full tenant)
 */
import { onBoxPipeline } from "../../functions/pipeline/testing/on-box-pipeline";
import { PIPELINE_STEPS } from "../../shared/pipeline/pipeline-steps";
import { STEP_HANDLERS } from "../../shared/pipeline/steps/step-handlers";
import {
  CLINIC_NOTE_PAGES,
  createRun,
  createTestPatient,
  seedDocument,
} from "../../shared/pipeline/steps/testing";
import { draftReportStep } from "../../shared/reports/draft-report-step";
import { requestReportDraft } from "../../shared/reports/request-report-draft";
import { searchPatientChunks } from "../../shared/retrieval/search-patient-chunks";
import { seededUnitVector, seedProcessedDocument } from "../../shared/retrieval/testing";
import { createTenant, startTestDatabase } from "../../test/helpers/test-database";
import type { BenchCase, Benchmark } from "./benchmark";
import { packageVersion } from "./lib/environment";
import { summarise } from "./lib/latency";

const DOCUMENTS = 20;
const DRAFTS = 30;
const QUERIES = 60;
const K = 8;
const PATIENT_CHUNKS = Number(process.env.BENCH_PATIENT_CHUNKS ?? 10_000);
const TENANT_CHUNKS = Number(process.env.BENCH_TENANT_CHUNKS ?? 100_000);
const CHUNKS_PER_DOCUMENT = 500;
/** Chunks of each other patient (one document each) filling the tenant. */
const OTHER_PATIENT_CHUNKS = 5_000;
/** Tenant-wide queries: each is an exact scan of every chunk, seconds at a million. */
const TENANT_QUERIES = Number(process.env.BENCH_TENANT_QUERIES ?? 20);
/** pgvector's default search width (40) and a wider one. */
const EF_SEARCH = [40, 200];
/**
 * BENCH_HNSW=0: leave the table's HNSW index unbuilt and measure the exact cases only. Building it
 * over a million 256-d rows in PGlite (single-threaded WebAssembly, the graph larger than the
 * 1 GB maintenance_work_mem) takes longer than a benchmark run; product retrieval never uses it.
 */
const BUILD_HNSW = process.env.BENCH_HNSW !== "0";

const LAB = (date: string, i: number) =>
  [
    "NORTHFIELD TEST LABORATORY",
    "CLINICAL LABORATORY REPORT",
    `COLLECTED: ${date} 08:05                STATUS: FINAL`,
    "TEST                         RESULT  FLAG UNITS           REF RANGE",
    `  Hemoglobin A1c               ${(6.5 + (i % 5) * 0.3).toFixed(1)}   H    %               4.0-5.6`,
    `  LDL Cholesterol              ${110 + i * 3}   H    mg/dL           0-99`,
    `  Potassium                     ${(3.9 + (i % 4) * 0.2).toFixed(1)}        mmol/L          3.5-5.1`,
    `  Glucose                       ${95 + i * 2}   H    mg/dL           70-99`,
    "ELECTRONICALLY VERIFIED.",
  ].join("\n");

const WORDS = [
  "glucose",
  "potassium",
  "metformin",
  "hypertension",
  "assessment",
  "plan",
  "follow",
  "lipid",
  "renal",
  "insulin",
];
const chunkText = (i: number) =>
  `Passage ${i}: ${WORDS[i % WORDS.length]} ${WORDS[(i * 7) % WORDS.length]} result reviewed; ${WORDS[(i * 3) % WORDS.length]} discussed at visit ${i % 97}.`;

function latencyCase(
  name: string,
  group: string,
  panel: string,
  samples: number[],
): { case: BenchCase; p50: number; p99: number } {
  const s = summarise(samples);
  const ms = samples.reduce((a, b) => a + b, 0);
  return {
    case: {
      name,
      group,
      panel,
      ops: samples.length,
      ms: Math.round(ms),
      perSecond: Math.round((samples.length * 1000) / ms),
    },
    p50: s.p50,
    p99: s.p99,
  };
}

const benchmark: Benchmark = {
  name: "reports",
  title: "Report drafting (on-box, 20 documents) and retrieval at scale beside an exact pgvector scan",
  async run() {
    const t = await startTestDatabase();
    try {
      const tenantId = await createTenant(t.owner, "bench-reports");
      const { fixture, ctx } = onBoxPipeline({
        owner: t.owner,
        db: t.db,
        tenantId,
        requestId: "bench-reports",
      });

      const say = (text: string) => process.stderr.write(`  reports: ${text}\n`);
      // 1. Drafting.
      say(`processing ${DOCUMENTS} documents`);
      const patientId = await createTestPatient(t.owner, tenantId);
      for (let i = 0; i < DOCUMENTS; i++) {
        const text =
          i % 4 === 0
            ? CLINIC_NOTE_PAGES.map((p) => p.join("\n")).join("\n\n")
            : LAB(`${String((i % 12) + 1).padStart(2, "0")}/15/${2022 + Math.floor(i / 12)}`, i);
        const doc = await seedDocument(fixture, patientId, new TextEncoder().encode(text), "text/plain");
        const run = await createRun(fixture, patientId, doc.documentId);
        for (const step of PIPELINE_STEPS) {
          const outcome = await STEP_HANDLERS[step](ctx, run);
          if (!outcome.ok) throw new Error(`step ${step} failed: ${outcome.failure.code}`);
        }
      }
      const audit = {
        auditKeys: ctx.auditKeys,
        actor: { type: "system" as const, id: "bench.reports" },
        ip: null,
        userAgent: null,
        requestId: "bench",
      };
      const scope = { tenantId, actorId: "bench.reports", requestId: "bench" };
      const draftSamples: number[] = [];
      let claims = 0;
      for (let i = 0; i < DRAFTS + 3; i++) {
        const requested = await t.db.withTenant(scope, (tx) => requestReportDraft(tx, { patientId }, audit));
        if (!requested.ok) throw new Error(requested.error.message);
        const started = performance.now();
        const outcome = await draftReportStep(ctx, {
          tenantId,
          jobId: requested.value.jobId,
          patientId,
          reportId: requested.value.reportId,
        });
        const ms = performance.now() - started;
        if (!outcome.ok) throw new Error(`draft failed: ${outcome.failure.code}`);
        claims = outcome.metrics?.claims ?? claims;
        if (i >= 3) draftSamples.push(ms);
      }
      const draft = latencyCase(
        "on-box draft, 20 documents",
        "reports",
        "draft (ms per report)",
        draftSamples,
      );

      // 2. Retrieval: one patient's chunks among the tenant's. The product has no HNSW index
      // (ADR 0016); the benchmark builds one once the rows are in (maintaining it row by row made
      // a 100,000-chunk seed take longer than 10 minutes on PGlite), to measure what it would do.
      await t.owner`drop index if exists medchr.document_chunks_embedding_idx`;
      const progress = (done: number) =>
        say(`seeded ${done.toLocaleString("en-US")} of ${TENANT_CHUNKS.toLocaleString("en-US")} chunks`);
      const target = await createTestPatient(t.owner, tenantId);
      for (let d = 0; d < PATIENT_CHUNKS; d += CHUNKS_PER_DOCUMENT) {
        const n = Math.min(CHUNKS_PER_DOCUMENT, PATIENT_CHUNKS - d);
        await seedProcessedDocument(
          t.owner,
          tenantId,
          target,
          Array.from({ length: n }, (_, j) => ({
            text: chunkText(d + j),
            vector: seededUnitVector(d + j + 1),
            model: "on-box-hash-256@1",
          })),
        );
      }
      progress(PATIENT_CHUNKS);
      // The other patients' chunks are generated inside Postgres (one statement per document):
      // the same passage vocabulary, and vectors of the same distribution as seededUnitVector
      // (uniform coordinates; cosine distance ignores the norm).
      const others = Math.max(0, TENANT_CHUNKS - PATIENT_CHUNKS);
      for (let done = 0; done < others; done += OTHER_PATIENT_CHUNKS) {
        const n = Math.min(OTHER_PATIENT_CHUNKS, others - done);
        const pid = await createTestPatient(t.owner, tenantId);
        const doc = await seedProcessedDocument(t.owner, tenantId, pid, []);
        await t.owner`
          insert into medchr.document_chunks (tenant_id, patient_id, document_id, version_id, ordinal, page,
            char_start, char_end, text, embedding, embedding_model, embedding_dimensions)
          select ${tenantId}, ${pid}, ${doc.documentId}, ${doc.versionId}, g, 1, 0, 80,
            'Passage ' || g || ': ' || w.words[1 + g % ${WORDS.length}::int] || ' '
              || w.words[1 + (g * 7) % ${WORDS.length}::int] || ' result reviewed; '
              || w.words[1 + (g * 3) % ${WORDS.length}::int] || ' discussed at visit ' || g % 97 || '.',
            array(select random() - 0.5 + 0 * g from generate_series(1, 256))::real[]::vector,
            'on-box-hash-256@1', 256
          from (select array(select jsonb_array_elements_text(${t.owner.json(WORDS)})) as words) w,
            generate_series(${done}::int, ${done + n - 1}::int) g`;
        if ((done + n) % 100_000 < OTHER_PATIENT_CHUNKS || done + n === others)
          progress(PATIENT_CHUNKS + done + n);
      }
      let started = performance.now();
      if (BUILD_HNSW) {
        say("building the HNSW index");
        await t.owner`set maintenance_work_mem = '1GB'`;
        await t.owner`create index document_chunks_embedding_idx on medchr.document_chunks using hnsw (embedding vector_cosine_ops)`;
      }
      const indexBuildSeconds = (performance.now() - started) / 1000;
      await t.owner`analyze medchr.document_chunks`;
      say(`${QUERIES} patient queries x 3`);

      const hybrid: number[] = [];
      const exact: number[] = [];
      const indexed: number[] = [];
      let recallHits = 0;
      let recallTotal = 0;
      let short = 0;
      for (let q = 0; q < QUERIES + 5; q++) {
        const vector = seededUnitVector(900_000 + q);
        const literal = `[${vector.join(",")}]`;
        const query = `${WORDS[q % WORDS.length]} ${WORDS[(q + 3) % WORDS.length]}`;
        started = performance.now();
        await t.db.withTenant(scope, (tx) =>
          searchPatientChunks(tx, {
            patientId: target,
            query,
            k: K,
            queryVector: { model: "on-box-hash-256@1", vector },
          }),
        );
        const hybridMs = performance.now() - started;
        started = performance.now();
        // The yardstick is exact by construction: `offset 0` fences the patient's rows (found by
        // the patient index) from the ORDER BY, so the HNSW index cannot answer it.
        const truth = await t.db.withTenant(
          scope,
          (tx) => tx<{ id: string }[]>`
            select id from (
              select id, embedding from medchr.document_chunks where patient_id = ${target} offset 0
            ) patient_rows
            order by embedding <=> ${literal}::vector limit ${K}`,
        );
        const exactMs = performance.now() - started;
        started = performance.now();
        const approx = !BUILD_HNSW
          ? []
          : await t.db.withTenant(scope, async (tx) => {
              await tx`set local enable_seqscan = off`;
              return tx<{ id: string }[]>`
                select id from medchr.document_chunks where patient_id = ${target}
                order by embedding <=> ${literal}::vector limit ${K}`;
            });
        const indexMs = performance.now() - started;
        if (q < 5) continue;
        if (!BUILD_HNSW) {
          hybrid.push(hybridMs);
          exact.push(exactMs);
          continue;
        }
        hybrid.push(hybridMs);
        exact.push(exactMs);
        indexed.push(indexMs);
        const truthIds = new Set(truth.map((r) => r.id));
        recallHits += approx.filter((r) => truthIds.has(r.id)).length;
        recallTotal += truth.length;
        if (approx.length < K) short += 1;
      }

      // 3. Nearest chunks across the whole tenant: the HNSW index at two search widths beside
      // an exact scan of every row (the yardstick), with the index's recall@K against it.
      say(
        `${TENANT_QUERIES} tenant-wide queries (exact scan of every chunk, HNSW at ef_search ${EF_SEARCH.join(" and ")})`,
      );
      const tenantExact: number[] = [];
      const tenantIndexed = new Map<number, { ms: number[]; hits: number }>(
        EF_SEARCH.map((ef) => [ef, { ms: [], hits: 0 }]),
      );
      let tenantTotal = 0;
      for (let q = 0; q < TENANT_QUERIES + 2; q++) {
        const literal = `[${seededUnitVector(800_000 + q).join(",")}]`;
        started = performance.now();
        const truth = await t.db.withTenant(scope, async (tx) => {
          await tx`set local enable_indexscan = off`;
          return tx<{ id: string }[]>`
            select id from medchr.document_chunks order by embedding <=> ${literal}::vector limit ${K}`;
        });
        const exactMs = performance.now() - started;
        const truthIds = new Set(truth.map((r) => r.id));
        if (q >= 2) {
          tenantExact.push(exactMs);
          tenantTotal += truth.length;
        }
        for (const ef of BUILD_HNSW ? EF_SEARCH : []) {
          started = performance.now();
          const approx = await t.db.withTenant(scope, async (tx) => {
            await tx.unsafe(`set local hnsw.ef_search = ${ef}`);
            await tx`set local enable_seqscan = off`;
            return tx<{ id: string }[]>`
              select id from medchr.document_chunks order by embedding <=> ${literal}::vector limit ${K}`;
          });
          const ms = performance.now() - started;
          if (q < 2) continue;
          const entry = tenantIndexed.get(ef)!;
          entry.ms.push(ms);
          entry.hits += approx.filter((r) => truthIds.has(r.id)).length;
        }
      }
      const panel = `search, ${PATIENT_CHUNKS.toLocaleString("en-US")} chunks of ${TENANT_CHUNKS.toLocaleString("en-US")} (ms per query)`;
      const tenantPanel = `nearest chunks in the tenant, ${TENANT_CHUNKS.toLocaleString("en-US")} chunks (ms per query)`;
      const tenantCases = (BUILD_HNSW ? EF_SEARCH : []).map((ef) =>
        latencyCase(`HNSW, ef_search ${ef}`, "index", tenantPanel, tenantIndexed.get(ef)!.ms),
      );
      const results = [
        draft,
        latencyCase("hybrid (exact vector + full text, RRF)", "medchr", panel, hybrid),
        latencyCase("exact pgvector scan (yardstick)", "yardstick", panel, exact),
        ...(BUILD_HNSW ? [latencyCase("HNSW index + patient filter", "index", panel, indexed)] : []),
        latencyCase("exact scan of every chunk (yardstick)", "yardstick", tenantPanel, tenantExact),
        ...tenantCases,
      ];
      const recall = recallTotal === 0 ? 0 : recallHits / recallTotal;
      const tenantRecall = EF_SEARCH.map((ef) => {
        const hits = tenantIndexed.get(ef)!.hits;
        return `ef_search ${ef}: ${(tenantTotal === 0 ? 0 : hits / tenantTotal).toFixed(3)} (${hits}/${tenantTotal})`;
      });
      return {
        unit: "operations",
        cases: results.map((r) => r.case),
        notes: [
          ...results.map(
            (r) => `${r.case.panel} / ${r.case.name}: p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms`,
          ),
          `Draft: ${DOCUMENTS} processed documents (${DOCUMENTS / 4} clinic notes, the rest dated lab reports), ${claims} narrative claims per draft; ${DRAFTS} drafts after 3 warm-up.`,
          ...(BUILD_HNSW
            ? [
                `Recall of the HNSW index with the patient filter against the exact scan: ${recall.toFixed(3)} (${recallHits}/${recallTotal}); ${short} of ${QUERIES} queries got fewer than ${K} rows. Hybrid search's vector leg is the exact scan (recall 1.000 by construction).`,
                `Tenant-wide recall@${K} of the HNSW index against the exact scan of all ${TENANT_CHUNKS.toLocaleString("en-US")} chunks, ${TENANT_QUERIES} queries: ${tenantRecall.join("; ")}.`,
                `HNSW index (m 16, ef_construction 64, the migration's defaults) built over ${TENANT_CHUNKS.toLocaleString("en-US")} rows in ${indexBuildSeconds.toFixed(0)} s.`,
              ]
            : [`BENCH_HNSW=0: the HNSW index was not built; exact cases only.`]),
        ],
        setup: {
          documents: DOCUMENTS,
          drafts: DRAFTS,
          queries: QUERIES,
          k: K,
          patientChunks: PATIENT_CHUNKS,
          tenantChunks: TENANT_CHUNKS,
          tenantQueries: TENANT_QUERIES,
          indexBuildSeconds: Math.round(indexBuildSeconds),
          hnsw: BUILD_HNSW ? "built" : "not built",
          dimensions: 256,
          pglite: packageVersion("@electric-sql/pglite"),
        },
      };
    } finally {
      await t.stop();
    }
  },
};

export default benchmark;
