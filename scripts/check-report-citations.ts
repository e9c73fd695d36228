/**
 * Citation check over a corpus (issue 10 acceptance): for every patient of the corpus, their
 * documents go through the real pipeline steps (text layer, OCR in Node, extraction, chunks,
 * embeddings; on-box) into a scratch PGlite database with the real migrations, a report is
 * drafted by the on-box drafter through the gateway, and every citation the report shows as
 * verified (narrative claims and table rows) is resolved against this patient's current chunk:
 * the chunk must be the patient's and its text at the cited characters must be the quote.
 * Reports per patient: claims, verified, unsupported, citations checked and resolved.
 *
 *   npm run report:citations -- [../shared/corpus] [--json out.json]
 *
 * Exit code 1 when any citation shown as verified does not resolve to its quote.
 */
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createMemoryObjectStorage } from "../functions/pipeline/testing/memory-object-storage";
import { PIPELINE_STEPS, type StepContext } from "../shared/pipeline/pipeline-steps";
import { STEP_HANDLERS } from "../shared/pipeline/steps/step-handlers";
import { createRun, createTestPatient, onBoxGateway, seedDocument } from "../shared/pipeline/steps/testing";
import { draftReportStep } from "../shared/reports/draft-report-step";
import { getReport } from "../shared/reports/get-report";
import { NARRATIVE_SECTIONS, REPORT_SECTIONS, type ReportCitation } from "../shared/reports/report-schema";
import { loadPatientChunks } from "../shared/reports/report-sources";
import { requestReportDraft } from "../shared/reports/request-report-draft";
import { testKeyRing } from "../test/helpers/identity";
import { createTenant, startTestDatabase } from "../test/helpers/test-database";
import { createNodeOcr } from "./extract";
import { runCli, UsageError } from "./lib/cli";

const MEDIA_TYPES: Record<
  string,
  "application/pdf" | "image/png" | "image/jpeg" | "image/tiff" | "text/plain"
> = {
  pdf: "application/pdf",
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  tif: "image/tiff",
  tiff: "image/tiff",
  txt: "text/plain",
};

interface PatientResult {
  patient: string;
  documents: number;
  claims: number;
  verified: number;
  unsupported: number;
  notRequired: number;
  citations: number;
  resolved: number;
  failures: string[];
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const jsonAt = args.indexOf("--json");
  const jsonOut = jsonAt >= 0 ? args[jsonAt + 1] : undefined;
  if (jsonAt >= 0 && !jsonOut) throw new UsageError("--json needs a file name");
  const dir = args.find((a, i) => !a.startsWith("--") && i !== jsonAt + 1) ?? "../shared/corpus";
  const truths = (await readdir(dir)).filter((f) => f.endsWith(".truth.json")).sort();
  if (truths.length === 0) throw new UsageError(`no *.truth.json in ${dir}`);
  const byPatient = new Map<string, string[]>();
  for (const t of truths) {
    const truth = JSON.parse(await readFile(join(dir, t), "utf8")) as { file: string; patient_id: string };
    byPatient.set(truth.patient_id, [...(byPatient.get(truth.patient_id) ?? []), truth.file]);
  }

