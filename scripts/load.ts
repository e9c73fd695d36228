/**
 * `npm run load [-- --clients 25 --duration 60 --seed 1]`: a bounded load test of the whole
 * local product (issue 13, scope 5). It starts `npm start` on free loopback ports with a fresh
 * data folder (or, with `--origin URL --database-url URL --data-dir DIR`, uses one already
 * running on loopback), creates a load clinic (MFA off: sign-in is one password check) with one
 * clinician per client and 200 patients, then runs the clinician mix (scripts/load/clinician-mix.ts)
 * for the duration and prints p50/p99 per call with every status seen. Exit 1 when any call
 * answered something a working product should not (a 5xx, a 429 outside a documented limit, a
 * failed job or request). Loopback only: it refuses any other origin.
 *
 * Writes bench-results/load.json and doc/bench/load.svg (p50 and p99 per call).
 */
import { randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import postgres from "postgres";
import { hashPassword } from "../shared/auth/password-hash";
import { parseKeyRing } from "../shared/config/key-ring";
import { buildTextPdf } from "../test/fixtures/clinical/build-test-pdf";
import { type LocalStack, startLocalStack } from "../test/helpers/local-stack";
import { latencyOf } from "./bench/lib/latency";
import { renderBarChart } from "./bench/svg-chart";
import { runCli, UsageError } from "./lib/cli";
import { REPO_ROOT } from "./lib/migrations-dir";
import { CALLS, type Clinician, LIMITED_CALLS, newStats, runClinician } from "./load/clinician-mix";

const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);
const PATIENTS = 200;

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      clients: { type: "string", default: "25" },
      duration: { type: "string", default: "60" },
      seed: { type: "string", default: "1" },
      origin: { type: "string" },
      "database-url": { type: "string" },
      "data-dir": { type: "string" },
    },
    strict: true,
  });
  const clients = Number(values.clients);
  const durationS = Number(values.duration);
  if (!Number.isInteger(clients) || clients < 1 || clients > 200) throw new UsageError("--clients is 1..200");
  if (!Number.isFinite(durationS) || durationS < 5 || durationS > 600)
    throw new UsageError("--duration is 5..600 s");

  let stack: LocalStack | undefined;
  let origin: string;
  let ownerUrl: string;
  let dataDir: string;
  if (values.origin) {
    if (!values["database-url"] || !values["data-dir"])
      throw new UsageError("--origin needs --database-url (the PGlite owner URL) and --data-dir");
    origin = values.origin.replace(/\/+$/, "");
    ownerUrl = values["database-url"];
    dataDir = values["data-dir"];
  } else {
    process.stderr.write("starting the local stack (npm start) on free loopback ports ...\n");
    stack = await startLocalStack();
    ({ origin, ownerUrl, dataDir } = stack);
  }
  const host = new URL(origin).hostname;
  if (!LOOPBACK.has(host))
    throw new UsageError(`--origin must be on loopback (got ${host}): this is a load test`);

  try {
    const { clinicians, patientIds } = await prepareClinic(ownerUrl, dataDir, clients);
    const stats = newStats();
    const deadline = Date.now() + durationS * 1000;
    const progress = setInterval(() => {
      const done = [...stats.calls.values()].reduce((n, c) => n + c.latencies.length, 0);
      const errors = [...stats.calls.values()].reduce((n, c) => n + c.errors, 0);
      const left = Math.max(0, Math.round((deadline - Date.now()) / 1000));
      process.stderr.write(`\r  ${clients} clinicians, ${left}s left, ${done} requests, ${errors} errors   `);
    }, 1000);
    stats.startedAt = Date.now();
    await Promise.all(
      clinicians.map((c, i) =>
        runClinician(
          { origin, patientIds, uploadBytes: uploadPdf(), thinkMs: [100, 400], pollMs: 1000 },
          c,
          i,
          deadline,
          stats,
          Number(values.seed),
        ),
      ),
    );
    stats.endedAt = Date.now();
    clearInterval(progress);
    process.stderr.write("\n");
    return report(stats, clients, durationS);
  } finally {
    await stack?.kill();
  }
}

