/**
 * Upstash Redis REST stand-in for `npm start` and tests: speaks the Upstash REST protocol
 * in front of a real redis-server, so production code (@upstash/redis `Redis` with
 * {url, token}, @upstash/ratelimit) runs unchanged and offline. No npm package serves
 * this protocol (runtime-facts.md, "Managed services, locally").
 *
 * Protocol (what the SDK uses):
 *   POST /            body ["SET","k","v","EX",10]          -> {"result": ...} | 400 {"error": "..."}
 *   POST /pipeline    body [["SET","k","v"],["GET","k"]]   -> [{"result": ...} | {"error": "..."}, ...]
 *   POST /multi-exec  same body, run inside MULTI/EXEC     -> same, or 400 {"error"} if aborted
 *   Authorization: Bearer <token> on every request (401 otherwise).
 *   Upstash-Encoding: base64 -> every string in a result (recursively) is base64 of its
 *   bytes, except the status reply "OK" (the SDK sends this header by default).
 *
 * Loopback only, dev only: it never logs commands or values (they may hold identifiers).
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { isAuthorizedBearer, parseJson, readBody, sendJson, tokenDigest } from "../http-helpers";
import { connectRedis, parseRedisUrl, RespError, type RespReply, RespStatus } from "./connect-redis";
import { ScriptRegistry } from "./rewrite-lua-script";
import { type SpawnedRedis, spawnRedisServer } from "./spawn-redis-server";

/** Upstash's own request cap is in this range; a stand-in needs no more and must not buffer without bound. */
export const MAX_BODY_BYTES = 10 * 1024 * 1024;
/** A bearer token shorter than this is guessable even on loopback. */
export const MIN_TOKEN_CHARS = 16;

/**
 * Commands the stand-in refuses: they block the one shared Redis connection (BLPOP ...)
 * or change its state for every later request (SELECT, SUBSCRIBE, CLIENT REPLY, MULTI ...).
 * Upstash's REST API does not offer them either; transactions go through /multi-exec.
 */
const REFUSED_COMMANDS = new Set([
  "AUTH",
  "HELLO",
  "SELECT",
  "QUIT",
  "RESET",
  "CLIENT",
  "MONITOR",
  "SUBSCRIBE",
  "PSUBSCRIBE",
  "SSUBSCRIBE",
  "UNSUBSCRIBE",
  "PUNSUBSCRIBE",
  "SUNSUBSCRIBE",
  "MULTI",
  "EXEC",
  "DISCARD",
  "WATCH",
  "UNWATCH",
  "BLPOP",
  "BRPOP",
  "BRPOPLPUSH",
  "BLMOVE",
  "BLMPOP",
  "BZPOPMIN",
  "BZPOPMAX",
  "BZMPOP",
  "WAIT",
  "WAITAOF",
  "SYNC",
  "PSYNC",
  "REPLCONF",
  "SHUTDOWN",
  "DEBUG",
]);

export type UpstashRedisStandinOptions = {
  /** Bearer token clients must present (UPSTASH_REDIS_REST_TOKEN). */
  token: string;
  /** HTTP port on 127.0.0.1; default: a free one. */
  port?: number;
} & ({ redisUrl: string; spawn?: false } | { spawn: true; redisUrl?: undefined });

export interface UpstashRedisStandin {
  /** http://127.0.0.1:<port> (UPSTASH_REDIS_REST_URL) */
  url: string;
  token: string;
  /** The redis-server behind it (redis://...). */
  redisUrl: string;
  /** Closes the HTTP server, the Redis connection and a spawned redis-server. */
  stop(): Promise<void>;
}

class HttpFailure extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** A command ready for Redis, plus how to turn Redis's reply into what Upstash would answer. */
interface Prepared {
  args: string[];
  transform?: (reply: RespReply) => RespReply;
}

