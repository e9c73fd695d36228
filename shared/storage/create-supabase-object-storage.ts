/**
 * ObjectStorage on Supabase Storage through supabase-js, with the service-role key. Only the
 * storage function builds this (it alone holds the key); the same code talks to the managed
 * service and to the local stand-in (scripts/local/supabase-storage).
 */
import { createClient } from "@supabase/supabase-js";
import { type DomainError, err, ok, type Result } from "../core/result";
import {
  DOWNLOAD_NAME_PATTERN,
  type ObjectStorage,
  type SignedUpload,
  STORAGE_LIMITS,
  type StoredObjectInfo,
  storageErrors,
} from "./object-storage";
import { readUpTo } from "./read-stream";
import { isSafeObjectKey } from "./storage-path";

export interface SupabaseObjectStorageOptions {
  /** SUPABASE_URL: the project URL (https://<ref>.supabase.co), or the stand-in's. */
  url: string;
  serviceRoleKey: string;
  bucket: string;
  /** Deadline per Storage API call, body included. */
  requestTimeoutMs?: number;
  fetch?: typeof fetch;
}

/** Long enough for a 25 MB object over a slow link; a hung call must not hold a request for ever. */
export const DEFAULT_STORAGE_TIMEOUT_MS = 60_000;
/** What the managed service grants a signed upload URL when the token cannot be read. */
const SUPABASE_UPLOAD_URL_SECONDS = 2 * 60 * 60;

/**
 * Realtime is never used by storage, but supabase-js builds a realtime client anyway and, on
 * Node 20, refuses to start without a WebSocket implementation. This one refuses to connect:
 * the storage function can never open a socket to Supabase Realtime by accident.
 */
class RealtimeDisabled {
  constructor() {
    throw new Error("Supabase Realtime is not used by object storage");
  }
}

/** The shape of supabase-js storage errors (StorageApiError, StorageUnknownError). */
interface StorageErrorLike {
  message?: string;
  status?: number;
  statusCode?: string;
}

export function createSupabaseObjectStorage(options: SupabaseObjectStorageOptions): ObjectStorage {
  const timeoutMs = options.requestTimeoutMs ?? DEFAULT_STORAGE_TIMEOUT_MS;
  const baseFetch = options.fetch ?? fetch;
  const client = createClient(options.url, options.serviceRoleKey, {
    auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
    realtime: { transport: RealtimeDisabled as never },
    global: {
      fetch: (input, init) =>
        baseFetch(input, { ...init, signal: init?.signal ?? AbortSignal.timeout(timeoutMs) }),
    },
  });
  // A fresh file API per call: headers set on one (Range) must not leak into the next.
  const files = () => client.storage.from(options.bucket);

  const storage: ObjectStorage = {
    async createSignedUploadUrl(path) {
      if (!isSafeObjectKey(path)) return err(storageErrors.invalidPath());
      const result = await call(() => files().createSignedUploadUrl(path));
      if (!result.ok) return result;
      const { signedUrl, token } = result.value;
      const upload: SignedUpload = { url: signedUrl, token, path, expiresAt: tokenExpiry(token) };
      return ok(upload);
    },

    async statObject(path) {
      if (!isSafeObjectKey(path)) return err(storageErrors.invalidPath());
      const result = await call(() => files().info(path));
      if (!result.ok) return result.error.code === "not_found" ? ok(null) : result;
      return ok(objectInfo(result.value));
    },

    async readObjectHead(path, bytes) {
      if (!isSafeObjectKey(path)) return err(storageErrors.invalidPath());
      if (!Number.isInteger(bytes) || bytes < 1 || bytes > STORAGE_LIMITS.maxHeadBytes) {
        return err({ code: "invalid_input", message: "The head length is out of range." });
      }
      // A Range request keeps the transfer to the head (RFC 9110 14.2); if a server ignores
      // it, readUpTo still stops after `bytes` and cancels the rest.
      const result = await call(() =>
        files()
          .setHeader("Range", `bytes=0-${bytes - 1}`)
          .download(path)
          .asStream(),
      );
      if (!result.ok) {
        // 416: the object exists but has no byte 0, i.e. it is empty.
        return result.error === RANGE_NOT_SATISFIABLE ? ok(new Uint8Array(0)) : result;
      }
      return guarded(async () => (await readUpTo(result.value, bytes)).bytes);
    },

    async readObject(path, readOptions = {}) {
      if (!isSafeObjectKey(path)) return err(storageErrors.invalidPath());
      const result = await call(() => files().download(path).asStream());
      if (!result.ok) return result;
      const limit = readOptions.maxBytes ?? Number.MAX_SAFE_INTEGER;
      const read = await guarded(() => readUpTo(result.value, limit));
      if (!read.ok) return read;
      return read.value.truncated ? err(storageErrors.tooLarge()) : ok(read.value.bytes);
    },

    async openObjectStream(path) {
      if (!isSafeObjectKey(path)) return err(storageErrors.invalidPath());
      const info = await storage.statObject(path);
      if (!info.ok) return info;
      if (info.value === null) return err(storageErrors.notFound());
      const result = await call(() => files().download(path).asStream());
      if (!result.ok) return result;
      return ok({ body: result.value, size: info.value.size, contentType: info.value.contentType });
    },

    async createSignedDownloadUrl(path, { expiresInSeconds, downloadName }) {
      if (!isSafeObjectKey(path)) return err(storageErrors.invalidPath());
      if (
        !Number.isInteger(expiresInSeconds) ||
        expiresInSeconds < STORAGE_LIMITS.minDownloadSeconds ||
        expiresInSeconds > STORAGE_LIMITS.maxDownloadSeconds
      ) {
        return err({ code: "invalid_input", message: "The download link lifetime is out of range." });
      }
      if (!DOWNLOAD_NAME_PATTERN.test(downloadName)) {
        return err({ code: "invalid_input", message: "The download name is not valid." });
      }
      const issuedAt = Date.now();
      const result = await call(() =>
        files().createSignedUrl(path, expiresInSeconds, { download: downloadName }),
      );
      if (!result.ok) return result;
      return ok({ url: result.value.signedUrl, expiresAt: new Date(issuedAt + expiresInSeconds * 1000) });
    },

    async removeObjects(paths) {
      if (paths.length === 0) return ok({ removed: 0 });
      if (paths.length > STORAGE_LIMITS.maxRemoveBatch || !paths.every(isSafeObjectKey)) {
        return err(storageErrors.invalidPath());
      }
      const result = await call(() => files().remove([...paths]));
      if (!result.ok) return result;
      return ok({ removed: result.value.length });
    },
  };
  return storage;
}

