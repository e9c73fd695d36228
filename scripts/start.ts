/**
 * npm start: the whole product on one machine, no accounts, no services installed.
 *   - Postgres: PGlite with pgvector over a local socket, data kept in .data/pglite
 *   - migrations applied; a demo clinic and admin seeded on the very first start (dev only)
 *   - Upstash Redis REST stand-in in front of a throw-away redis-server (rate limits), when
 *     redis-server is installed; otherwise the functions use the Postgres rate limiter
 *   - QStash stand-in (job queue with signed deliveries), fresh token and keys every start
 *   - OpenAI stand-in (chat completions + embeddings), only when OPENAI_BASE_URL points at
 *     this machine: the pipeline then reaches "OpenAI" through the LLM gateway, and the
 *     deployment lists openai as a PHI processor (PHI_PROCESSORS) unless told otherwise
 *   - every function in workerd (wrangler dev, one process), behind a dev router that
 *     sends paths to functions as the production routes do, at one origin
 * Ctrl-C stops everything cleanly.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { appendAuditEvent } from "../shared/audit/append-audit-event";
import { FUNCTION_NAMES, FUNCTION_REQUIREMENTS, type FunctionName } from "../shared/config/functions";
import { type KeyRing, parseKeyRing } from "../shared/config/key-ring";
import { APP_ROLE, connect, type Sql } from "../shared/db/database";
import { applyMigrations } from "../shared/db/migrate";
import { DOCUMENT_MEDIA_TYPES } from "../shared/documents/detect-media-type";
import { DEFAULT_STORAGE_BUCKET } from "../shared/storage/storage-settings";
import { bootstrapTenant } from "../shared/tenancy/bootstrap-tenant";
import { REPO_ROOT, readMigrations } from "./lib/migrations-dir";
import { vendorWebAssets } from "./lib/vendor-web-assets";
import { loadOrCreateDevSecrets } from "./local/dev-secrets";
import { type OpenAiStandin, startOpenAiStandin } from "./local/openai-standin/server";
import { startLocalPostgres } from "./local/pglite-server";
import { type QStashStandin, startQStashStandin } from "./local/qstash/server";
import { type SupabaseStorageStandin, startSupabaseStorageStandin } from "./local/supabase-storage/server";
import { startUpstashRedisStandin, type UpstashRedisStandin } from "./local/upstash-redis/server";
import { DEFAULT_REDIS_SERVER_PATH } from "./local/upstash-redis/spawn-redis-server";
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

/** The demo clinic's first admin (dev seed only; production never seeds). */
const DEMO_ADMIN_EMAIL = "admin@demo-clinic.example.org";

function step(message: string) {
  console.info(`[medchr] ${message}`);
}

await mkdir(dataDir, { recursive: true, mode: 0o700 });
step(`starting Postgres (PGlite + pgvector), data in ${dataDir}/pglite ...`);
const pg = await startLocalPostgres({ dataDir: join(dataDir, "pglite"), port: Number(values["pg-port"]) });
let wrangler: ChildProcess | undefined;
let redis: UpstashRedisStandin | undefined;
let qstash: QStashStandin | undefined;
let storage: SupabaseStorageStandin | undefined;
let openai: OpenAiStandin | undefined;
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
  await qstash?.stop().catch(() => {});
  await storage?.stop().catch(() => {});
  await openai?.stop().catch(() => {});
  await redis?.stop().catch(() => {});
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
let firstStart = false;
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
      adminEmail: DEMO_ADMIN_EMAIL,
      adminName: "Demo Admin",
      emailDomains: ["demo-clinic.example.org"],
    },
    { pepperKeys: ring("PASSWORD_PEPPER_KEYS"), auditKeys: ring("AUDIT_KEYS") },
    { systemId: "dev.seed", requestId: "dev-seed" },
  );
  if (!seeded.ok) throw new Error(seeded.error.message);
  await seedDemoPolicy(owner, seeded.value.tenantId, ring("AUDIT_KEYS"));
  firstStart = true;
  console.info(
    [
      "",
      "  First start: a demo clinic and its admin were created (dev only; shown this once).",
      `    e-mail:   ${DEMO_ADMIN_EMAIL}`,
      `    password: ${seeded.value.adminPassword}`,
      "  Sign in with these at the address printed below. The clinic requires two-factor",
      "  authentication, so you will be asked to set up an authenticator app (scan the QR",
      "  code or type the key) and to save 10 recovery codes. Then change the password.",
      "  Lost it? Stop the stack, delete the data folder, start again.",
      "",
    ].join("\n"),
  );
}
await owner.end({ timeout: 5 });