export async function startUpstashRedisStandin(
  options: UpstashRedisStandinOptions,
): Promise<UpstashRedisStandin> {
  if (typeof options.token !== "string" || options.token.length < MIN_TOKEN_CHARS) {
    throw new TypeError(`the stand-in token must be at least ${MIN_TOKEN_CHARS} characters`);
  }
  if (!options.spawn && !options.redisUrl) throw new TypeError("give redisUrl, or spawn: true");
  let spawned: SpawnedRedis | undefined;
  if (options.spawn) spawned = await spawnRedisServer();
  const redisUrl = spawned?.url ?? options.redisUrl!;
  const redis = connectRedis(parseRedisUrl(redisUrl));
  const scripts = new ScriptRegistry();
  const expectedTokenDigest = tokenDigest(options.token);

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (error instanceof HttpFailure) return sendJson(res, error.status, { error: error.message });
      // Redis unreachable or the connection dropped mid-request: outcome unknown.
      sendJson(res, 503, { error: "ERR redis unavailable" });
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? "/").split("?")[0]!.replace(/\/+$/, "") || "/";
    if (path !== "/" && path !== "/pipeline" && path !== "/multi-exec") {
      throw new HttpFailure(404, "ERR unknown endpoint");
    }
    if (req.method !== "POST") throw new HttpFailure(405, "ERR only POST is supported");
    // Authenticate before reading the body: an unauthenticated caller gets nothing parsed.
    if (!isAuthorizedBearer(req.headers.authorization, expectedTokenDigest)) {
      req.resume();
      throw new HttpFailure(401, "Unauthorized");
    }
    const text = (
      await readBody(req, MAX_BODY_BYTES, () => new HttpFailure(413, "ERR request body too large"))
    ).toString("utf8");
    const body = parseJson(text, () => new HttpFailure(400, "ERR failed to parse the request body as JSON"));
    const base64 = String(req.headers["upstash-encoding"] ?? "").toLowerCase() === "base64";
    const encode = (reply: RespReply) => toJson(reply, base64);

    if (path === "/") {
      const prepared = prepare(body, scripts);
      const [reply] = await redis.send([prepared.args]);
      const result = applyTransform(prepared, reply!);
      if (result instanceof RespError) return sendJson(res, 400, { error: result.message });
      return sendJson(res, 200, { result: encode(result) });
    }

    if (!Array.isArray(body) || body.length === 0) {
      throw new HttpFailure(400, "ERR body must be a non-empty array of commands");
    }

    if (path === "/pipeline") {
      // A refused command fails alone, as a Redis error in a pipeline would.
      const items = body.map((command): Prepared | HttpFailure => {
        try {
          return prepare(command, scripts);
        } catch (error) {
          if (error instanceof HttpFailure) return error;
          throw error;
        }
      });
      const toSend = items.filter((i): i is Prepared => !(i instanceof HttpFailure));
      const replies = await redis.send(toSend.map((p) => p.args));
      let next = 0;
      const out = items.map((item) => {
        if (item instanceof HttpFailure) return { error: item.message };
        const reply = applyTransform(item, replies[next++]!);
        return reply instanceof RespError ? { error: reply.message } : { result: encode(reply) };
      });
      return sendJson(res, 200, out);
    }

    // /multi-exec: one write (MULTI ... EXEC) on the shared connection, so nothing else
    // can interleave; Redis runs the block atomically. Any refused command aborts it all.
    const prepared = body.map((command) => prepare(command, scripts));
    const replies = await redis.send([["MULTI"], ...prepared.map((p) => p.args), ["EXEC"]]);
    const exec = replies[replies.length - 1];
    if (!Array.isArray(exec)) {
      // EXECABORT: a command failed while queueing; name that error, it says what was wrong.
      const queueError = replies.slice(1, -1).find((r): r is RespError => r instanceof RespError);
      const execError = exec instanceof RespError ? exec : undefined;
      throw new HttpFailure(400, (queueError ?? execError)?.message ?? "EXECABORT Transaction discarded");
    }
    return sendJson(
      res,
      200,
      exec.map((reply, i) => {
        const result = applyTransform(prepared[i]!, reply);
        return result instanceof RespError ? { error: result.message } : { result: encode(result) };
      }),
    );
  }

  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.port ?? 0, "127.0.0.1", () => resolve());
    });
  } catch (error) {
    // Port taken: leave nothing running behind.
    await redis.close();
    await spawned?.stop();
    throw error;
  }
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    token: options.token,
    redisUrl,
    async stop() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        // fetch keeps connections alive; close them or close() waits for their idle timeout.
        server.closeAllConnections();
      });
      await redis.close();
      await spawned?.stop();
    },
  };
}

function toArgs(command: unknown): string[] {
  if (!Array.isArray(command) || command.length === 0 || typeof command[0] !== "string" || !command[0]) {
    throw new HttpFailure(400, "ERR a command must be a non-empty JSON array starting with its name");
  }
  return command.map((arg) => {
    if (typeof arg === "string") return arg;
    if ((typeof arg === "number" && Number.isFinite(arg)) || typeof arg === "boolean") return String(arg);
    throw new HttpFailure(400, "ERR command arguments must be strings, numbers or booleans");
  });
}

/** Validates a command and rewrites the script commands (see rewrite-lua-script.ts). */
function prepare(command: unknown, scripts: ScriptRegistry): Prepared {
  const args = toArgs(command);
  const name = args[0]!.toUpperCase();
  if (REFUSED_COMMANDS.has(name)) throw new HttpFailure(400, `ERR ${name} is not supported over REST`);
  if ((name === "XREAD" || name === "XREADGROUP") && args.some((a) => a.toUpperCase() === "BLOCK")) {
    throw new HttpFailure(400, `ERR ${name} BLOCK is not supported over REST`);
  }
  switch (name) {
    case "EVAL":
    case "EVAL_RO": {
      if (args.length < 3) return { args };
      const { rewritten } = scripts.register(args[1]!);
      return { args: [args[0]!, rewritten, ...args.slice(2)] };
    }
    case "EVALSHA":
    case "EVALSHA_RO": {
      if (args.length < 3) return { args };
      return { args: [args[0]!, scripts.redisSha(args[1]!), ...args.slice(2)] };
    }
    case "SCRIPT": {
      const sub = (args[1] ?? "").toUpperCase();
      if (sub === "LOAD" && args.length === 3) {
        const { rewritten, clientSha } = scripts.register(args[2]!);
        // Answer with the hash of the text the client sent: that is what it will EVALSHA.
        return {
          args: [args[0]!, args[1]!, rewritten],
          transform: (reply) => (reply instanceof RespError ? reply : Buffer.from(clientSha)),
        };
      }
      if (sub === "EXISTS") {
        return { args: [...args.slice(0, 2), ...args.slice(2).map((sha) => scripts.redisSha(sha))] };
      }
      return { args };
    }
    default:
      return { args };
  }
}

function applyTransform(prepared: Prepared, reply: RespReply): RespReply {
  return prepared.transform ? prepared.transform(reply) : reply;
}

function toJson(reply: RespReply, base64: boolean): unknown {
  if (reply === null || typeof reply === "number") return reply;
  if (Buffer.isBuffer(reply)) return base64 ? reply.toString("base64") : reply.toString("utf8");
  if (Array.isArray(reply)) return reply.map((item) => toJson(item, base64));
  const text = reply instanceof RespStatus ? reply.value : reply.message;
  // The SDK leaves "OK" as is and base64-decodes every other string.
  return base64 && text !== "OK" ? Buffer.from(text, "utf8").toString("base64") : text;
}
