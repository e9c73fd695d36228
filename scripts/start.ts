/**
 * npm start: the whole product on one machine, no accounts, no services installed.
 *   - Postgres: PGlite with pgvector over a local socket, data kept in .data/pglite
 *   - migrations applied; a demo clinic and admin seeded on the very first start (dev only)
 *   - every function in workerd (wrangler dev, one process), behind a dev router that
 *     sends paths to functions as the production routes do, at one origin
 * Ctrl-C stops everything cleanly.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { FUNCTION_NAMES, FUNCTION_REQUIREMENTS, type FunctionName } from "../shared/config/functions";
import { parseKeyRing } from "../shared/config/key-ring";
import { connect } from "../shared/db/database";
import { applyMigrations } from "../shared/db/migrate";
import { bootstrapTenant } from "../shared/tenancy/bootstrap-tenant";
import { REPO_ROOT, readMigrations } from "./lib/migrations-dir";
import { loadOrCreateDevSecrets } from "./local/dev-secrets";
import { startLocalPostgres } from "./local/pglite-server";
import { writeLocalWranglerConfigs } from "./local/wrangler-configs";

const { values } = parseArgs({
  options: {
    port: { type: "string", default: process.env.PORT ?? "8787" },
    "pg-port": { type: "string", default: process.env.PGLITE_PORT ?? "54329" },
    "data-dir": { type: "string", default: process.env.MEDCHR_DATA_DIR ?? join(REPO_ROOT, ".data") },
  },
});
const port = Number(values.port);
const dataDir = values["data-dir"]!;
const origin = `http://127.0.0.1:${port}`;

function step(message: string) {
  console.info(`[medchr] ${message}`);
}

await mkdir(dataDir, { recursive: true, mode: 0o700 });
step(`starting Postgres (PGlite + pgvector), data in ${dataDir}/pglite ...`);
const pg = await startLocalPostgres({ dataDir: join(dataDir, "pglite"), port: Number(values["pg-port"]) });
let wrangler: ChildProcess | undefined;
let stopping = false;

async function shutdown(code: number) {
  if (stopping) return;
  stopping = true;
  step("stopping ...");
  if (wrangler && wrangler.exitCode === null) {
    const exited = new Promise((resolve) => wrangler!.once("exit", resolve));
    killGroup("SIGINT");
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    if (wrangler.exitCode === null) killGroup("SIGKILL");
  }
  await pg.stop().catch(() => {});
  step("stopped");
  process.exit(code);
}
/** wrangler runs in its own process group (node -> node -> workerd): signal all of it. */
function killGroup(signal: NodeJS.Signals) {
  if (!wrangler?.pid) return;
  try {
    process.kill(-wrangler.pid, signal);
  } catch {
    // already gone
  }
}
function installSignalHandlers() {
  // Importing wrangler (to read wrangler.toml) installs SIGINT/SIGTERM handlers that
  // exit at once; the stack must stop wrangler and close PGlite first, so ours replace them.
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.removeAllListeners(signal);
    process.on(signal, () => void shutdown(0));
  }
}
process.on("exit", () => killGroup("SIGKILL"));
installSignalHandlers();

const owner = connect(pg.ownerUrl, { max: 1 });
const migrations = await applyMigrations(owner, await readMigrations());
step(`migrations: ${migrations.applied} applied, ${migrations.skipped} already applied`);

const secrets = await loadOrCreateDevSecrets(join(dataDir, "dev-secrets.json"));
const [{ tenants }] = (await owner`select count(*)::int as tenants from medchr.tenants`) as unknown as [
  { tenants: number },
];
if (tenants === 0) {
  const ring = (name: "PASSWORD_PEPPER_KEYS" | "AUDIT_KEYS") =>
    parseKeyRing(name, secrets[name], { strict: false }).ring!;
  const seeded = await bootstrapTenant(
    owner,
    {
      tenantName: "Demo Clinic",
      slug: "demo-clinic",
      adminEmail: "admin@demo-clinic.example.org",
      adminName: "Demo Admin",
      emailDomains: ["demo-clinic.example.org"],
    },
    { pepperKeys: ring("PASSWORD_PEPPER_KEYS"), auditKeys: ring("AUDIT_KEYS") },
    { systemId: "dev.seed", requestId: "dev-seed" },
  );
  if (!seeded.ok) throw new Error(seeded.error.message);
  console.info(
    [
      "",
      "  First start: a demo clinic and its admin were created (dev only; shown this once).",
      "    e-mail:   admin@demo-clinic.example.org",
      `    password: ${seeded.value.adminPassword}`,
      "  Lost it? Stop the stack, delete the data folder, start again.",
      "",
    ].join("\n"),
  );
}
await owner.end({ timeout: 5 });

const vars = {} as Record<FunctionName, Record<string, string>>;
for (const fn of FUNCTION_NAMES) {
  const requirements = FUNCTION_REQUIREMENTS[fn];
  vars[fn] = {
    APP_ENV: "dev",
    HIPAA_MODE: "false",
    PHI_PROCESSORS: "none",
    PUBLIC_ORIGIN: origin,
    ...(requirements.secrets.includes("DATABASE_URL") ? { DATABASE_URL: pg.url } : {}),
    ...Object.fromEntries(requirements.keyRings.map((ring) => [ring, secrets[ring]])),
  };
}
const configs = await writeLocalWranglerConfigs(vars, join(dataDir, "wrangler-config"));
installSignalHandlers();

step("starting every function in workerd (wrangler dev) ...");
wrangler = spawn(
  join(REPO_ROOT, "node_modules", ".bin", "wrangler"),
  [
    "dev",
    "-c",
    configs.router,
    ...FUNCTION_NAMES.flatMap((fn) => ["-c", configs.functions[fn]]),
    "--ip",
    "127.0.0.1",
    "--port",
    String(port),
    "--persist-to",
    join(dataDir, "wrangler"),
    "--show-interactive-dev-session=false",
    "--log-level",
    "warn",
  ],
  {
    cwd: REPO_ROOT,
    stdio: ["ignore", "inherit", "inherit"],
    detached: true,
    env: {
      ...process.env,
      WRANGLER_SEND_METRICS: "false",
      // Offline: do not fetch the Request.cf sample from Cloudflare at start.
      CLOUDFLARE_CF_FETCH_ENABLED: "false",
    },
  },
);
wrangler.on("exit", (code) => {
  if (!stopping) {
    step(`wrangler exited (${code}); shutting down`);
    void shutdown(code ?? 1);
  }
});

const deadline = Date.now() + 120_000;
let ready = false;
while (Date.now() < deadline && !stopping && !ready) {
  try {
    ready = (await fetch(`${origin}/ready`)).ok;
  } catch {
    // not listening yet
  }
  if (!ready) await new Promise((r) => setTimeout(r, 500));
}
if (!ready && !stopping) {
  console.error(`[medchr] ${origin}/ready did not answer 200 within 120 s; see the wrangler output above.`);
}
console.info(
  [
    "",
    ready ? `  MedCHR is running at ${origin}` : `  MedCHR started at ${origin} but is NOT ready`,
    `    UI        ${origin}/`,
    `    health    ${origin}/health   ready ${origin}/ready`,
    `    API docs  ${origin}/api/v1/openapi.json`,
    "  Ctrl-C stops everything.",
    "",
  ].join("\n"),
);
