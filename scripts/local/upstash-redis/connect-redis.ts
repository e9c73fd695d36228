/**
 * A minimal Redis client on node:net, RESP2 only: enough for the Upstash REST stand-in
 * to forward commands to a real redis-server. One socket, pipelined: requests are written
 * in order and replies are matched to them first-in first-out, which is how RESP works.
 *
 * Not a general client: no pub/sub, no blocking commands, no RESP3 (the stand-in refuses
 * the commands that would change the shared connection's state; see server.ts).
 */
import { createConnection, type Socket } from "node:net";

/** A Redis error reply (`-ERR ...`): a value, not an exception, so pipelines keep going. */
export class RespError {
  constructor(readonly message: string) {}
}

/** A status reply (`+OK`): kept apart from bulk strings because Upstash encodes them differently. */
export class RespStatus {
  constructor(readonly value: string) {}
}

/** Bulk strings stay bytes (Buffer) so base64 encoding is exact for binary values. */
export type RespReply = null | number | Buffer | RespStatus | RespError | RespReply[];

export interface RedisConnectionOptions {
  host: string;
  port: number;
  password?: string;
  username?: string;
  db?: number;
  /** A dead host must not hang an HTTP request forever. */
  connectTimeoutMs?: number;
}

export interface RedisConnection {
  /** Writes all commands in one go (nothing can interleave) and resolves with one reply each. */
  send(commands: readonly (readonly string[])[]): Promise<RespReply[]>;
  close(): Promise<void>;
}

/** redis://[[user]:password@]host[:port][/db] */
export function parseRedisUrl(url: string): RedisConnectionOptions {
  const parsed = new URL(url);
  if (parsed.protocol !== "redis:") throw new TypeError("redis URL must start with redis://");
  const db = parsed.pathname.length > 1 ? Number(parsed.pathname.slice(1)) : undefined;
  if (db !== undefined && !Number.isInteger(db)) throw new TypeError("redis URL database must be a number");
  return {
    host: parsed.hostname || "127.0.0.1",
    port: parsed.port ? Number(parsed.port) : 6379,
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(db !== undefined ? { db } : {}),
  };
}

export function encodeCommand(args: readonly string[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const arg of args) {
    const bytes = Buffer.from(arg, "utf8");
    parts.push(Buffer.from(`$${bytes.length}\r\n`), bytes, Buffer.from("\r\n"));
  }
  return Buffer.concat(parts);
}

const INCOMPLETE = Symbol("incomplete");

/** Parses one reply at `offset`; INCOMPLETE when the buffer does not hold all of it yet. */
export function parseReply(
  buf: Buffer,
  offset: number,
): { value: RespReply; next: number } | typeof INCOMPLETE {
  const lineEnd = buf.indexOf("\r\n", offset);
  if (lineEnd < 0) return INCOMPLETE;
  const type = String.fromCharCode(buf[offset]!);
  const line = buf.toString("utf8", offset + 1, lineEnd);
  const afterLine = lineEnd + 2;
  switch (type) {
    case "+":
      return { value: new RespStatus(line), next: afterLine };
    case "-":
      return { value: new RespError(line), next: afterLine };
    case ":":
      return { value: Number(line), next: afterLine };
    case "$": {
      const length = Number(line);
      if (length < 0) return { value: null, next: afterLine };
      if (buf.length < afterLine + length + 2) return INCOMPLETE;
      return { value: buf.subarray(afterLine, afterLine + length), next: afterLine + length + 2 };
    }
    case "*": {
      const count = Number(line);
      if (count < 0) return { value: null, next: afterLine };
      const items: RespReply[] = [];
      let next = afterLine;
      for (let i = 0; i < count; i++) {
        const item = parseReply(buf, next);
        if (item === INCOMPLETE) return INCOMPLETE;
        items.push(item.value);
        next = item.next;
      }
      return { value: items, next };
    }
    default:
      throw new Error(`unexpected RESP type byte ${JSON.stringify(type)}`);
  }
}

