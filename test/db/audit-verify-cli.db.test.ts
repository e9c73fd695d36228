import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../../scripts/lib/migrations-dir";
import { appendAuditEvent } from "../../shared/audit/append-audit-event";
import { encodeBase64Url, parseKeyRing } from "../../shared/config/key-ring";
import { createTenant, startTestDatabase, type TestDatabase } from "../helpers/test-database";

/** Throwaway test key, never used outside tests. */
const AUDIT_KEYS = `audit1:${encodeBase64Url(Uint8Array.from({ length: 32 }, (_, i) => (i * 53 + 11) % 256))}`;
const KEYS = parseKeyRing("AUDIT_KEYS", AUDIT_KEYS, { strict: true }).ring!;

interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the CLI as operators do. Asynchronously: the PGlite server it connects to lives in
 * this process, so a synchronous spawn would deadlock.
 */
function runCli(args: string[], env: Record<string, string | undefined>): Promise<CliRun> {
  const childEnv: Record<string, string> = {};
  for (const [name, value] of Object.entries({ ...process.env, ...env })) {
    if (value !== undefined && !["DATABASE_URL", "AUDIT_KEYS"].includes(name)) childEnv[name] = value;
  }
  for (const name of ["DATABASE_URL", "AUDIT_KEYS"]) if (env[name] !== undefined) childEnv[name] = env[name]!;
  return new Promise((resolve) => {
    execFile(
      "npx",
      ["tsx", "scripts/audit-verify.ts", ...args],
      { cwd: REPO_ROOT, env: childEnv, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

let t: TestDatabase;
let tenantA: string;
let tenantB: string;

beforeAll(async () => {
  t = await startTestDatabase();
  tenantA = await createTenant(t.owner, "cli-a");
  tenantB = await createTenant(t.owner, "cli-b");
  for (const tenantId of [tenantA, tenantB]) {
    for (let i = 0; i < 5; i++) {
      await t.db.withTenant({ tenantId, requestId: `seed-${i}` }, (tx) =>
        appendAuditEvent(tx, KEYS, {
          action: "patient.read",
          outcome: "SUCCESS",
          actor: { type: "user", id: crypto.randomUUID() },
          resource: { type: "patient", id: crypto.randomUUID() },
          requestId: `seed-${i}`,
        }),
      );
    }
  }
});
afterAll(async () => {
  await t?.stop();
});

describe("npm run audit:verify", () => {
  it("exits 0 and prints OK per tenant when every chain verifies (application role URL)", async () => {
    const run = await runCli([], { DATABASE_URL: t.url, AUDIT_KEYS });
    expect(run.stderr).not.toMatch(/audit-verify:/);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`OK      ${tenantA}  events=5 head=5`);
    expect(run.stdout).toContain(`OK      ${tenantB}  events=5 head=5`);
    expect(run.stdout).toContain("2 chain(s) verified: 2 ok, 0 failed");
  });

  it("reads settings from --env-file", async () => {
    const dir = await mkdtemp(join(tmpdir(), "audit-verify-"));
    try {
      const file = join(dir, "verify.env");
      await writeFile(file, `DATABASE_URL=${t.ownerUrl}\nAUDIT_KEYS=${AUDIT_KEYS}\n`);
      const run = await runCli(["--env-file", file, "--tenant", tenantA], {});
      expect(run.code).toBe(0);
      expect(run.stdout).toContain(`OK      ${tenantA}`);
      expect(run.stdout).not.toContain(tenantB);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("exits 1 and names the first bad sequence after tampering, printing no event contents", async () => {
    await t.owner.begin(async (sql) => {
      await sql`set local session_replication_role = replica`;
      await sql`update medchr.audit_events set outcome = 'DENIED' where tenant_id = ${tenantB} and seq = 3`;
    });
    const run = await runCli(["--batch-size", "2"], { DATABASE_URL: t.url, AUDIT_KEYS });
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(`OK      ${tenantA}`);
    expect(run.stdout).toContain(
      `FAILED  ${tenantB}  first_bad_seq=3 reason=hash_mismatch events_verified=2 head=5`,
    );
    expect(run.stdout).toContain("2 chain(s) verified: 1 ok, 1 failed");
    expect(run.stdout + run.stderr).not.toMatch(/patient\.read|DENIED|seed-/);

    // --tenant limits the run: the good chain alone exits 0.
    expect((await runCli(["--tenant", tenantA], { DATABASE_URL: t.url, AUDIT_KEYS })).code).toBe(0);
  });

  it.each([
    ["AUDIT_KEYS missing", [], { AUDIT_KEYS: undefined }, /AUDIT_KEYS is missing/],
    ["DATABASE_URL missing", [], { DATABASE_URL: undefined }, /DATABASE_URL is missing/],
    ["a malformed tenant id", ["--tenant", "not-a-uuid"], {}, /--tenant must be a uuid/],
    ["an unknown tenant", ["--tenant", "00000000-0000-4000-8000-000000000000"], {}, /no tenant/],
    ["an unknown option", ["--tenants", "x"], {}, /usage:/],
    [
      "an unreachable database",
      [],
      { DATABASE_URL: "postgres://medchr_login@127.0.0.1:1/postgres" },
      /could not verify.*ECONNREFUSED/,
    ],
    [
      "an unreadable env file",
      ["--env-file", "/nonexistent/verify.env"],
      {},
      /cannot read env file|not found/,
    ],
  ] as const)("exits 2 on %s", async (label, args, overrides, message) => {
    const run = await runCli([...args], { DATABASE_URL: t.url, AUDIT_KEYS, ...overrides });
    // Node 20 itself looks for --env-file anywhere on the command line (fixed in Node 22)
    // and exits 9 before the script runs when the file is missing: still "nothing concluded".
    expect(run.code).toBe(
      label === "an unreadable env file" && process.versions.node.startsWith("20.") ? 9 : 2,
    );
    expect(run.stderr).toMatch(message);
    expect(run.stderr + run.stdout).not.toContain(AUDIT_KEYS.split(":")[1]!);
  });
});
