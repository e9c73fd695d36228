/**
 * The real local stack (`npm start`) as a child process, for end-to-end tests:
 * scripts/start.ts on free ports with its own data folder, output collected, stopped
 * the way a developer stops it (Ctrl-C) and, if that fails, killed for certain.
 *
 * Process groups: start.ts is spawned detached (it leads its own group, as a terminal's
 * foreground job would), and it spawns wrangler detached too (wrangler -> node -> workerd
 * in a second group). The helper records both groups while the stack runs so a test can
 * check that nothing of this run is left, and so cleanup can kill whatever survived.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { createConnection, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REPO_ROOT } from "../../scripts/lib/migrations-dir";

export const RUNNING_LINE = "MedCHR is running at";
/** The demo clinic's admin, seeded on a first start (scripts/start.ts). */
export const DEMO_ADMIN_EMAIL = "admin@demo-clinic.example.org";
const START_TIMEOUT_MS = 150_000;
const STOP_TIMEOUT_MS = 30_000;

export interface StackExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface StopResult extends StackExit {
  /** The stack ignored SIGINT for `timeoutMs` and had to be killed. */
  killed: boolean;
  /** Everything the stack printed, this run, ANSI colours removed. */
  output: string;
}

export interface LocalStack {
  origin: string;
  port: number;
  pgPort: number;
  /** postgres:// URL of the PGlite superuser (operator work only). */
  ownerUrl: string;
  dataDir: string;
  pid: number;
  /** Everything printed so far (stdout and stderr interleaved), ANSI colours removed. */
  output(): string;
  /** Process groups of this run (start.ts's and wrangler's), as seen while it ran. */
  processGroups(): number[];
  /** Ctrl-C: SIGINT to start.ts's process group, then wait for it to exit. */
  stop(options?: { timeoutMs?: number }): Promise<StopResult>;
  /** Cleanup for afterAll: stop if still running, SIGKILL every group of the run. Never throws. */
  kill(): Promise<void>;
}

export interface StartOptions {
  /** Reuse a data folder (restart); default: a fresh temporary one. */
  dataDir?: string;
  timeoutMs?: number;
  /** Extra environment for start.ts (e.g. OPENAI_BASE_URL to start the OpenAI stand-in). */
  env?: Record<string, string>;
}

/**
 * The demo admin's password from a first start's output, where start.ts prints it once:
 * the same place a developer reads it. Throws if the output holds none (a restart) or
 * more than one.
 */
export function seededAdminPassword(output: string): string {
  const found = [...output.matchAll(/^\s*password:\s+(\S+)\s*$/gm)];
  if (found.length !== 1) {
    throw new Error(`expected the seeded admin's password printed once, found ${found.length}:\n${output}`);
  }
  return found[0]![1]!;
}

/** A port nobody listens on now (bind port 0, read it, release it). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (!address || typeof address === "string") throw new Error("could not read a free port");
  return address.port;
}

async function distinctFreePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}

export function makeDataDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), "medchr-e2e-"));
}

export async function removeDataDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

/** Whether something accepts TCP connections on 127.0.0.1:port. */
export function isListening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: "127.0.0.1", port });
    socket.setTimeout(2000);
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("timeout", () => {
      socket.destroy();
      resolve(true); // something holds the port but does not answer: still not free
    });
    socket.once("error", () => resolve(false));
  });
}

export interface ProcessInfo {
  pid: number;
  pgid: number;
  /** One-letter state from /proc/<pid>/stat (Z: exited, not yet reaped). */
  state: string;
  command: string;
}

/** Every process on the machine, with its group and command line (Linux /proc). */
export async function listProcesses(): Promise<ProcessInfo[]> {
  const pids = (await readdir("/proc")).filter((name) => /^\d+$/.test(name));
  const processes: ProcessInfo[] = [];
  for (const pid of pids) {
    try {
      const stat = await readFile(`/proc/${pid}/stat`, "utf8");
      // Fields after the command name (which may hold spaces and parentheses): state ppid pgrp ...
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const command = (await readFile(`/proc/${pid}/cmdline`, "utf8")).split("\0").join(" ").trim();
      processes.push({ pid: Number(pid), pgid: Number(fields[2]), state: fields[0] ?? "?", command });
    } catch {
      // exited while we looked
    }
  }
  return processes;
}