interface Pending {
  remaining: number;
  replies: RespReply[];
  resolve(replies: RespReply[]): void;
  reject(error: Error): void;
}

/**
 * Connects lazily and reconnects on the next call after a failure: if redis-server
 * restarts, the stand-in recovers without a restart of its own. Requests in flight when
 * the socket dies are rejected (their outcome is unknown; the caller answers 503).
 */
export function connectRedis(options: RedisConnectionOptions): RedisConnection {
  let socket: Socket | null = null;
  let connecting: Promise<Socket> | null = null;
  let buffer: Buffer = Buffer.alloc(0);
  let queue: Pending[] = [];
  let closed = false;

  function failAll(error: Error) {
    const failed = queue;
    queue = [];
    buffer = Buffer.alloc(0);
    for (const p of failed) p.reject(error);
  }

  function onData(chunk: Buffer) {
    buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
    let offset = 0;
    try {
      while (offset < buffer.length && queue.length > 0) {
        const parsed = parseReply(buffer, offset);
        if (parsed === INCOMPLETE) break;
        offset = parsed.next;
        const head = queue[0]!;
        head.replies.push(parsed.value);
        if (--head.remaining === 0) {
          queue.shift();
          head.resolve(head.replies);
        }
      }
    } catch (error) {
      // A protocol error leaves the stream unaligned: drop the connection.
      socket?.destroy(error as Error);
      return;
    }
    buffer = buffer.subarray(offset);
  }

  function open(): Promise<Socket> {
    if (socket) return Promise.resolve(socket);
    connecting ??= establish().finally(() => {
      connecting = null;
    });
    return connecting;
  }

  /** TCP connect, then session setup (AUTH/SELECT); only then is the socket shared. */
  async function establish(): Promise<Socket> {
    const s = await new Promise<Socket>((resolve, reject) => {
      const s = createConnection({ host: options.host, port: options.port });
      s.setNoDelay(true);
      let connected = false;
      const timer = setTimeout(
        () => s.destroy(new Error("redis connect timed out")),
        options.connectTimeoutMs ?? 2000,
      );
      s.once("connect", () => {
        connected = true;
        clearTimeout(timer);
        resolve(s);
      });
      s.on("data", onData);
      s.on("error", () => {
        // 'close' follows and does the cleanup; the listener stops an unhandled 'error'.
      });
      s.once("close", () => {
        clearTimeout(timer);
        if (socket === s) socket = null;
        if (!connected) reject(new Error("redis is unreachable"));
        failAll(new Error("redis connection lost"));
      });
    });
    const setup: string[][] = [];
    if (options.password) {
      setup.push(
        options.username ? ["AUTH", options.username, options.password] : ["AUTH", options.password],
      );
    }
    if (options.db) setup.push(["SELECT", String(options.db)]);
    if (setup.length > 0) {
      const replies = await write(s, setup);
      if (replies.some((r) => r instanceof RespError)) {
        s.destroy();
        // The reply may echo what was sent; say only what failed.
        throw new Error("redis refused the connection setup (AUTH/SELECT)");
      }
    }
    if (closed) {
      s.destroy();
      throw new Error("redis connection closed");
    }
    socket = s;
    return s;
  }

  function write(s: Socket, commands: readonly (readonly string[])[]): Promise<RespReply[]> {
    return new Promise((resolve, reject) => {
      queue.push({ remaining: commands.length, replies: [], resolve, reject });
      s.write(Buffer.concat(commands.map(encodeCommand)));
    });
  }

  return {
    async send(commands) {
      if (closed) throw new Error("redis connection closed");
      if (commands.length === 0) return [];
      return write(await open(), commands);
    },
    async close() {
      closed = true;
      const s = socket ?? (await connecting?.catch(() => null)) ?? null;
      if (!s) return;
      await new Promise<void>((resolve) => {
        s.once("close", () => resolve());
        s.end();
        setTimeout(() => s.destroy(), 500).unref();
      });
    },
  };
}
