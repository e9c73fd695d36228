/**
 * PGlite for the benchmarks, in a child process reached over its socket as the database is
 * reached in production: the engine's work does not stall the measuring process's event
 * loop, process.cpuUsage() counts the application alone (what a Worker is billed for), and
 * the engine's own CPU can be read from /proc.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { pathToFileURL } from "node:url";
import { connect, type Database, databaseFromSql, type Sql } from "../../../shared/db/database";
import { applyMigrations } from "../../../shared/db/migrate";
import { REPO_ROOT, readMigrations } from "../../lib/migrations-dir";

export interface DatabaseProcess {
  /** The login role's URL, as the functions connect. */
  url: string;
  /** The superuser's URL, for seeding and migrations. */
  ownerUrl: string;
  /** User + system CPU of the engine process so far, or null where /proc is missing. */
  cpuMs(): number | null;
  stop(): Promise<void>;
}

function clockTicksPerSecond(): number {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
}

function processCpuMs(pid: number, ticksPerSecond: number): number | null {
  try {
    // Fields after the command name (which may hold spaces) start at field 3, state;
    // utime and stime are fields 14 and 15 (proc(5)).
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / ticksPerSecond;
  } catch {
    return null;
  }
}

/** Starts scripts/local/pglite-server.ts in its own Node process; it stops when its stdin closes. */
export async function startDatabaseProcess(): Promise<DatabaseProcess> {
  const server = pathToFileURL(join(REPO_ROOT, "scripts", "local", "pglite-server.ts")).href;
  const code = [
    `const { startLocalPostgres } = await import(${JSON.stringify(server)});`,
    "const pg = await startLocalPostgres();",
    "process.stdout.write(JSON.stringify({ url: pg.url, ownerUrl: pg.ownerUrl }) + '\\n');",
    "process.stdin.on('end', () => pg.stop().finally(() => process.exit(0)));",
    "process.stdin.resume();",
  ].join("\n");
  const child: ChildProcess = spawn(
    process.execPath,
    ["--import", "tsx", "--input-type=module", "-e", code],
    {
      cwd: REPO_ROOT,
      stdio: ["pipe", "pipe", "inherit"],
    },
  );
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const first = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once("line", (line) => {
      lines.close();
      resolve(line);
    });
    child.once("exit", (status) => reject(new Error(`PGlite process exited early (${status})`)));
  });
  const { url, ownerUrl } = JSON.parse(first) as { url: string; ownerUrl: string };
  const ticks = clockTicksPerSecond();
  const pid = child.pid!;
  return {
    url,
    ownerUrl,
    cpuMs: () => processCpuMs(pid, ticks),
    async stop() {
      child.stdin!.end();
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

export interface BenchDatabase extends DatabaseProcess {
  /** Superuser pool (4 connections): seeding, fixtures, ANALYZE. */
  owner: Sql;
  /** Login-role pool (8 connections), for fixtures made through domain code. */
  db: Database;
  /** Closes both pools, then the engine process. */
  stop(): Promise<void>;
}

/** The engine process with the real migrations applied, and the two pools a benchmark seeds with. */
export async function startBenchDatabase(): Promise<BenchDatabase> {
  const engine = await startDatabaseProcess();
  const owner = connect(engine.ownerUrl, { max: 4 });
  const appSql = connect(engine.url, { max: 8 });
  const stop = async () => {
    await appSql.end({ timeout: 1 });
    await owner.end({ timeout: 1 });
    await engine.stop();
  };
  try {
    await applyMigrations(owner, await readMigrations());
  } catch (error) {
    await stop();
    throw error;
  }
  return { ...engine, owner, db: databaseFromSql(appSql), stop };
}
