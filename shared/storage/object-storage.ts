/**
 * Object storage for patient documents, as the domain sees it. Two implementations with one
 * contract: create-supabase-object-storage.ts (supabase-js, used only inside the storage
 * function, which alone holds the service-role key) and create-storage-service-client.ts
 * (every other function, through the STORAGE service binding). Expected failures are
 * values; messages never contain paths or content (paths carry tenant and patient ids).
 */
import type { DomainError, Result } from "../core/result";

export interface SignedUpload {
  /** Absolute URL the client PUTs the file to (no further credentials needed). */
  readonly url: string;
  /** The upload token inside `url` (supabase-js uploadToSignedUrl takes it separately). */
  readonly token: string;
  readonly path: string;
  /**
   * When the storage service stops accepting the upload. Supabase fixes this at its project
   * setting (2 h) whatever was asked: callers that want a shorter window enforce it when the
   * upload is completed, not by trusting the URL to expire.
   */
  readonly expiresAt: Date;
}

export interface SignedDownload {
  readonly url: string;
  readonly expiresAt: Date;
}

export interface StoredObjectInfo {
  readonly size: number;
  /** The type the uploader declared; not evidence of anything (see shared/documents/detect-media-type). */
  readonly contentType: string | null;
}

export interface ObjectStream {
  readonly body: ReadableStream<Uint8Array>;
  readonly size: number | null;
  readonly contentType: string | null;
}

export interface SignUploadOptions {
  /** Requested lifetime; see SignedUpload.expiresAt for what the backend really grants. */
  expiresInSeconds?: number;
}

export interface SignDownloadOptions {
  expiresInSeconds: number;
  /**
   * File name for the attachment (Content-Disposition). Server-chosen ("document-<id>.pdf"):
   * letters, digits, ".", "_", "-" only.
   */
  downloadName: string;
}

export interface ReadObjectOptions {
  /** Refuse (invalid_input) an object larger than this instead of buffering it. */
  maxBytes?: number;
}

export interface ObjectStorage {
  createSignedUploadUrl(path: string, options?: SignUploadOptions): Promise<Result<SignedUpload>>;
  /** ok(null) when there is no such object. */
  statObject(path: string): Promise<Result<StoredObjectInfo | null>>;
  /** The first `bytes` bytes (fewer for a shorter object): enough for magic-byte sniffing. */
  readObjectHead(path: string, bytes: number): Promise<Result<Uint8Array>>;
  readObject(path: string, options?: ReadObjectOptions): Promise<Result<Uint8Array>>;
  /** The whole object as a stream, for passing through without buffering. */
  openObjectStream(path: string): Promise<Result<ObjectStream>>;
  createSignedDownloadUrl(path: string, options: SignDownloadOptions): Promise<Result<SignedDownload>>;
  /** Removing an object that is already gone is not an error (idempotent retention and retries). */
  removeObjects(paths: readonly string[]): Promise<Result<{ readonly removed: number }>>;
}

/** Limits shared by both implementations and the storage function's validation. */
export const STORAGE_LIMITS = {
  /** Sniffing needs a few KB; the cap keeps head reads from becoming full downloads. */
  maxHeadBytes: 64 * 1024,
  /**
   * Download links carry PHI access: minutes, not hours (ASVS 8.x, short-lived capability
   * URLs). 10 s floor so a link is usable at all.
   */
  minDownloadSeconds: 10,
  maxDownloadSeconds: 15 * 60,
  /** One remove call's batch; Supabase caps a delete at 1000 prefixes. */
  maxRemoveBatch: 100,
} as const;

/** File names offered to browsers: no quotes, slashes, control characters or non-ASCII to escape. */
export const DOWNLOAD_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

export const storageErrors = {
  invalidPath: (): DomainError => ({ code: "invalid_input", message: "The storage path is not valid." }),
  notFound: (): DomainError => ({ code: "not_found", message: "The stored object does not exist." }),
  tooLarge: (): DomainError => ({ code: "invalid_input", message: "The stored object is too large." }),
  unavailable: (): DomainError => ({ code: "unavailable", message: "Object storage is unavailable." }),
} as const;
