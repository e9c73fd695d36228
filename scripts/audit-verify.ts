/**
 * Verifies every tenant's audit hash chain (or one tenant's) and names the first bad
 * sequence of each broken chain.
 *
 *   npm run audit:verify [-- --tenant <uuid>] [--env-file <path>] [--batch-size <n>]
 *
 * Reads DATABASE_URL and AUDIT_KEYS from the environment (values already in the
 * environment win over --env-file, as with `node --env-file`). Node 20 also reacts to
 * `--env-file` after the script name and exits 9 itself when the file is missing. Connects like the
 * functions do: the application role under RLS, tenant by tenant; read-only.
 *
 * Exit codes: 0 every chain verifies; 1 at least one chain is broken (tampering or
 * corruption: escalate per the incident runbook); 2 usage, configuration or connection
 * problem (nothing was concluded about the chains).
 *
 * Prints tenant ids, sequence numbers, counts and reason codes only: never event contents.
 */
import { readFileSync } from "node:fs";
import { parseArgs, parseEnv } from "node:util";
import {
  type AuditChainReport,
  type AuditVerifyProgress,
  listTenantIds,
  verifyAuditChain,
} from "../shared/audit/verify-audit-chain";
import { parseKeyRing } from "../shared/config/key-ring";
import { createDatabase } from "../shared/db/database";

const EXIT_OK = 0;
const EXIT_TAMPERED = 1;
const EXIT_USAGE = 2;

/** Chains shorter than this finish before a progress bar would help. */
const PROGRESS_MIN_EVENTS = 10_000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const USAGE = "usage: npm run audit:verify [-- --tenant <uuid>] [--env-file <path>] [--batch-size <n>]";

class UsageError extends Error {}

interface Options {
  tenantId: string | undefined;
  batchSize: number;
  databaseUrl: string;
  auditKeys: NonNullable<ReturnType<typeof parseKeyRing>["ring"]>;
}

function readOptions(argv: string[], environment: NodeJS.ProcessEnv): Options {
  let values: { tenant?: string; "env-file"?: string; "batch-size"?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        tenant: { type: "string" },
        "env-file": { type: "string" },
        "batch-size": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help) {
    console.info(USAGE);
    process.exit(EXIT_OK);
  }

  let env: Record<string, string | undefined> = environment;
  if (values["env-file"] !== undefined) {
    let text: string;
    try {
      text = readFileSync(values["env-file"], "utf8");
    } catch {
      throw new UsageError(`cannot read env file ${values["env-file"]}`);
    }
    env = { ...parseEnv(text), ...environment };
  }

  if (values.tenant !== undefined && !UUID.test(values.tenant))
    throw new UsageError("--tenant must be a uuid");
  const batchSize = values["batch-size"] === undefined ? 1_000 : Number(values["batch-size"]);
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 100_000) {
    throw new UsageError("--batch-size must be an integer between 1 and 100000");
  }
  const databaseUrl = env.DATABASE_URL?.trim();
  if (!databaseUrl) throw new UsageError("DATABASE_URL is missing");
  // Not strict: the verifier must be able to check chains written with any key still in
  // the ring; the functions already refuse weak keys when they write in prod/HIPAA mode.
  const { ring, problems } = parseKeyRing("AUDIT_KEYS", env.AUDIT_KEYS, { strict: false });
  if (!ring) throw new UsageError(problems.join("; "));
  return { tenantId: values.tenant?.toLowerCase(), batchSize, databaseUrl, auditKeys: ring };
}

function formatReport(report: AuditChainReport): string {
  const head = report.headSeq ?? "none";
  if (report.ok) return `OK      ${report.tenantId}  events=${report.eventsChecked} head=${head}`;
  const { seq, reason } = report.failure!;
  return `FAILED  ${report.tenantId}  first_bad_seq=${seq} reason=${reason} events_verified=${report.eventsChecked} head=${head}`;
}

/** A one-line bar redrawn in place on stderr; only on a terminal and for long chains. */
function progressBar(): { update(p: AuditVerifyProgress): void; clear(): void } {
  const enabled = process.stderr.isTTY === true;
  let shown = false;
  return {
    update({ tenantId, checked, total }) {
      if (!enabled || total < PROGRESS_MIN_EVENTS) return;
      const width = 30;
      const ratio = Math.min(1, checked / total);
      const filled = Math.round(ratio * width);
      const bar = `${"#".repeat(filled)}${".".repeat(width - filled)}`;
      process.stderr.write(
        `\r[${bar}] ${(ratio * 100).toFixed(0).padStart(3)}% ${checked}/${total} ${tenantId}`,
      );
      shown = true;
    },
    clear() {
      if (shown) process.stderr.write("\r\x1b[2K");
      shown = false;
    },
  };
}

async function main(): Promise<number> {
  let options: Options;
  try {
    options = readOptions(process.argv.slice(2), process.env);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`audit-verify: ${error.message}\n${USAGE}`);
    return EXIT_USAGE;
  }

  const db = createDatabase(options.databaseUrl, { max: 1 });
  const progress = progressBar();
  try {
    const tenantIds = await listTenantIds(db, "cli.audit_verify");
    if (options.tenantId !== undefined && !tenantIds.includes(options.tenantId)) {
      console.error(`audit-verify: no tenant ${options.tenantId}`);
      return EXIT_USAGE;
    }
    const selected = options.tenantId === undefined ? tenantIds : [options.tenantId];
    let failed = 0;
    for (const tenantId of selected) {
      const report = await verifyAuditChain(db, options.auditKeys, tenantId, {
        batchSize: options.batchSize,
        requestId: "cli.audit_verify",
        onProgress: progress.update,
      });
      progress.clear();
      if (!report.ok) failed += 1;
      console.log(formatReport(report));
    }
    console.log(`${selected.length} chain(s) verified: ${selected.length - failed} ok, ${failed} failed`);
    return failed === 0 ? EXIT_OK : EXIT_TAMPERED;
  } catch (error) {
    progress.clear();
    // Connection and SQL errors: nothing about the chains can be concluded.
    const code = (error as { code?: string }).code;
    console.error(`audit-verify: could not verify: ${(error as Error).message}${code ? ` (${code})` : ""}`);
    return EXIT_USAGE;
  } finally {
    await db.close();
  }
}

process.exitCode = await main();
