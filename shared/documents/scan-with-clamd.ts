/**
 * Virus scan of an upload before anything parses it (ASVS 5.2.x, security-baseline
 * "optional ClamAV (clamd) scan before processing"), over clamd's INSTREAM command:
 *
 *   "zINSTREAM\0", then chunks of <4-byte big-endian length><data>, then a zero-length chunk;
 *   clamd answers "stream: OK\0", "stream: <signature> FOUND\0" or "<reason> ERROR\0"
 *   (the "z" prefix asks for NUL-terminated replies; clamd(8) "COMMANDS").
 *
 * Every failure (unreachable, timeout, size limit, a reply we do not understand) is an error
 * value, never a clean result: the caller must fail closed and keep the document out of the
 * pipeline. The socket comes from an injected opener so the same code runs in workerd
 * (cloudflare:sockets) and in Node (node:net).
 */
import { type DomainError, err, ok, type Result } from "../core/result";
import type { OpenTcpSocket, TcpSocket } from "./tcp-socket";

export type ClamdScanResult =
  | { readonly clean: true }
  | { readonly clean: false; readonly signature: string };

export type ClamdFailureReason =
  /** Connection refused, host unknown, connection dropped. */
  | "unreachable"
  /** No verdict within the deadline. */
  | "timeout"
  /** The stream exceeded clamd's StreamMaxLength ("INSTREAM size limit exceeded"). */
  | "size_limit"
  /** clamd reported an error of its own (database missing, out of memory, ...). */
  | "scanner_error"
  /** A reply that is none of the above. */
  | "protocol"
  /** The stream being scanned failed (its source broke, or its reader refused it): no verdict possible. */
  | "input_error";

export interface ClamdScanError extends DomainError {
  readonly code: "unavailable";
  readonly reason: ClamdFailureReason;
}

export interface ScanWithClamdOptions {
  host: string;
  port: number;
  openSocket: OpenTcpSocket;
  /** Whole scan: connect, stream and verdict. */
  timeoutMs?: number;
  /** Largest INSTREAM chunk sent. */
  chunkBytes?: number;
}

/**
 * Generous for 25 MB over a LAN plus clamd's own scan time, short enough that a stuck
 * scanner cannot hold a pipeline step for its whole budget.
 */
export const DEFAULT_CLAMD_TIMEOUT_MS = 30_000;
/** clamd reads chunks into a buffer of this order; larger chunks gain nothing. */
export const DEFAULT_CLAMD_CHUNK_BYTES = 64 * 1024;
/** A verdict line is short; anything longer is not clamd. */
const MAX_REPLY_BYTES = 4096;
/** Signature names are ASCII identifiers ("Win.Test.EICAR_HDB-1"); anything else is cut to this set. */
const SIGNATURE_PATTERN = /^[A-Za-z0-9._:/+-]{1,200}$/;

const COMMAND = new TextEncoder().encode("zINSTREAM\0");

export async function scanWithClamd(
  input: Uint8Array | ReadableStream<Uint8Array>,
  options: ScanWithClamdOptions,
): Promise<Result<ClamdScanResult, ClamdScanError>> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_CLAMD_TIMEOUT_MS;
  const chunkBytes = Math.max(1, Math.min(options.chunkBytes ?? DEFAULT_CLAMD_CHUNK_BYTES, 1 << 24));

  let socket: TcpSocket;
  try {
    socket = options.openSocket(options.host, options.port);
  } catch {
    return failure("unreachable");
  }

  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<Result<never, ClamdScanError>>((resolve) => {
    timer = setTimeout(() => resolve(failure("timeout")), timeoutMs);
  });
  try {
    return await Promise.race([converse(socket, input, chunkBytes), deadline]);
  } finally {
    clearTimeout(timer);
    try {
      await socket.close();
    } catch {
      // already closed by the peer
    }
    if (input instanceof ReadableStream) input.cancel().catch(() => {});
  }
}

