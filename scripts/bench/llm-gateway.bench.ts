/**
 * LLM gateway overhead per call (issue 9 acceptance): the production OpenAI provider calling
 * the local OpenAI stand-in directly (the yardstick: transport only) against the same call
 * through the gateway (read the tenant AI policy, decide, load the patient's identifiers and
 * redact, call, un-redact, validate with the zod schema, ground every fact in the page text,
 * write the egress event and its audit-chain event), on PGlite with the real migrations.
 *
 * One call at a time, so the difference of the medians is the gateway's own cost per call.
 * Cases: clinical extraction of one lab-report page (external without and with redaction, and
 * refused by an on-box-only policy: the on-box rules answer), and embedding 64 chunks.
 */
import { startOpenAiStandin } from "../../scripts/local/openai-standin/server";
import { clinicalExtractionTask } from "../../shared/clinical/clinical-extraction-task";
import type { PageText } from "../../shared/clinical/document-lines";
import { type KeyRing, parseKeyRing } from "../../shared/config/key-ring";
import { createOnBoxEmbeddingProvider } from "../../shared/embeddings/create-on-box-embedding-provider";
import { createLlmGateway, jsonSchemaOf } from "../../shared/llm/create-llm-gateway";
import type { LlmCallScope } from "../../shared/llm/llm-gateway";
import { createOpenAiProvider } from "../../shared/llm/openai/create-openai-provider";
import { databaseRedactor } from "../../shared/llm/redaction/database-redactor";
import { createTenant, startTestDatabase } from "../../test/helpers/test-database";
import type { BenchCase, Benchmark } from "./benchmark";
import { packageVersion } from "./lib/environment";
import { summarise } from "./lib/latency";

const CALLS = 150;
const WARMUP = 15;
const EMBED_TEXTS = 64;
const KEY = "standin-bench-key";

const BENCH_KEYS: KeyRing = (() => {
  const key = btoa(String.fromCharCode(...Array.from({ length: 32 }, (_, i) => (i * 29 + 11) % 256)));
  const { ring } = parseKeyRing("AUDIT_KEYS", `bench1:${key}`, { strict: true });
  if (!ring) throw new Error("bench key ring did not parse");
  return ring;
})();

/** A one-page lab report with the identifiers a real one prints (synthetic). */
const PAGES: PageText[] = [
  {
    pageNumber: 1,
    source: "text_layer",
    text: [
      "Northfield Clinical Laboratory        Phone (555) 013-2290   Fax (555) 013-2291",
      "Patient: QUILLFEATHER, ODA M      DOB: 02/09/1961      MRN: NF-2210-7781",
      "Address: 41 Larchmont Way, Elmsford, NY 10523      Ordering: Dr. Pell Ostrander",
      "Collected: 03/14/2024 08:12     Reported: 03/15/2024",
      "",
      "Test                     Result   Flag   Units        Reference",
      "Glucose                  112      H      mg/dL        70-99",
      "Creatinine               1.31     H      mg/dL        0.57-1.00",
      "eGFR                     47       L      mL/min/1.73  >59",
      "Sodium                   139             mmol/L       134-144",
      "Potassium                5.4      H      mmol/L       3.5-5.2",
      "Hemoglobin A1c           7.2      H      %            4.8-5.6",
      "LDL Cholesterol          131      H      mg/dL        0-99",
      "TSH                      2.10            uIU/mL       0.450-4.500",
      "",
      "Medications: metformin 1000 mg PO BID; lisinopril 10 mg daily; atorvastatin 40 mg nightly",
      "Allergies: penicillin (hives)",
    ].join("\n"),
  },
];
const CHUNKS = Array.from(
  { length: EMBED_TEXTS },
  (_, i) =>
    `Chunk ${i}: Glucose 112 mg/dL H, creatinine 1.31 mg/dL, metformin 1000 mg BID; ODA QUILLFEATHER MRN NF-2210-7781 seen 03/14/2024.`,
);

async function timeCalls(label: Omit<BenchCase, "ops" | "ms" | "perSecond">, call: () => Promise<unknown>) {
  for (let i = 0; i < WARMUP; i++) await call();
  const samples: number[] = [];
  for (let i = 0; i < CALLS; i++) {
    const started = performance.now();
    await call();
    samples.push(performance.now() - started);
  }
  const s = summarise(samples);
  const ms = samples.reduce((a, b) => a + b, 0);
  return {
    case: {
      ...label,
      ops: CALLS,
      ms: Math.round(ms),
      perSecond: Math.round((CALLS * 1000) / ms),
    } as BenchCase,
    p50: s.p50,
    p95: s.p95,
  };
}