/** A load clinic with MFA off, one clinician per client (bcrypt 12, as real accounts), and patients. */
async function prepareClinic(ownerUrl: string, dataDir: string, clients: number) {
  const secrets = JSON.parse(await readFile(join(dataDir, "dev-secrets.json"), "utf8")) as Record<
    string,
    string
  >;
  const pepper = parseKeyRing("PASSWORD_PEPPER_KEYS", secrets.PASSWORD_PEPPER_KEYS, { strict: false }).ring;
  if (!pepper) throw new UsageError(`no PASSWORD_PEPPER_KEYS in ${dataDir}/dev-secrets.json`);
  const owner = postgres(ownerUrl, { max: 1, prepare: false, onnotice: () => {} });
  try {
    const slug = `load-${randomBytes(3).toString("hex")}`;
    const [tenant] = await owner<{ id: string }[]>`
      insert into medchr.tenants (name, slug) values (${`Load clinic ${slug}`}, ${slug}) returning id`;
    const tenantId = tenant!.id;
    await owner`insert into medchr.tenant_policies (tenant_id, mfa_required) values (${tenantId}, false)`;
    const clinicians: Clinician[] = [];
    for (let i = 0; i < clients; i++) {
      const email = `clinician${i}@${slug}.example.org`;
      const password = randomBytes(18).toString("base64url");
      const hash = await hashPassword(password, pepper);
      await owner`insert into medchr.users (tenant_id, email, display_name, role, status, password_hash)
        values (${tenantId}, ${email}, ${`Load Clinician ${i}`}, 'clinician', 'active', ${hash})`;
      clinicians.push({ email, password });
    }
    const patientIds = (
      await owner<{ id: string }[]>`
        insert into medchr.patients (tenant_id, given_name, family_name, mrn, date_of_birth)
        select ${tenantId}, 'Load', 'Patient' || n, 'LOAD-' || n, date '1950-01-01' + n
        from generate_series(1, ${PATIENTS}) n
        returning id`
    ).map((r) => r.id);
    return { clinicians, patientIds };
  } finally {
    await owner.end({ timeout: 5 });
  }
}

function uploadPdf(): Uint8Array {
  return buildTextPdf([
    "Synthetic Lab Report (load test)",
    "Collected: 2024-03-05",
    "Glucose 98 mg/dL 70-99",
    "Creatinine 0.9 mg/dL 0.6-1.3",
  ]);
}

async function report(
  stats: ReturnType<typeof newStats>,
  clients: number,
  durationS: number,
): Promise<number> {
  const rows = CALLS.map((call) => {
    const c = stats.calls.get(call)!;
    const spread = c.latencies.length > 0 ? latencyOf(c.latencies) : { p50: 0, p99: 0, max: 0 };
    const statuses = [...c.statuses.entries()].sort(([a], [b]) => a - b).map(([s, n]) => `${s}x${n}`);
    return { call, n: c.latencies.length, ...spread, errors: c.errors, statuses: statuses.join(" ") };
  });
  const seconds = (stats.endedAt - stats.startedAt) / 1000;
  const total = rows.reduce((n, r) => n + r.n, 0);
  const errors = rows.reduce((n, r) => n + r.errors, 0);
  console.log(
    `\n${clients} clinicians for ${durationS} s: ${total} requests (${Math.round(total / seconds)}/s), ${errors} errors`,
  );
  console.log("| call | n | p50 ms | p99 ms | max ms | statuses | errors |");
  console.log("|---|---:|---:|---:|---:|---|---:|");
  for (const r of rows)
    console.log(`| ${r.call} | ${r.n} | ${r.p50} | ${r.p99} | ${r.max} | ${r.statuses} | ${r.errors} |`);
  for (const [reason, n] of stats.failures) console.log(`failure: ${reason} x${n}`);
  console.log(`429 is acceptable only on: ${[...LIMITED_CALLS].join(", ")} (per-IP sign-in limit, 30/min)`);

  await mkdir(join(REPO_ROOT, "bench-results"), { recursive: true });
  await writeFile(
    join(REPO_ROOT, "bench-results", "load.json"),
    `${JSON.stringify({ clients, durationS, total, errors, rows, failures: Object.fromEntries(stats.failures) }, null, 2)}\n`,
  );
  const measured = rows.filter((r) => r.n > 0);
  await writeFile(
    join(REPO_ROOT, "doc", "bench", "load.svg"),
    renderBarChart({
      title: `Load: ${clients} clinicians for ${durationS} s against npm start`,
      subtitle: `${total} requests, ${errors} errors; 2-core machine, everything on it`,
      unit: "ms",
      panels: [
        { title: "p50 per call", bars: measured.map((r) => ({ label: r.call, value: r.p50, group: "p50" })) },
        { title: "p99 per call", bars: measured.map((r) => ({ label: r.call, value: r.p99, group: "p99" })) },
      ],
    }),
  );
  return errors === 0 && stats.failures.size === 0 ? 0 : 1;
}

await runCli(main);