/** Processes still running in any of these groups (zombies, already exited, left out). */
export async function processesInGroups(groups: readonly number[]): Promise<ProcessInfo[]> {
  const wanted = new Set(groups);
  return (await listProcesses()).filter((p) => wanted.has(p.pgid) && p.state !== "Z");
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI escape sequences
const ANSI = /\u001b\[[0-9;]*[A-Za-z]/g;

function signalGroup(pgid: number, signal: NodeJS.Signals) {
  try {
    process.kill(-pgid, signal);
  } catch {
    // group already gone
  }
}

function waitForExit(
  child: ChildProcess,
  exited: Promise<StackExit>,
  ms: number,
): Promise<StackExit | undefined> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  }
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    exited,
    new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** A user's shell, not vitest's: no VITEST/NODE_ENV markers, no colours. */
function stackEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (key === "NODE_ENV" || key === "TEST" || key.startsWith("VITEST")) continue;
    if (key === "PORT" || key === "PGLITE_PORT" || key === "MEDCHR_DATA_DIR") continue;
    env[key] = value;
  }
  env.NO_COLOR = "1";
  env.FORCE_COLOR = "0";
  return env;
}

/**
 * Starts `node --import tsx scripts/start.ts` and resolves once it prints that it is
 * running. Rejects (after killing what it started) if the stack exits or times out
 * first; the error carries the stack's output.
 */
export async function startLocalStack(options: StartOptions = {}): Promise<LocalStack> {
  const dataDir = options.dataDir ?? (await makeDataDir());
  const [port, pgPort] = (await distinctFreePorts(2)) as [number, number];
  const origin = `http://127.0.0.1:${port}`;
  const child = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      join(REPO_ROOT, "scripts", "start.ts"),
      "--port",
      String(port),
      "--pg-port",
      String(pgPort),
      "--data-dir",
      dataDir,
    ],
    {
      cwd: REPO_ROOT,
      env: { ...stackEnv(), ...options.env },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    },
  );
  if (!child.pid) throw new Error("could not spawn scripts/start.ts");
  const pid = child.pid;

  let raw = "";
  const output = () => raw.replace(ANSI, "");
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => (raw += chunk));
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (raw += chunk));
  const exited = new Promise<StackExit>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );

  const groups = new Set<number>([pid]);
  /** Adds the groups of every process whose command line names this run's data folder (wrangler). */
  async function recordGroups() {
    for (const p of await listProcesses()) {
      if (p.command.includes(dataDir)) groups.add(p.pgid);
    }
  }

  let killed = false;
  /**
   * SIGKILL every recorded group that still holds a process of this run. A group id is
   * a pid and can be reused once its processes are gone, so a group is only signalled
   * while one of its members is recognisably ours (this repo's wrangler/workerd/start.ts
   * or this run's data folder on its command line).
   */
  async function killAll() {
    await recordGroups().catch(() => {});
    const alive = await processesInGroups([...groups]).catch(() => []);
    const ours = new Set(
      alive.filter((p) => p.command.includes(dataDir) || p.command.includes(REPO_ROOT)).map((p) => p.pgid),
    );
    if (child.exitCode === null && child.signalCode === null) ours.add(pid);
    for (const group of ours) signalGroup(group, "SIGKILL");
    await waitForExit(child, exited, 5000);
  }

  async function stop(stopOptions: { timeoutMs?: number } = {}): Promise<StopResult> {
    if (child.exitCode === null && child.signalCode === null) {
      await recordGroups().catch(() => {});
      signalGroup(pid, "SIGINT");
    }
    const exit = await waitForExit(child, exited, stopOptions.timeoutMs ?? STOP_TIMEOUT_MS);
    if (!exit) {
      killed = true;
      await killAll();
      return { code: child.exitCode, signal: child.signalCode, killed, output: output() };
    }
    return { ...exit, killed, output: output() };
  }

  const stack: LocalStack = {
    origin,
    port,
    pgPort,
    ownerUrl: `postgres://postgres@127.0.0.1:${pgPort}/postgres`,
    dataDir,
    pid,
    output,
    processGroups: () => [...groups],
    stop,
    async kill() {
      try {
        if (child.exitCode === null && child.signalCode === null) await stop({ timeoutMs: 10_000 });
      } catch {
        // fall through to SIGKILL
      }
      await killAll().catch(() => {});
    },
  };

  // Wait for the "running" line, an early exit, or the deadline.
  const timeoutMs = options.timeoutMs ?? START_TIMEOUT_MS;
  const outcome = await new Promise<"running" | "exited" | "timeout">((resolve) => {
    const timer = setTimeout(() => finish("timeout"), timeoutMs);
    const onData = () => {
      if (output().includes(RUNNING_LINE)) finish("running");
    };
    function finish(result: "running" | "exited" | "timeout") {
      clearTimeout(timer);
      child.stdout!.off("data", onData);
      resolve(result);
    }
    child.stdout!.on("data", onData);
    void exited.then(() => finish("exited"));
    onData();
  });
  if (outcome !== "running") {
    await stack.kill();
    const reason =
      outcome === "exited"
        ? `exited (code ${child.exitCode}, signal ${child.signalCode}) before it was running`
        : `did not print "${RUNNING_LINE}" within ${timeoutMs / 1000} s`;
    throw new Error(`local stack ${reason}. Output:\n${output()}`);
  }
  await recordGroups();
  return stack;
}
