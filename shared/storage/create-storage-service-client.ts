/**
 * ObjectStorage for every function except storage: calls the storage function's internal
 * API through a fetcher (the STORAGE service binding in workerd; `{ fetch: (r) =>
 * storageApp.fetch(r, env) }` in tests). Same contract as the Supabase implementation, so
 * api and pipeline code does not know which one it holds. It never sees the service-role key.
 */
import type { ZodType } from "zod";
import { type DomainError, err, ok, type Result } from "../core/result";
import { DOWNLOAD_NAME_PATTERN, type ObjectStorage, STORAGE_LIMITS, storageErrors } from "./object-storage";
import { readUpTo } from "./read-stream";
import {
  RemoveResponse,
  SignDownloadResponse,
  SignUploadResponse,
  STORAGE_INTERNAL_ROUTES,
  STORAGE_INTERNAL_TOKEN_HEADER,
  STORED_CONTENT_TYPE_HEADER,
  StatResponse,
} from "./storage-internal-api";
import { isSafeObjectKey } from "./storage-path";

/** The part of a Cloudflare service binding (Fetcher) this client uses. */
export interface StorageFetcher {
  fetch(request: Request): Promise<Response>;
}

export interface StorageServiceClientOptions {
  fetcher: StorageFetcher;
  /** STORAGE_INTERNAL_TOKEN, shared with the storage function. */
  internalToken: string;
  /** Deadline for calls answered with JSON or a short head; streamed reads are bounded by the storage function. */
  timeoutMs?: number;
}

/** Service bindings ignore the host; this one only names the target in traces. */
const ORIGIN = "https://storage.internal";
/** The storage function's own Supabase deadline is 60 s; a little more so its answer, not ours, wins. */
export const DEFAULT_SERVICE_TIMEOUT_MS = 65_000;

type Route = (typeof STORAGE_INTERNAL_ROUTES)[keyof typeof STORAGE_INTERNAL_ROUTES];