const benchmark: Benchmark = {
  name: "llm-gateway",
  title: "LLM gateway overhead per call against a direct call to the OpenAI stand-in",
  async run() {
    const [t, standin] = await Promise.all([startTestDatabase(), startOpenAiStandin({ apiKey: KEY })]);
    try {
      const tenantId = await createTenant(t.owner, "bench-gateway");
      const [p] = await t.owner<{ id: string }[]>`
        insert into medchr.patients (tenant_id, given_name, family_name, date_of_birth, mrn)
        values (${tenantId}, 'Oda', 'Quillfeather', '1961-02-09', 'NF-2210-7781') returning id`;
      const setPolicy = (mode: string, redaction: boolean) => t.owner`
        insert into medchr.tenant_ai_policies (tenant_id, mode, allowed_processors, redaction_required)
        values (${tenantId}, ${mode}, ${t.owner.json(["openai"])}, ${redaction})
        on conflict (tenant_id) do update set mode = excluded.mode, redaction_required = excluded.redaction_required`;
      const provider = createOpenAiProvider({ apiKey: KEY, baseURL: standin.baseURL });
      const gateway = createLlmGateway({
        db: t.db,
        auditKeys: BENCH_KEYS,
        deployment: { phiProcessors: ["openai"], redactionEnabled: false },
        providers: { openai: provider },
        onBoxEmbeddings: createOnBoxEmbeddingProvider(),
        redactor: databaseRedactor,
      });
      let n = 0;
      const scope = (): LlmCallScope => ({
        tenantId,
        actor: { type: "system", id: "bench.gateway" },
        patientId: p!.id,
        documentId: null,
        requestId: `bench-gw-${n++}`,
      });
      const request = {
        name: clinicalExtractionTask.name,
        jsonSchema: jsonSchemaOf(clinicalExtractionTask.schema),
        instructions: clinicalExtractionTask.instructions,
        sourceText: clinicalExtractionTask.sourceText(PAGES),
      };
      const must = async <T extends { ok: boolean }>(r: Promise<T>) => {
        const v = await r;
        if (!v.ok) throw new Error(`bench call failed: ${JSON.stringify(v)}`);
        return v;
      };

      const extraction = "Extraction of one lab-report page (structured output)";
      const embedding = `Embedding ${EMBED_TEXTS} chunks`;
      const results: Awaited<ReturnType<typeof timeCalls>>[] = [];
      results.push(
        await timeCalls({ name: "direct: provider -> stand-in", group: "direct", panel: extraction }, () =>
          must(provider.runStructured(request)),
        ),
      );
      await setPolicy("external", false);
      results.push(
        await timeCalls({ name: "gateway: external", group: "gateway", panel: extraction }, () =>
          must(gateway.runStructured(scope(), clinicalExtractionTask, PAGES)),
        ),
      );
      await setPolicy("external", true);
      results.push(
        await timeCalls({ name: "gateway: external + redaction", group: "gateway", panel: extraction }, () =>
          must(gateway.runStructured(scope(), clinicalExtractionTask, PAGES)),
        ),
      );
      await setPolicy("on_box", true);
      results.push(
        await timeCalls(
          { name: "gateway: refused, on-box answers", group: "gateway (on-box)", panel: extraction },
          () => must(gateway.runStructured(scope(), clinicalExtractionTask, PAGES)),
        ),
      );
      results.push(
        await timeCalls({ name: "direct: provider -> stand-in", group: "direct", panel: embedding }, () =>
          must(provider.embed(CHUNKS)),
        ),
      );
      await setPolicy("external", true);
      results.push(
        await timeCalls({ name: "gateway: external + redaction", group: "gateway", panel: embedding }, () =>
          must(gateway.embed(scope(), CHUNKS)),
        ),
      );
      const [egress] = await t.owner<{ n: number }[]>`
        select count(*)::int as n from medchr.llm_egress_events where tenant_id = ${tenantId}`;
      if (egress!.n !== (CALLS + WARMUP) * 4)
        throw new Error(`expected one egress event per gateway call, got ${egress!.n}`);

      const direct = (panel: string) =>
        results.find((r) => r.case.panel === panel && r.case.group === "direct")!;
      const notes = results.map((r) => {
        const base = direct(r.case.panel);
        const extra = r === base ? "" : `; overhead vs direct p50 ${(r.p50 - base.p50).toFixed(2)} ms`;
        return `${r.case.panel} / ${r.case.name}: p50 ${r.p50.toFixed(2)} ms, p95 ${r.p95.toFixed(2)} ms${extra}`;
      });
      notes.push(
        "One call at a time; the stand-in answers on loopback in about a millisecond, so the direct case is transport + JSON only. Against OpenAI (hundreds of ms per call) the same overhead is a few per cent.",
        `Egress events written: ${egress!.n} (one per gateway call, each with its llm.egress audit event).`,
      );
      return {
        unit: "calls",
        cases: results.map((r) => r.case),
        notes,
        setup: {
          calls: CALLS,
          warmup: WARMUP,
          embedTexts: EMBED_TEXTS,
          openai: packageVersion("openai"),
          pglite: packageVersion("@electric-sql/pglite"),
        },
      };
    } finally {
      await Promise.all([t.stop(), standin.stop()]);
    }
  },
};

export default benchmark;
