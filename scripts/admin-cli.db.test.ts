import { execFile } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyAuditChain } from "../shared/audit/verify-audit-chain";
import { authenticateApiKey } from "../shared/auth/api-keys/authenticate-api-key";
import { EMPTY_ENV_API_KEYS } from "../shared/auth/api-keys/env-api-keys";
import { verifyPassword } from "../shared/auth/password-hash";
import { testKeyRing } from "../test/helpers/identity";
import { startTestDatabase, type TestDatabase } from "../test/helpers/test-database";
import { testEnv } from "../test/helpers/test-env";
import { REPO_ROOT } from "./lib/migrations-dir";

interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

const SETTINGS = ["DATABASE_URL", "PASSWORD_PEPPER_KEYS", "AUDIT_KEYS", "API_KEY_HMAC_KEYS"] as const;

/**
 * Runs a CLI as operators do (`node --import tsx`), asynchronously: the PGlite server it
 * connects to lives in this process, so a synchronous spawn would deadlock. The settings
 * come only from `env` (the parent's copies are dropped) so a test can leave one out.
 */
function runCli(script: string, args: string[], env: Record<string, string | undefined>): Promise<CliRun> {
  const childEnv: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value !== undefined && !(SETTINGS as readonly string[]).includes(name)) childEnv[name] = value;
  }
  for (const [name, value] of Object.entries(env)) if (value !== undefined) childEnv[name] = value;
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["--import", "tsx", script, ...args],
      { cwd: REPO_ROOT, env: childEnv, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

let t: TestDatabase;
let settings: Record<string, string>;
const secretMaterial = () =>
  ["PASSWORD_PEPPER_KEYS", "AUDIT_KEYS", "API_KEY_HMAC_KEYS"].map((n) => settings[n]!.split(":")[1]!);

beforeAll(async () => {
  t = await startTestDatabase();
  const env = testEnv(t.ownerUrl);
  settings = Object.fromEntries(SETTINGS.map((n) => [n, env[n] as string]));
});
afterAll(async () => {
  await t?.stop();
});

const bootstrap = (args: string[], env: Record<string, string | undefined> = settings) =>
  runCli("scripts/admin-bootstrap.ts", args, env);
const apikey = (args: string[], env: Record<string, string | undefined> = settings) =>
  runCli("scripts/apikey-create.ts", args, env);

const harbor = [
  "--tenant-name",
  "Harbor Clinic",
  "--slug",
  "harbor",
  "--admin-email",
  "Ada@Harbor.Example.org",
  "--admin-name",
  "Ada Admin",
  "--email-domains",
  "harbor.example.org, Harbor.org",
];

async function tenantCount(): Promise<number> {
  const [row] = await t.owner<{ n: number }[]>`select count(*)::int as n from medchr.tenants`;
  return row!.n;
}

describe("npm run admin:bootstrap", () => {
  it("--help documents the flags and exit codes", async () => {
    const run = await bootstrap(["--help"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/--tenant-name/);
    expect(run.stdout).toMatch(/Exit codes: 0 created; 1 .*; 2 .*\n?.*3 a tenant already exists/s);
  });

  it.each([
    ["a missing flag", harbor.slice(2), /--tenant-name is required/],
    ["an unknown flag", [...harbor, "--admin", "x"], /Unknown option '--admin'/],
    [
      "a bad slug",
      ["--tenant-name", "X", "--slug", "Bad Slug", "--admin-email", "a@b.org", "--admin-name", "A"],
      /slug/,
    ],
    ["a bad email domain", [...harbor.slice(0, 8), "--email-domains", "not a domain"], /--email-domains/],
  ])("exits 2 on %s, creating nothing", async (_label, args, message) => {
    const run = await bootstrap(args);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(await tenantCount()).toBe(0);
  });

  it.each([
    ["DATABASE_URL missing", { DATABASE_URL: undefined }, /DATABASE_URL is not set/],
    ["PASSWORD_PEPPER_KEYS missing", { PASSWORD_PEPPER_KEYS: undefined }, /PASSWORD_PEPPER_KEYS is not set/],
    [
      "a weak pepper key",
      { PASSWORD_PEPPER_KEYS: "k1:AAAA" },
      /PASSWORD_PEPPER_KEYS active key "k1" is weak/,
    ],
    [
      "an unreachable database",
      { DATABASE_URL: "postgres://postgres@127.0.0.1:1/postgres" },
      /could not reach/,
    ],
  ])("exits 2 with %s", async (_label, overrides, message) => {
    const run = await bootstrap(harbor, { ...settings, ...overrides });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    for (const material of secretMaterial()) expect(run.stderr + run.stdout).not.toContain(material);
  });

  it("creates the first tenant and admin, printing the one-time password once and nothing else secret", async () => {
    const run = await bootstrap(harbor);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const lines = run.stdout.trim().split("\n");
    const password = lines.at(-1)!;
    expect(password).toMatch(/^[A-Za-z0-9]{20}$/);
    expect(run.stdout.split(password)).toHaveLength(2);
    for (const material of secretMaterial()) expect(run.stdout).not.toContain(material);

    const [tenant] = await t.owner<{ id: string; slug: string; email_domains: string[] }[]>`
      select id, slug, array_to_json(email_domains) as email_domains from medchr.tenants`;
    expect(tenant).toMatchObject({ slug: "harbor", email_domains: ["harbor.example.org", "harbor.org"] });
    expect(run.stdout).toContain(tenant!.id);
    const [admin] = await t.owner<{ id: string; role: string; password_hash: string }[]>`
      select id, role, password_hash from medchr.users where email = 'ada@harbor.example.org'`;
    expect(admin!.role).toBe("admin");
    expect(await verifyPassword(password, admin!.password_hash, testKeyRing("PASSWORD_PEPPER_KEYS"))).toBe(
      true,
    );
    expect(admin!.password_hash).not.toContain(password);

    const events = await t.owner<{ action: string; actor_id: string }[]>`
      select action, actor_id from medchr.audit_events where tenant_id = ${tenant!.id} order by seq`;
    expect(events).toEqual([
      { action: "tenant.create", actor_id: "cli.bootstrap" },
      { action: "user.create", actor_id: "cli.bootstrap" },
    ]);
    expect((await verifyAuditChain(t.db, testKeyRing("AUDIT_KEYS"), tenant!.id)).ok).toBe(true);
  });

  it("refuses with exit 3 once a tenant exists, unless --force", async () => {
    const other = [
      "--tenant-name",
      "Lake Clinic",
      "--slug",
      "lake",
      "--admin-email",
      "lee@lake.example.org",
      "--admin-name",
      "Lee Admin",
    ];
    const refused = await bootstrap(other);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toMatch(/already exist.*--force/);
    expect(refused.stdout).toBe("");
    expect(await tenantCount()).toBe(1);

    const forced = await bootstrap([...other, "--force"]);
    expect(forced.code).toBe(0);
    expect(await tenantCount()).toBe(2);

    // --force does not get around uniqueness: same slug is refused by the database (exit 1).
    const duplicate = await bootstrap([...harbor, "--force"]);
    expect(duplicate.code).toBe(1);
    expect(duplicate.stderr).toMatch(/slug or a user with this e-mail exists/);
    expect(duplicate.stdout).toBe("");
    expect(await tenantCount()).toBe(2);
  });
});

describe("npm run apikey:create", () => {
  const keyArgs = (tenant: string, extra: string[] = []) => [
    "--tenant",
    tenant,
    "--name",
    "Lab partner",
    "--scopes",
    "read,write",
    ...extra,
  ];
  const harborId = async () => {
    const [row] = await t.owner<{ id: string }[]>`select id from medchr.tenants where slug = 'harbor'`;
    return row!.id;
  };

  it("--help documents the flags and exit codes", async () => {
    const run = await apikey(["--help"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/--scopes/);
    expect(run.stdout).toMatch(/Exit codes: 0 created; 1 failed; 2 .*3 no such tenant/s);
  });

  it("issues a key by slug that then authenticates, audited as the CLI", async () => {
    const run = await apikey(keyArgs("harbor"));
    expect(run.code).toBe(0);
    const token = run.stdout.trim();
    expect(run.stdout).toBe(`${token}\n`);
    expect(token).toMatch(/^mk_[a-z2-7]{16}_[A-Za-z0-9_-]{43}$/);
    expect(run.stderr).toMatch(/scopes read,write, 600\/min, no expiry/);
    expect(run.stderr).not.toContain(token.slice(20));

    const authenticated = await authenticateApiKey(t.db, token, {
      hmacKeys: testKeyRing("API_KEY_HMAC_KEYS"),
      envKeys: EMPTY_ENV_API_KEYS,
      now: new Date(),
      requestId: "test",
    });
    expect(authenticated.ok).toBe(true);
    if (!authenticated.ok) return;
    const tenantId = await harborId();
    expect(authenticated.value.principal).toMatchObject({
      tenantId,
      scopes: ["read", "write"],
      rateLimitPerMinute: 600,
    });
    const [event] = await t.owner<
      { actor_type: string; actor_id: string; resource_id: string; details: unknown }[]
    >`
      select actor_type, actor_id, resource_id, details from medchr.audit_events
      where tenant_id = ${tenantId} and action = 'api_key.create'`;
    expect(event).toEqual({
      actor_type: "system",
      actor_id: "cli.apikey_create",
      resource_id: authenticated.value.principal.apiKeyRowId,
      details: { scopes: ["read", "write"] },
    });
    // A wrong secret for the same key id does not authenticate.
    const forged = `${token.slice(0, 20)}${"A".repeat(42)}A`;
    const refused = await authenticateApiKey(t.db, forged, {
      hmacKeys: testKeyRing("API_KEY_HMAC_KEYS"),
      envKeys: EMPTY_ENV_API_KEYS,
      now: new Date(),
      requestId: "test",
    });
    expect(refused.ok).toBe(false);
  });

  it("takes a tenant uuid, a rate limit and an expiry", async () => {
    const tenantId = await harborId();
    const run = await apikey(
      keyArgs(tenantId.toUpperCase(), ["--rate-limit", "120", "--expires-in-days", "7"]),
    );
    expect(run.code).toBe(0);
    const keyId = run.stdout.trim().slice(3, 19);
    const [row] = await t.owner<{ tenant_id: string; rate_limit_per_minute: number; expires_at: Date }[]>`
      select tenant_id, rate_limit_per_minute, expires_at from medchr.api_keys where key_id = ${keyId}`;
    expect(row!.tenant_id).toBe(tenantId);
    expect(row!.rate_limit_per_minute).toBe(120);
    const days = (new Date(row!.expires_at).getTime() - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(6.99);
    expect(days).toBeLessThanOrEqual(7);
  });

  it.each([
    ["an unknown slug", keyArgs("nowhere"), 3, /no tenant nowhere/],
    ["an unknown uuid", keyArgs("00000000-0000-4000-8000-000000000000"), 3, /no tenant/],
    ["an unknown scope", ["--tenant", "harbor", "--name", "x", "--scopes", "read,root"], 2, /--scopes\[1\]/],
    ["a rate limit above 10000", keyArgs("harbor", ["--rate-limit", "10001"]), 2, /--rate-limit/],
    [
      "a non-numeric rate limit",
      keyArgs("harbor", ["--rate-limit", "fast"]),
      2,
      /--rate-limit must be a whole number/,
    ],
    ["zero expiry days", keyArgs("harbor", ["--expires-in-days", "0"]), 2, /--expires-in-days/],
    ["a missing --scopes", ["--tenant", "harbor", "--name", "x"], 2, /--scopes is required/],
  ])("refuses %s with the documented exit code and issues nothing", async (_label, args, code, message) => {
    const [before] = await t.owner<{ n: number }[]>`select count(*)::int as n from medchr.api_keys`;
    const run = await apikey(args);
    expect(run.code).toBe(code);
    expect(run.stderr).toMatch(message);
    expect(run.stdout).toBe("");
    const [after] = await t.owner<{ n: number }[]>`select count(*)::int as n from medchr.api_keys`;
    expect(after!.n).toBe(before!.n);
  });

  it("refuses a suspended tenant with exit 3", async () => {
    await t.owner`update medchr.tenants set status = 'suspended' where slug = 'lake'`;
    const run = await apikey(keyArgs("lake"));
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/suspended/);
  });

  it("exits 2 without API_KEY_HMAC_KEYS", async () => {
    const run = await apikey(keyArgs("harbor"), { ...settings, API_KEY_HMAC_KEYS: undefined });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/API_KEY_HMAC_KEYS is not set/);
  });
});