export function createStorageServiceClient(options: StorageServiceClientOptions): ObjectStorage {
  const timeoutMs = options.timeoutMs ?? DEFAULT_SERVICE_TIMEOUT_MS;

  async function send(route: Route, payload: unknown, deadline: boolean): Promise<Result<Response>> {
    const request = new Request(`${ORIGIN}${route}`, {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        [STORAGE_INTERNAL_TOKEN_HEADER]: options.internalToken,
      },
      body: JSON.stringify(payload),
      ...(deadline ? { signal: AbortSignal.timeout(timeoutMs) } : {}),
    });
    let response: Response;
    try {
      response = await options.fetcher.fetch(request);
    } catch {
      return err(storageErrors.unavailable());
    }
    if (response.ok) return ok(response);
    return err(await errorOf(response));
  }

  async function json<T>(route: Route, payload: unknown, schema: ZodType<T>): Promise<Result<T>> {
    const sent = await send(route, payload, true);
    if (!sent.ok) return sent;
    try {
      const parsed = schema.safeParse(await sent.value.json());
      // A storage function that answers something else is a deployment fault.
      return parsed.success ? ok(parsed.data) : err(storageErrors.unavailable());
    } catch {
      return err(storageErrors.unavailable());
    }
  }

  return {
    async createSignedUploadUrl(path, signOptions = {}) {
      if (!isSafeObjectKey(path)) return err(storageErrors.invalidPath());
      const result = await json(
        STORAGE_INTERNAL_ROUTES.signUpload,
        { path, ...signOptions },
        SignUploadResponse,
      );
      if (!result.ok) return result;
      return ok({ ...result.value, expiresAt: new Date(result.value.expiresAt) });
    },

    async statObject(path) {
      if (!isSafeObjectKey(path)) return err(storageErrors.invalidPath());
      const result = await json(STORAGE_INTERNAL_ROUTES.stat, { path }, StatResponse);
      if (!result.ok) return result.error.code === "not_found" ? ok(null) : result;
      return ok(result.value);
    },

    async readObjectHead(path, bytes) {
      if (!isSafeObjectKey(path)) return err(storageErrors.invalidPath());
      if (!Number.isInteger(bytes) || bytes < 1 || bytes > STORAGE_LIMITS.maxHeadBytes) {
        return err({ code: "invalid_input", message: "The head length is out of range." });
      }
      const sent = await send(STORAGE_INTERNAL_ROUTES.headBytes, { path, bytes }, true);
      if (!sent.ok) return sent;
      return readBody(sent.value, bytes, "truncate");
    },

    async readObject(path, readOptions = {}) {
      if (!isSafeObjectKey(path)) return err(storageErrors.invalidPath());
      const maxBytes = readOptions.maxBytes;
      const sent = await send(
        STORAGE_INTERNAL_ROUTES.read,
        maxBytes === undefined ? { path } : { path, maxBytes },
        false,
      );
      if (!sent.ok) return sent;
      return readBody(sent.value, maxBytes ?? Number.MAX_SAFE_INTEGER, "refuse");
    },

    async openObjectStream(path) {
      if (!isSafeObjectKey(path)) return err(storageErrors.invalidPath());
      const sent = await send(STORAGE_INTERNAL_ROUTES.read, { path }, false);
      if (!sent.ok) return sent;
      const response = sent.value;
      if (!response.body) return err(storageErrors.unavailable());
      const length = Number(response.headers.get("Content-Length") ?? Number.NaN);
      return ok({
        body: response.body,
        size: Number.isInteger(length) && length >= 0 ? length : null,
        contentType: response.headers.get(STORED_CONTENT_TYPE_HEADER),
      });
    },

    async createSignedDownloadUrl(path, { expiresInSeconds, downloadName }) {
      if (!isSafeObjectKey(path)) return err(storageErrors.invalidPath());
      if (!DOWNLOAD_NAME_PATTERN.test(downloadName)) {
        return err({ code: "invalid_input", message: "The download name is not valid." });
      }
      const result = await json(
        STORAGE_INTERNAL_ROUTES.signDownload,
        { path, expiresInSeconds, downloadName },
        SignDownloadResponse,
      );
      if (!result.ok) return result;
      return ok({ url: result.value.url, expiresAt: new Date(result.value.expiresAt) });
    },

    async removeObjects(paths) {
      if (paths.length === 0) return ok({ removed: 0 });
      if (paths.length > STORAGE_LIMITS.maxRemoveBatch || !paths.every(isSafeObjectKey)) {
        return err(storageErrors.invalidPath());
      }
      return json(STORAGE_INTERNAL_ROUTES.remove, { paths: [...paths] }, RemoveResponse);
    },
  };
}

/** A body of at most `limit` bytes: cut ("truncate") or refused as too large ("refuse"). */
async function readBody(
  response: Response,
  limit: number,
  over: "truncate" | "refuse",
): Promise<Result<Uint8Array>> {
  if (!response.body) return ok(new Uint8Array(0));
  try {
    const read = await readUpTo(response.body, limit);
    if (read.truncated && over === "refuse") return err(storageErrors.tooLarge());
    return ok(read.bytes);
  } catch {
    return err(storageErrors.unavailable());
  }
}

/**
 * The storage function's error contract, mapped back to domain errors. Its refusals of our
 * own credentials or configuration (401, 503) are "unavailable": the caller can do nothing
 * about them but fail.
 */
async function errorOf(response: Response): Promise<DomainError> {
  let code: unknown;
  try {
    code = ((await response.json()) as { error?: { code?: unknown } }).error?.code;
  } catch {
    code = undefined;
  }
  switch (code) {
    case "not_found":
      return storageErrors.notFound();
    case "validation_failed":
    case "bad_request":
      return { code: "invalid_input", message: "The storage request is not valid." };
    case "payload_too_large":
      return storageErrors.tooLarge();
    case "conflict":
      return { code: "conflict", message: "The stored object already exists." };
    default:
      return storageErrors.unavailable();
  }
}
