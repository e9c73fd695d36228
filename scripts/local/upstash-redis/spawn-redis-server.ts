/**
 * A throw-away redis-server for the local stack and tests: loopback only, no persistence
 * (nothing written to disk), on a free port. Rate-limit counters are disposable, so
 * losing them on restart is the right trade for a dev box.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { connectRedis, RespStatus } from "./connect-redis";

export const DEFAULT_REDIS_SERVER_PATH = "/usr/bin/redis-server";
const READY_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 3_000;

export interface SpawnedRedis {
  /** redis://127.0.0.1:<port> */
  url: string;
  port: number;
  pid: number;
  stop(): Promise<void>;
}

export class RedisServerMissingError extends Error {
  constructor(path: string) {
    super(
      `redis-server not found at ${path}. Install it (Debian/Ubuntu: apt-get install redis-server); ` +
        "CI installs it. Tests that need Redis do not skip without it.",
    );
    this.name = "RedisServerMissingError";
  }
}

export async function findFreePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (!address || typeof address === "string") throw new Error("could not pick a free port");
  return address.port;
}

export async function spawnRedisServer(
  options: { binary?: string; port?: number } = {},
): Promise<SpawnedRedis> {
  const binary = options.binary ?? process.env.REDIS_SERVER_PATH ?? DEFAULT_REDIS_SERVER_PATH;
  if (!existsSync(binary)) throw new RedisServerMissingError(binary);
  // A free port can be taken between probing and binding: try a few.
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = options.port ?? (await findFreePort());
    try {
      return await startOn(binary, port);
    } catch (error) {
      lastError = error;
      if (options.port) break;
    }
  }
  throw lastError;
}

async function startOn(binary: string, port: number): Promise<SpawnedRedis> {
  const child = spawn(
    binary,
    [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--appendonly",
      "no",
      // Any stray dump lands in the temp folder, never in the repository.
      "--dir",
      tmpdir(),
      "--daemonize",
      "no",
      "--loglevel",
      "warning",
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString("utf8")).slice(-2000);
  });
  // If this Node process exits without calling stop(), do not leave redis-server behind.
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));

  try {
    await waitUntilReady(child, port, exited, () => stderr);
  } catch (error) {
    child.kill("SIGKILL");
    await exited;
    process.removeListener("exit", killOnExit);
    throw error;
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    pid: child.pid!,
    async stop() {
      process.removeListener("exit", killOnExit);
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    },
  };
}

async function waitUntilReady(
  child: ChildProcess,
  port: number,
  exited: Promise<void>,
  stderr: () => string,
): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let gone = false;
  void exited.then(() => {
    gone = true;
  });
  while (Date.now() < deadline) {
    if (gone)
      throw new Error(`redis-server exited during start (code ${child.exitCode}): ${stderr().trim()}`);
    const probe = connectRedis({ host: "127.0.0.1", port, connectTimeoutMs: 500 });
    try {
      // The port may belong to someone else's Redis: only our child's process id counts.
      const [pong, info] = await probe.send([["PING"], ["INFO", "server"]]);
      const pid = /process_id:(\d+)/.exec(Buffer.isBuffer(info) ? info.toString("utf8") : "")?.[1];
      if (pong instanceof RespStatus && pong.value === "PONG" && Number(pid) === child.pid) return;
    } catch {
      // not listening yet
    } finally {
      await probe.close();
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`redis-server did not answer PING within ${READY_TIMEOUT_MS} ms`);
}
