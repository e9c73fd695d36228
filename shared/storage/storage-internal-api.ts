/**
 * The storage function's internal API: what the api and pipeline functions call through
 * their STORAGE service binding (create-storage-service-client.ts) and what the storage
 * function serves (functions/storage/routes/internal-routes.ts). One module, so both sides
 * agree on paths, the token header and the body shapes.
 *
 * All routes are POST with a JSON body and need the shared internal token: the storage
 * Worker also has a public route (/storage/*), so a service binding alone does not keep
 * these paths off the internet.
 */
import { z } from "zod";
import { STORAGE_LIMITS } from "./object-storage";
import { MAX_OBJECT_KEY_CHARS } from "./storage-path";

export const STORAGE_INTERNAL_PREFIX = "/storage/internal";
export const STORAGE_INTERNAL_TOKEN_HEADER = "X-Storage-Internal-Token";
/** Setting (a secret) shared by the storage function and its callers. */
export const STORAGE_INTERNAL_TOKEN_SETTING = "STORAGE_INTERNAL_TOKEN";
/**
 * 32 characters of a random token is about 190 bits (base64url), above the 128-bit floor
 * for secrets (ASVS 11.2); the same floor load-config applies to secrets in prod.
 */
export const MIN_INTERNAL_TOKEN_CHARS = 32;
/** The stored (client-declared) type of a streamed object; the body itself is always octet-stream. */
export const STORED_CONTENT_TYPE_HEADER = "X-Stored-Content-Type";

export const STORAGE_INTERNAL_ROUTES = {
  signUpload: `${STORAGE_INTERNAL_PREFIX}/sign-upload`,
  stat: `${STORAGE_INTERNAL_PREFIX}/stat`,
  headBytes: `${STORAGE_INTERNAL_PREFIX}/head-bytes`,
  read: `${STORAGE_INTERNAL_PREFIX}/read`,
  signDownload: `${STORAGE_INTERNAL_PREFIX}/sign-download`,
  remove: `${STORAGE_INTERNAL_PREFIX}/remove`,
} as const;

const path = z.string().min(1).max(MAX_OBJECT_KEY_CHARS);
const httpUrl = z.url({ protocol: /^https?$/ });

export const SignUploadRequest = z.strictObject({
  path,
  expiresInSeconds: z.number().int().min(60).max(7200).optional(),
});
export const SignUploadResponse = z.strictObject({
  url: httpUrl,
  token: z.string().min(1),
  path,
  expiresAt: z.iso.datetime(),
});

export const StatRequest = z.strictObject({ path });
export const StatResponse = z.strictObject({
  size: z.number().int().nonnegative(),
  contentType: z.string().max(255).nullable(),
});

export const HeadBytesRequest = z.strictObject({
  path,
  bytes: z.number().int().min(1).max(STORAGE_LIMITS.maxHeadBytes),
});

export const ReadRequest = z.strictObject({
  path,
  /** Refuse (413) an object larger than this instead of streaming it. */
  maxBytes: z.number().int().nonnegative().optional(),
});

export const SignDownloadRequest = z.strictObject({
  path,
  expiresInSeconds: z
    .number()
    .int()
    .min(STORAGE_LIMITS.minDownloadSeconds)
    .max(STORAGE_LIMITS.maxDownloadSeconds),
  downloadName: z.string().min(1).max(100),
});
export const SignDownloadResponse = z.strictObject({ url: httpUrl, expiresAt: z.iso.datetime() });

export const RemoveRequest = z.strictObject({
  paths: z.array(path).max(STORAGE_LIMITS.maxRemoveBatch),
});
export const RemoveResponse = z.strictObject({ removed: z.number().int().nonnegative() });