const services = await startLocalServices();

const vars = {} as Record<FunctionName, Record<string, string>>;
for (const fn of FUNCTION_NAMES) {
  const requirements = FUNCTION_REQUIREMENTS[fn];
  vars[fn] = {
    APP_ENV: "dev",
    HIPAA_MODE: "false",
    PHI_PROCESSORS: services.phiProcessors,
    PUBLIC_ORIGIN: origin,
    ...(requirements.secrets.includes("DATABASE_URL") ? { DATABASE_URL: pg.url } : {}),
    ...Object.fromEntries(requirements.keyRings.map((ring) => [ring, secrets[ring]])),
    ...serviceSettingsFor(fn, services),
    // The UI's CSP lets the browser PUT uploads to storage's origin (functions/web/app.ts); a URL, no key.
    ...(fn === "web" ? { SUPABASE_URL: services.storage.url } : {}),
    // The OpenAI key lives in the pipeline alone (issue 9 §5; FUNCTION_REQUIREMENTS).
    ...(fn === "pipeline" ? services.openai : {}),
  };
}
const configs = await writeLocalWranglerConfigs(vars, join(dataDir, "wrangler-config"));
// The UI's third-party browser files (API reference) are served from our origin, never a CDN.
await vendorWebAssets();
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
    `    UI           ${origin}/`,
    `    health       ${origin}/health   ready ${origin}/ready`,
    `    API docs     ${origin}/api/v1/openapi.json`,
    `    rate limits  ${redis ? "Upstash Redis stand-in" : "Postgres (redis-server is not installed)"}`,
    `    job queue    QStash stand-in at ${services.qstash.url}`,
    `    AI           ${services.aiDescription}`,
    ...(firstStart
      ? [
          "",
          `  First login: open ${origin}/ and sign in as ${DEMO_ADMIN_EMAIL}`,
          "  with the password printed above, then set up an authenticator app when asked (MFA is",
          "  required). No phone at hand? `npm run totp -- <setup key>` prints the current code",
          "  (local testing only).",
        ]
      : []),
    "  Ctrl-C stops everything.",
    "",
  ].join("\n"),
);

// ---- helpers ----------------------------------------------------------------------------
// (function declarations: hoisted, so the script above reads top to bottom)

interface LocalServices {
  redis: { url: string; token: string } | undefined;
  /** The pipeline's OpenAI settings (OPENAI_API_KEY, OPENAI_BASE_URL, ...), or none. */
  openai: Record<string, string>;
  /** PHI_PROCESSORS for every function: the processors this deployment may send PHI to. */
  phiProcessors: string;
  aiDescription: string;
  qstash: { url: string; token: string; currentSigningKey: string; nextSigningKey: string };
  storage: { url: string; serviceRoleKey: string; bucket: string; internalToken: string };
}

/** A fresh random secret per start: the stand-ins live in memory, nothing needs to survive a restart. */
function randomSecret(prefix: string): string {
  return `${prefix}${randomBytes(32).toString("base64url")}`;
}

/**
 * The Upstash Redis stand-in (only with a real redis-server behind it; without one the
 * functions fall back to the Postgres limiter, ADR 0006) and the QStash stand-in.
 */
