/**
 * For a route that receives QStash deliveries: reads the raw body once (bounded), verifies
 * the signature against it and the URL, and hands back the body for the route to parse.
 * Verification needs the exact bytes QStash hashed, so no body parser may run first.
 *
 *   const verified = await readAndVerifyQStashRequest(c.req.raw, keys);
 *   if (!verified.ok) throw toHttpError(verified.error);   // 401, or 413 for invalid_input
 *   const job = jobSchema.parse(JSON.parse(verified.value.body));
 *
 * `expectedUrl` defaults to request.url, which is the URL QStash was given when the Worker
 * is reached directly or through a service binding (the local dev router forwards the
 * request unchanged). Behind anything that rewrites the URL, pass the public URL.
 */
import { err, ok, type Result } from "../core/result";
import { MAX_JOB_BODY_BYTES } from "./job-queue";
import {
  assertQStashSigningKeys,
  type QStashSignatureError,
  type QStashSigningKeys,
  verifyQStashSignature,
} from "./verify-qstash-signature";

export interface VerifiedQStashRequest {
  /** The raw body (UTF-8), exactly as signed. */
  body: string;
  /** Upstash-Message-Id. Not covered by the signature: a hint for logs, not an idempotency key. */
  messageId: string | null;
  /** Upstash-Retried (0 on the first attempt). Not covered by the signature either. */
  retried: number;
}

export interface QStashVerificationKeys extends QStashSigningKeys {
  clockToleranceSeconds?: number;
}

export type ReadQStashRequestError =
  | QStashSignatureError
  | { code: "invalid_input"; message: "request body too large" };

export interface ReadQStashRequestOptions {
  /** Default MAX_JOB_BODY_BYTES: our own publisher never sends more. */
  maxBodyBytes?: number;
}

const TOO_LARGE = { code: "invalid_input", message: "request body too large" } as const;

export async function readAndVerifyQStashRequest(
  request: Request,
  keys: QStashVerificationKeys,
  expectedUrl?: string,
  options: ReadQStashRequestOptions = {},
): Promise<Result<VerifiedQStashRequest, ReadQStashRequestError>> {
  // Misconfiguration throws even for unsigned requests, so it cannot hide behind 401s.
  assertQStashSigningKeys(keys);
  const signature = request.headers.get("upstash-signature");
  if (signature === null || signature.trim() === "") {
    // Refused before the body is read: an unsigned caller costs no buffering.
    return err({ code: "unauthorized", message: "missing QStash signature" });
  }
  if (request.bodyUsed)
    throw new TypeError("the request body was already read; verification needs the raw body");

  const body = await readBodyLimited(request, options.maxBodyBytes ?? MAX_JOB_BODY_BYTES);
  if (body === undefined) return err(TOO_LARGE);

  const verified = await verifyQStashSignature({ ...keys, signature, body, url: expectedUrl ?? request.url });
  if (!verified.ok) return verified;

  const retriedHeader = request.headers.get("upstash-retried") ?? "";
  return ok({
    body,
    messageId: request.headers.get("upstash-message-id"),
    retried: /^\d{1,6}$/.test(retriedHeader) ? Number(retriedHeader) : 0,
  });
}

/** The body as UTF-8 text, or undefined past `max` bytes (declared or actual). */
async function readBodyLimited(request: Request, max: number): Promise<string | undefined> {
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (Number.isFinite(declared) && declared > max) return undefined;
  if (!request.body) return "";
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => undefined);
      return undefined;
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  // ignoreBOM keeps a leading BOM: QStash hashed the bytes, BOM included.
  return new TextDecoder("utf-8", { ignoreBOM: true }).decode(bytes);
}
