/**
 * node:http plumbing shared by the loopback stand-ins of managed services (qstash/server.ts,
 * upstash-redis/server.ts): bearer-token check, bounded body read, JSON in and out. Each
 * stand-in keeps its own error type and wording (they mimic different services), so the
 * failures are made by the caller.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";

/** What isAuthorizedBearer compares against: compute once per stand-in from its token. */
export function tokenDigest(token: string): Buffer {
  return createHash("sha256").update(token, "utf8").digest();
}

/**
 * Constant-time: both sides are hashed to 32 bytes first, so neither the comparison time
 * nor a length mismatch tells a caller how much of a guess was right.
 */
export function isAuthorizedBearer(header: string | undefined, expectedDigest: Buffer): boolean {
  const match = /^Bearer (.+)$/i.exec(header ?? "");
  const presented = tokenDigest(match?.[1] ?? "");
  return timingSafeEqual(presented, expectedDigest) && match !== null;
}

/**
 * The whole body, refused with `tooLarge()` past `maxBytes`, declared or counted: a stand-in
 * must not buffer without bound. The rest of a refused body is drained so the answer gets out.
 */
export async function readBody(
  req: IncomingMessage,
  maxBytes: number,
  tooLarge: () => Error,
): Promise<Buffer> {
  const declared = Number(req.headers["content-length"] ?? 0);
  if (declared > maxBytes) {
    req.resume();
    throw tooLarge();
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) {
      req.resume();
      throw tooLarge();
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

export function parseJson(text: string, invalid: () => Error): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw invalid();
  }
}

/** A JSON answer, never cached; a no-op once headers went out (the client sees the drop). */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return;
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(payload),
    "cache-control": "no-store",
  });
  res.end(payload);
}