async function startLocalServices(): Promise<LocalServices> {
  const redisBinary = process.env.REDIS_SERVER_PATH ?? DEFAULT_REDIS_SERVER_PATH;
  if (existsSync(redisBinary)) {
    try {
      redis = await startUpstashRedisStandin({ token: randomSecret("dev_"), spawn: true });
      step(`rate limits: Upstash Redis REST stand-in at ${redis.url} (redis-server ${redis.redisUrl})`);
    } catch (error) {
      // A broken Redis must not keep the product from starting: Postgres limits are as strict.
      step(`rate limits: redis-server did not start (${(error as Error).message}); using Postgres`);
    }
  } else {
    step(
      `rate limits: Postgres backend (no redis-server at ${redisBinary}; apt-get install redis-server to use the Upstash stand-in)`,
    );
  }
  const qstashSecrets = {
    token: randomSecret("dev_"),
    currentSigningKey: randomSecret("sig_"),
    nextSigningKey: randomSecret("sig_"),
  };
  // Closer to QStash than the stand-in's test defaults: an OCR step on a slow laptop may take
  // a while, and retries back off over minutes rather than seconds.
  qstash = await startQStashStandin({
    ...qstashSecrets,
    deliveryTimeoutMs: 5 * 60_000,
    retryDelaysMs: [2_000, 10_000, 30_000, 60_000],
  });
  step(`job queue: QStash stand-in at ${qstash.url}`);
  // Objects persist under the data folder; keys are per start (nothing signed must outlive it).
  const serviceRoleKey = randomSecret("dev_service_role_");
  storage = await startSupabaseStorageStandin({
    dataDir: join(dataDir, "supabase-storage"),
    serviceRoleKey,
    buckets: [
      {
        name: DEFAULT_STORAGE_BUCKET,
        fileSizeLimit: 25 * 1024 * 1024,
        allowedMimeTypes: [...DOCUMENT_MEDIA_TYPES],
      },
    ],
  });
  step(
    `file storage: Supabase Storage stand-in at ${storage.url} (objects in ${join(dataDir, "supabase-storage")})`,
  );
  const ai = await startLocalAi();
  return {
    ...ai,
    redis: redis ? { url: redis.url, token: redis.token } : undefined,
    qstash: { url: qstash.url, ...qstashSecrets },
    storage: {
      url: storage.url,
      serviceRoleKey,
      bucket: DEFAULT_STORAGE_BUCKET,
      internalToken: randomSecret("dev_storage_internal_"),
    },
  };
}

/**
 * The AI processor of this run. OPENAI_BASE_URL on this machine (e.g.
 * OPENAI_BASE_URL=http://127.0.0.1:8790/v1 npm start): the OpenAI stand-in listens there with
 * a fresh key, and openai is a listed PHI processor (the clinic's AI policy still decides;
 * its default is on-box only). OPENAI_API_KEY without a loopback URL: passed to the pipeline
 * as given (synthetic data only on a dev box). Neither: on-box only, PHI_PROCESSORS=none.
 * PHI_PROCESSORS in the environment overrides the list either way.
 */
async function startLocalAi(): Promise<Pick<LocalServices, "openai" | "phiProcessors" | "aiDescription">> {
  const baseURL = process.env.OPENAI_BASE_URL?.trim();
  const listed = process.env.PHI_PROCESSORS?.trim();
  let local: URL | undefined;
  if (baseURL) {
    try {
      local = new URL(baseURL);
    } catch {
      throw new Error("OPENAI_BASE_URL is not a URL");
    }
    // A loopback host names the local stand-in, never OpenAI (a function: hoisted, unlike a const).
    if (!["127.0.0.1", "localhost", "[::1]"].includes(local.hostname)) local = undefined;
  }
  if (local) {
    if (local.protocol !== "http:" || !local.port) {
      throw new Error("OPENAI_BASE_URL on this machine must be http://127.0.0.1:<port>/v1 (the stand-in)");
    }
    openai = await startOpenAiStandin({ apiKey: randomSecret("dev_openai_"), port: Number(local.port) });
    step(`AI: OpenAI stand-in at ${openai.baseURL} (requests: ${openai.url}/__standin/requests)`);
    return {
      openai: { OPENAI_API_KEY: openai.apiKey, OPENAI_BASE_URL: openai.baseURL },
      phiProcessors: listed || "openai",
      aiDescription: `OpenAI stand-in at ${openai.baseURL}, on-box when the clinic's AI policy says so`,
    };
  }
  const apiKey = process.env.OPENAI_API_KEY?.trim();
  if (apiKey) {
    return {
      openai: { OPENAI_API_KEY: apiKey, ...(baseURL ? { OPENAI_BASE_URL: baseURL } : {}) },
      phiProcessors: listed || "none",
      aiDescription: `OpenAI at ${baseURL ?? "its public API"} (PHI_PROCESSORS=${listed || "none"})`,
    };
  }
  return { openai: {}, phiProcessors: listed || "none", aiDescription: "on-box only (no OPENAI_BASE_URL)" };
}