const RANGE_NOT_SATISFIABLE: DomainError = Object.freeze({
  code: "invalid_input",
  message: "The requested range is not satisfiable.",
});

/** Runs a supabase-js call ({data, error} or a throw) and turns its outcome into a Result. */
async function call<T>(
  operation: () => PromiseLike<{ data: T | null; error: StorageErrorLike | null }>,
): Promise<Result<NonNullable<T>>> {
  try {
    const { data, error } = await operation();
    if (error) return err(classify(error));
    if (data === null || data === undefined) return err(storageErrors.unavailable());
    return ok(data as NonNullable<T>);
  } catch {
    return err(storageErrors.unavailable());
  }
}

async function guarded<T>(work: () => Promise<T>): Promise<Result<T>> {
  try {
    return ok(await work());
  } catch {
    // The connection dropped or timed out mid-body.
    return err(storageErrors.unavailable());
  }
}

/**
 * Supabase answers most client errors with HTTP 400 and the meaningful status in the body's
 * `statusCode`; older and newer deployments differ, so both are read. A missing bucket, a
 * refused key or anything unexpected is "unavailable": a deployment fault, not the caller's.
 */
function classify(error: StorageErrorLike): DomainError {
  const status = error.status;
  const semantic = Number(error.statusCode ?? status);
  if (status === 416 || semantic === 416) return RANGE_NOT_SATISFIABLE;
  if (semantic === 404 || status === 404) {
    return /bucket/i.test(error.message ?? "") ? storageErrors.unavailable() : storageErrors.notFound();
  }
  if (semantic === 409) return { code: "conflict", message: "The stored object already exists." };
  if (semantic === 413) return storageErrors.tooLarge();
  if (/invalid ?key/i.test(error.message ?? "")) return storageErrors.invalidPath();
  return storageErrors.unavailable();
}

function objectInfo(data: unknown): StoredObjectInfo {
  const record = (data ?? {}) as {
    size?: unknown;
    contentType?: unknown;
    metadata?: { size?: unknown; mimetype?: unknown } | null;
  };
  const size = typeof record.size === "number" ? record.size : Number(record.metadata?.size ?? 0);
  const contentType =
    typeof record.contentType === "string"
      ? record.contentType
      : typeof record.metadata?.mimetype === "string"
        ? record.metadata.mimetype
        : null;
  return { size: Number.isFinite(size) ? size : 0, contentType };
}

/** The `exp` claim of the signed upload token (a JWT), read without verifying: it only informs. */
function tokenExpiry(token: string): Date {
  try {
    const payload = token.split(".")[1] ?? "";
    const json = atob(payload.replace(/-/g, "+").replace(/_/g, "/"));
    const exp = (JSON.parse(json) as { exp?: unknown }).exp;
    if (typeof exp === "number" && Number.isFinite(exp)) return new Date(exp * 1000);
  } catch {
    // not a JWT: fall back to the managed service's documented lifetime
  }
  return new Date(Date.now() + SUPABASE_UPLOAD_URL_SECONDS * 1000);
}