  const db = await startTestDatabase();
  const ocr = createNodeOcr();
  try {
    const tenantId = await createTenant(db.owner, "citation-check");
    const storage = createMemoryObjectStorage();
    const fixture = {
      owner: db.owner,
      tenantId,
      putObject: async (p: string, b: Uint8Array, c: string) => storage.put(p, b, c),
    };
    const ctx: StepContext = {
      db: db.db,
      storage,
      getOcr: ocr.get,
      llm: onBoxGateway(db.db),
      auditKeys: testKeyRing("AUDIT_KEYS"),
      now: () => new Date(),
      requestId: "citation-check",
    };
    const scope = { tenantId, actorId: "cli.report_citations", requestId: "citation-check" };
    const audit = {
      auditKeys: ctx.auditKeys,
      actor: { type: "system" as const, id: "cli.report_citations" },
      ip: null,
      userAgent: null,
      requestId: "citation-check",
    };
    const results: PatientResult[] = [];
    let done = 0;
    const total = truths.length;
    for (const [patient, files] of byPatient) {
      const patientId = await createTestPatient(db.owner, tenantId);
      for (const file of files) {
        process.stderr.write(`\r[${++done}/${total}] ${patient} ${file.padEnd(24)}`);
        const media = MEDIA_TYPES[file.split(".").pop()!.toLowerCase()];
        if (!media) continue;
        const doc = await seedDocument(
          fixture,
          patientId,
          new Uint8Array(await readFile(join(dir, file))),
          media,
        );
        const run = await createRun(fixture, patientId, doc.documentId);
        for (const step of PIPELINE_STEPS) {
          const outcome = await STEP_HANDLERS[step](ctx, run);
          if (!outcome.ok) throw new Error(`${file}: step ${step} failed (${outcome.failure.code})`);
        }
      }
      const requested = await db.db.withTenant(scope, (tx) => requestReportDraft(tx, { patientId }, audit));
      if (!requested.ok) throw new Error(`${patient}: ${requested.error.message}`);
      const drafted = await draftReportStep(ctx, {
        tenantId,
        jobId: requested.value.jobId,
        patientId,
        reportId: requested.value.reportId,
      });
      if (!drafted.ok) throw new Error(`${patient}: draft failed (${drafted.failure.code})`);
      const [report, chunks] = await db.db.withTenant(
        scope,
        async (tx) =>
          [
            await getReport(tx, { reportId: requested.value.reportId }, audit),
            await loadPatientChunks(tx, patientId),
          ] as const,
      );
      if (!report.ok || !report.value.content) throw new Error(`${patient}: no report`);
      const content = report.value.content;
      const result: PatientResult = {
        patient,
        documents: files.length,
        claims: 0,
        verified: 0,
        unsupported: 0,
        notRequired: 0,
        citations: 0,
        resolved: 0,
        failures: [],
      };
      const check = (c: ReportCitation, where: string) => {
        result.citations += 1;
        const chunk = chunks.get(c.chunkId);
        const printed = chunk?.text.slice(c.charStart - chunk.charStart, c.charEnd - chunk.charStart);
        if (chunk && printed === c.quote) result.resolved += 1;
        else result.failures.push(`${where}: chunk ${c.chunkId.slice(0, 8)} does not hold the quote`);
      };
      for (const section of NARRATIVE_SECTIONS) {
        for (const claim of content[section]) {
          result.claims += 1;
          if (claim.support === "verified") result.verified += 1;
          if (claim.support === "unsupported") result.unsupported += 1;
          if (claim.support === "not_required") result.notRequired += 1;
          if (claim.support === "verified") for (const c of claim.citations) check(c, section);
        }
      }
      for (const section of REPORT_SECTIONS.filter(
        (s) => !(NARRATIVE_SECTIONS as readonly string[]).includes(s),
      )) {
        for (const row of content[section] as { citations: ReportCitation[] }[])
          for (const c of row.citations) check(c, section);
      }
      results.push(result);
    }
    process.stderr.write("\n");
    const sum = (k: keyof PatientResult) => results.reduce((n, r) => n + (r[k] as number), 0);
    console.log(
      "| patient | documents | claims | verified | unsupported | gaps/questions | citations checked | resolved |",
    );
    console.log("|---|---:|---:|---:|---:|---:|---:|---:|");
    for (const r of results) {
      console.log(
        `| ${r.patient} | ${r.documents} | ${r.claims} | ${r.verified} | ${r.unsupported} | ${r.notRequired} | ${r.citations} | ${r.resolved} |`,
      );
    }
    console.log(
      `| **all** | ${sum("documents")} | ${sum("claims")} | ${sum("verified")} | ${sum("unsupported")} | ${sum("notRequired")} | ${sum("citations")} | ${sum("resolved")} |`,
    );
    const failures = results.flatMap((r) => r.failures.map((f) => `${r.patient} ${f}`));
    for (const f of failures) console.error(`FAIL ${f}`);
    const rate = sum("citations") === 0 ? 1 : sum("resolved") / sum("citations");
    console.log(
      `\nverified citations resolving to their quote: ${(rate * 100).toFixed(2)}% (${sum("resolved")}/${sum("citations")})`,
    );
    if (jsonOut) await writeFile(jsonOut, `${JSON.stringify({ results, rate }, null, 2)}\n`);
    return failures.length === 0 ? 0 : 1;
  } finally {
    ocr.dispose();
    await db.stop();
  }
}

void runCli(main);