/**
 * Each function gets a service's URL and secret only if FUNCTION_REQUIREMENTS names that
 * secret for it (least privilege, as in production): Redis for auth and api, the QStash
 * publish token for api and pipeline, the signing keys for pipeline alone.
 */
function serviceSettingsFor(fn: FunctionName, services: LocalServices): Record<string, string> {
  const requirements = FUNCTION_REQUIREMENTS[fn];
  const uses = new Set<string>([
    ...requirements.secrets,
    ...requirements.strictSecrets,
    ...(requirements.optionalSecrets ?? []),
  ]);
  const settings: Record<string, string> = {};
  if (services.redis && uses.has("UPSTASH_REDIS_REST_TOKEN")) {
    settings.UPSTASH_REDIS_REST_URL = services.redis.url;
    settings.UPSTASH_REDIS_REST_TOKEN = services.redis.token;
  }
  if (uses.has("QSTASH_TOKEN")) {
    settings.QSTASH_URL = services.qstash.url;
    settings.QSTASH_TOKEN = services.qstash.token;
  }
  if (uses.has("QSTASH_CURRENT_SIGNING_KEY")) {
    settings.QSTASH_CURRENT_SIGNING_KEY = services.qstash.currentSigningKey;
  }
  if (uses.has("QSTASH_NEXT_SIGNING_KEY")) settings.QSTASH_NEXT_SIGNING_KEY = services.qstash.nextSigningKey;
  if (uses.has("STORAGE_INTERNAL_TOKEN")) settings.STORAGE_INTERNAL_TOKEN = services.storage.internalToken;
  if (uses.has("SUPABASE_SERVICE_ROLE_KEY")) {
    settings.SUPABASE_URL = services.storage.url;
    settings.SUPABASE_SERVICE_ROLE_KEY = services.storage.serviceRoleKey;
    settings.SUPABASE_STORAGE_BUCKET = services.storage.bucket;
  }
  return settings;
}

/**
 * The demo clinic's security policy, written out rather than left to the column defaults
 * so the first login path is explicit: MFA required for everyone (HIPAA 164.312(d),
 * ASVS 6.3.3 L3), step-up within 15 minutes, no IP allowlist on a dev box. Audited like
 * any policy change.
 */
async function seedDemoPolicy(owner: Sql, tenantId: string, auditKeys: KeyRing) {
  await owner.begin(async (tx) => {
    await tx`select set_config('role', ${APP_ROLE}, true), set_config('app.tenant_id', ${tenantId}, true),
      set_config('app.actor_id', 'dev.seed', true), set_config('app.request_id', 'dev-seed', true)`;
    await tx`insert into medchr.tenant_policies (tenant_id, mfa_required, step_up_window_minutes, ip_allowlist)
      values (${tenantId}, true, 15, '[]'::jsonb)
      on conflict (tenant_id) do update set mfa_required = true`;
    await appendAuditEvent(tx, auditKeys, {
      action: "tenant.policy_update",
      outcome: "SUCCESS",
      actor: { type: "system", id: "dev.seed" },
      resource: { type: "tenant", id: tenantId },
      ip: null,
      userAgent: null,
      requestId: "dev-seed",
      details: { fields: ["mfa_required", "step_up_window_minutes", "ip_allowlist"] },
    });
  });
}