async function converse(
  socket: TcpSocket,
  input: Uint8Array | ReadableStream<Uint8Array>,
  chunkBytes: number,
): Promise<Result<ClamdScanResult, ClamdScanError>> {
  try {
    await socket.opened;
  } catch {
    return failure("unreachable");
  }
  // Read while writing: clamd answers "size limit exceeded" mid-stream and closes, and then
  // the write side fails with a reset that says nothing; the reply says what happened.
  const reply = readReply(socket.readable);
  reply.catch(() => {});
  let writeFailed = false;
  try {
    await writeStream(socket.writable, input, chunkBytes);
  } catch (error) {
    // clamd would wait for the rest of a stream that is never coming: give up at once.
    if (error instanceof InputError) return failure("input_error");
    writeFailed = true;
  }
  let text: string | null;
  try {
    text = await reply;
  } catch {
    return failure("unreachable");
  }
  if (text === null || text === "") return failure(writeFailed ? "unreachable" : "protocol");
  return parseReply(text);
}

async function writeStream(
  writable: WritableStream<Uint8Array>,
  input: Uint8Array | ReadableStream<Uint8Array>,
  chunkBytes: number,
): Promise<void> {
  const writer = writable.getWriter();
  try {
    await writer.write(COMMAND);
    if (input instanceof Uint8Array) {
      for (let at = 0; at < input.length; at += chunkBytes) {
        await writer.write(frame(input.subarray(at, Math.min(input.length, at + chunkBytes))));
      }
    } else {
      const reader = input.getReader();
      for (;;) {
        const { done, value } = await reader.read().catch(() => {
          throw new InputError();
        });
        if (done) break;
        for (let at = 0; at < value.length; at += chunkBytes) {
          await writer.write(frame(value.subarray(at, Math.min(value.length, at + chunkBytes))));
        }
      }
    }
    await writer.write(new Uint8Array(4)); // zero-length chunk: end of stream
  } finally {
    writer.releaseLock();
  }
}

/** Reading the input failed (as opposed to writing to clamd). */
class InputError extends Error {
  constructor() {
    super("the scanned stream failed");
    this.name = "InputError";
  }
}

/** One INSTREAM chunk: the length as a 4-byte unsigned big-endian integer, then the bytes. */
function frame(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + data.length);
  new DataView(out.buffer).setUint32(0, data.length, false);
  out.set(data, 4);
  return out;
}

/** Bytes up to the first NUL (or the end of the connection); null when nothing came. */
async function readReply(readable: ReadableStream<Uint8Array>): Promise<string | null> {
  const reader = readable.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      const nul = value.indexOf(0);
      const part = nul >= 0 ? value.subarray(0, nul) : value;
      parts.push(part);
      size += part.length;
      if (nul >= 0 || size > MAX_REPLY_BYTES) break;
    }
  } finally {
    reader.cancel().catch(() => {});
  }
  if (size === 0) return null;
  const all = new Uint8Array(Math.min(size, MAX_REPLY_BYTES));
  let at = 0;
  for (const part of parts) {
    const take = Math.min(part.length, all.length - at);
    all.set(part.subarray(0, take), at);
    at += take;
  }
  return new TextDecoder().decode(all).trim();
}

function parseReply(text: string): Result<ClamdScanResult, ClamdScanError> {
  // clamd may prefix the reply with a request id ("1: stream: OK") in IDSESSION mode.
  const reply = text.replace(/^\d+: /, "");
  if (reply === "stream: OK") return ok({ clean: true });
  const found = /^stream: (.+) FOUND$/.exec(reply);
  if (found) {
    const name = found[1]!.trim();
    return ok({ clean: false, signature: SIGNATURE_PATTERN.test(name) ? name : "unrecognised-signature" });
  }
  if (/size limit exceeded/i.test(reply)) return failure("size_limit");
  if (/ERROR$/.test(reply)) return failure("scanner_error");
  return failure("protocol");
}

const MESSAGES: Record<ClamdFailureReason, string> = {
  unreachable: "The virus scanner could not be reached.",
  timeout: "The virus scanner did not answer in time.",
  size_limit: "The file is larger than the virus scanner accepts.",
  scanner_error: "The virus scanner reported an error.",
  protocol: "The virus scanner gave an unexpected answer.",
  input_error: "The file could not be read to the end for the virus scanner.",
};

function failure(reason: ClamdFailureReason): Result<never, ClamdScanError> {
  return err({ code: "unavailable", reason, message: MESSAGES[reason] });
}
