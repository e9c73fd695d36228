/**
 * Where a document lives in the bucket: `<tenant uuid>/<patient uuid>/<128-bit random hex>`.
 * The server chooses every part. The client's file name never becomes part of a storage
 * name (ASVS 5.2.x / 5.3.2: user-supplied names are not used for storage), so a name cannot
 * traverse, collide, overwrite another object or leak PHI into logs and URLs.
 */
import { err, ok, type Result } from "../core/result";

export interface DocumentStoragePath {
  readonly tenantId: string;
  readonly patientId: string;
  /** 32 lowercase hex characters (128 random bits). */
  readonly objectId: string;
}

const UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}";
const UUID_PATTERN = new RegExp(`^${UUID}$`);
/** Lowercase only: one spelling per object, so an equality check on paths is a real check. */
const DOCUMENT_PATH_PATTERN = new RegExp(`^(${UUID})/(${UUID})/([0-9a-f]{32})$`);

/** 128 bits: unguessable object names (ASVS 11.2 / NIST SP 800-90A random source). */
const OBJECT_ID_BYTES = 16;

/** A fresh storage path for one upload. The ids come from our database, so a bad one is a bug: it throws. */
export function buildDocumentStoragePath(tenantId: string, patientId: string): string {
  if (!UUID_PATTERN.test(tenantId) || !UUID_PATTERN.test(patientId)) {
    throw new TypeError("tenant and patient ids must be lowercase UUIDs");
  }
  const random = crypto.getRandomValues(new Uint8Array(OBJECT_ID_BYTES));
  const objectId = Array.from(random, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${tenantId}/${patientId}/${objectId}`;
}

/** Strict parse: anything but the exact shape buildDocumentStoragePath produces is refused. */
export function parseDocumentStoragePath(path: string): Result<DocumentStoragePath> {
  const match = typeof path === "string" ? DOCUMENT_PATH_PATTERN.exec(path) : null;
  if (!match) return err({ code: "invalid_input", message: "The storage path is not a document path." });
  return ok({ tenantId: match[1]!, patientId: match[2]!, objectId: match[3]! });
}

/**
 * Whether a path a client registers is one we issued for this tenant and patient. A path of
 * another tenant or patient is reported exactly like a malformed one: the answer must not
 * confirm that someone else's object exists.
 */
export function isDocumentStoragePathOf(path: string, tenantId: string, patientId: string): boolean {
  const parsed = parseDocumentStoragePath(path);
  return parsed.ok && parsed.value.tenantId === tenantId && parsed.value.patientId === patientId;
}

/** Object keys the storage function accepts from its callers. */
export const MAX_OBJECT_KEY_CHARS = 512;
const MAX_OBJECT_KEY_SEGMENTS = 8;
const SEGMENT_PATTERN = /^[A-Za-z0-9._-]{1,128}$/;

/**
 * A conservative key check for the storage function's internal API: ASCII letters, digits,
 * ".", "_", "-" in "/"-separated segments, no "." or ".." segment, no leading or trailing
 * slash. It admits every document path and future server-built names (exports), and refuses
 * anything that could mean something else to a path parser (backslash, NUL, percent, spaces).
 */
export function isSafeObjectKey(key: unknown): key is string {
  if (typeof key !== "string" || key.length === 0 || key.length > MAX_OBJECT_KEY_CHARS) return false;
  const segments = key.split("/");
  if (segments.length > MAX_OBJECT_KEY_SEGMENTS) return false;
  return segments.every((s) => SEGMENT_PATTERN.test(s) && s !== "." && s !== "..");
}
