/** Request and response plumbing of the stand-in (node:http), bounded everywhere. */
import type { IncomingMessage, ServerResponse } from "node:http";
import { failures, type StorageFailure } from "./storage-errors";

/** JSON bodies of the Storage API are tiny (an expiry, a list of keys). */
export const MAX_JSON_BODY_BYTES = 1024 * 1024;

/**
 * CORS as the managed gateway answers it: any origin, because signed-URL uploads and
 * downloads come straight from the browser. Privileged routes need the service key, which
 * a browser never has, so a permissive origin grants nothing.
 */
const CORS_HEADERS = {
  "access-control-allow-origin": "*",
  "access-control-expose-headers": "content-length, content-range, content-type, content-disposition, etag",
} as const;
const DEFAULT_ALLOWED_HEADERS =
  "authorization, apikey, content-type, cache-control, range, x-client-info, x-upsert, x-metadata";
const HEADER_LIST = /^[A-Za-z0-9-]+(\s*,\s*[A-Za-z0-9-]+)*$/;

export function sendPreflight(req: IncomingMessage, res: ServerResponse): void {
  const requested = String(req.headers["access-control-request-headers"] ?? "");
  res.writeHead(204, {
    ...CORS_HEADERS,
    "access-control-allow-methods": "GET, HEAD, POST, PUT, DELETE, OPTIONS",
    "access-control-allow-headers":
      requested && requested.length <= 1024 && HEADER_LIST.test(requested)
        ? requested
        : DEFAULT_ALLOWED_HEADERS,
    "access-control-max-age": "600",
    "content-length": "0",
  });
  res.end();
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    ...CORS_HEADERS,
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(payload),
    "cache-control": "no-store",
  });
  res.end(payload);
}

export function sendFailure(req: IncomingMessage, res: ServerResponse, failure: StorageFailure): void {
  // Whatever the client is still sending is not read: drain it so the connection can answer.
  if (!req.complete) req.resume();
  if (req.method === "HEAD") {
    if (res.headersSent) return void res.destroy();
    res.writeHead(failure.httpStatus, { ...CORS_HEADERS, "cache-control": "no-store" });
    res.end();
    return;
  }
  sendJson(res, failure.httpStatus, failure.body());
}

export function corsHeaders(): Record<string, string> {
  return { ...CORS_HEADERS };
}

/** The whole body, refused with EntityTooLarge past `maxBytes` (declared or counted). */
export async function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = Number(req.headers["content-length"] ?? 0);
  if (Number.isFinite(declared) && declared > maxBytes) throw failures.entityTooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw failures.entityTooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

export async function readJsonObject(req: IncomingMessage): Promise<Record<string, unknown>> {
  const raw = await readBody(req, MAX_JSON_BODY_BYTES);
  if (raw.length === 0) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString("utf8"));
  } catch {
    throw failures.invalidRequest("Body is not valid JSON");
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw failures.invalidRequest("body must be object");
  }
  return parsed as Record<string, unknown>;
}

/** The bearer token of the Authorization header, if any. */
export function bearerToken(req: IncomingMessage): string | null {
  const match = /^Bearer\s+(\S+)$/i.exec(String(req.headers.authorization ?? ""));
  return match ? match[1]! : null;
}
