/**
 * Bucket names and object keys as the stand-in accepts them. Supabase's own rule
 * (storage-api `isValidKey`) admits ASCII letters, digits and `_/!-.*'() &$@=;:+,?`; the
 * stand-in keeps that set and additionally refuses the shapes that mean something to a file
 * system or a path parser: empty, "." and ".." segments, a leading or trailing slash,
 * backslashes, NUL and other controls (excluded by the set). Keys never become file names
 * anyway (object-store-on-disk.ts stores by hash); this is the service's contract, checked
 * early so a traversal attempt is refused, not merely harmless.
 */
import { failures } from "./storage-errors";

const KEY_CHARACTERS = /^[A-Za-z0-9_/!.*'() &$@=;:+,?-]+$/;
/** S3 and Supabase cap keys at 1024 bytes. */
export const MAX_KEY_BYTES = 1024;

/** Lowercase DNS-like names (a subset of Supabase's rule) so a bucket name is safe as a directory name. */
const BUCKET_NAME = /^[a-z0-9][a-z0-9._-]{2,62}$/;

/** Path words of the object routes: a bucket with one of these names would shadow a route. */
const RESERVED_BUCKET_NAMES = new Set([
  "sign",
  "upload",
  "info",
  "authenticated",
  "public",
  "list",
  "move",
  "copy",
]);

export function isValidBucketName(name: unknown): name is string {
  return typeof name === "string" && BUCKET_NAME.test(name) && !name.includes("..");
}

export function assertBucketName(name: string): string {
  if (!isValidBucketName(name)) throw failures.invalidBucketName();
  return name;
}

export function assertNewBucketName(name: unknown): string {
  if (!isValidBucketName(name) || RESERVED_BUCKET_NAMES.has(name)) throw failures.invalidBucketName();
  return name;
}

export function isValidObjectKey(key: unknown): key is string {
  if (typeof key !== "string" || key.length === 0) return false;
  if (new TextEncoder().encode(key).length > MAX_KEY_BYTES) return false;
  if (!KEY_CHARACTERS.test(key)) return false;
  return key.split("/").every((segment) => segment !== "" && segment !== "." && segment !== "..");
}

export function assertObjectKey(key: string): string {
  if (!isValidObjectKey(key)) throw failures.invalidKey();
  return key;
}

/**
 * Splits the raw request path (never a URL-normalised one: WHATWG URL parsing would resolve
 * "..", and "%2e%2e" along with it, before we could see it) into decoded segments.
 */
export function decodePathSegments(rawPath: string): string[] {
  return rawPath.split("/").map((segment) => {
    try {
      return decodeURIComponent(segment);
    } catch {
      throw failures.invalidKey();
    }
  });
}
