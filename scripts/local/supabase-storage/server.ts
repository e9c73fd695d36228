/**
 * Supabase Storage stand-in for `npm start` and tests: the subset of the Storage HTTP API
 * (prefix /storage/v1) that @supabase/supabase-js 2.109 uses, so production code
 * (createClient(url, serviceRoleKey).storage.from(bucket)) runs unchanged and offline. No npm
 * package serves this protocol, and `supabase start` needs Docker (runtime-facts.md).
 *
 *   POST   /bucket                                  createBucket             service key
 *   GET    /bucket/<id>                             getBucket                service key
 *   POST   /object/upload/sign/<bucket>/<key>       createSignedUploadUrl    service key -> {url, token}
 *   PUT    /object/upload/sign/<bucket>/<key>?token uploadToSignedUrl       token (once)  -> {Key, Id}
 *   POST   /object/sign/<bucket>/<key> {expiresIn}  createSignedUrl          service key -> {signedURL}
 *   GET    /object/sign/<bucket>/<key>?token[&download=<name>]               token; attachment when download is set
 *   GET    /object/info[/authenticated]/<bucket>/<key>  info                 service key
 *   GET|HEAD /object[/authenticated]/<bucket>/<key> download / exists      service key; Range supported
 *   DELETE /object/<bucket> {prefixes}              remove                   service key -> [removed objects]
 *   DELETE /object/<bucket>/<key>                   (single delete)          service key
 *
 * Privileged calls need the service-role key as `Authorization: Bearer` (and as `apikey`
 * when that header is sent, as supabase-js always does), compared in constant time. Signed
 * tokens are HS256 JWTs bound to bucket+key and purpose, with an expiry; an upload token
 * works once (the managed service only refuses a second upload because the object then
 * exists; the stand-in is stricter). Signed upload URLs live 2 h as on the managed service.
 * Errors use storage-api's JSON shape (storage-errors.ts).
 *
 * Loopback only, dev and tests only, and silent: it logs nothing (keys carry tenant and
 * patient ids).
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { pipeline } from "node:stream/promises";
import {
  bearerToken,
  corsHeaders,
  readBody,
  readJsonObject,
  sendFailure,
  sendJson,
  sendPreflight,
} from "./http-io";
import {
  type BucketRecord,
  type ObjectRecord,
  ObjectStoreOnDisk,
  type PendingWrite,
} from "./object-store-on-disk";
import { SignedTokens } from "./signed-token";
import { failures, StorageFailure } from "./storage-errors";
import {
  assertBucketName,
  assertNewBucketName,
  assertObjectKey,
  decodePathSegments,
  isValidObjectKey,
} from "./storage-key";

/** The managed service's signed upload URL lifetime (uploadSignedUrlExpirationTime). */
export const DEFAULT_SIGNED_UPLOAD_SECONDS = 2 * 60 * 60;
/** The managed service's global per-object limit on the Free plan; buckets may set less. */
export const DEFAULT_MAX_OBJECT_BYTES = 50 * 1024 * 1024;
/** A service key shorter than this is guessable even on loopback. */
export const MIN_SERVICE_KEY_CHARS = 16;
/** Room for multipart boundaries and form fields around the file itself. */
const MULTIPART_OVERHEAD_BYTES = 64 * 1024;
/** remove() takes at most this many keys per call, like the managed service. */
const MAX_REMOVE_PREFIXES = 1000;
/** Longest signed download lifetime accepted (one year); the API allows long links, callers should not. */
const MAX_SIGNED_URL_SECONDS = 365 * 24 * 60 * 60;
const PREFIX = "/storage/v1/";
const MEDIA_TYPE = /^([A-Za-z0-9!#$&^_.+-]+)\/([A-Za-z0-9!#$&^_.+-]+)\s*(;.*)?$/;
const MEDIA_RANGE = /^([a-z0-9!#$&^_.+-]+)\/([a-z0-9!#$&^_.+-]+|\*)$/;
const CACHE_CONTROL = /^[A-Za-z0-9=, -]{1,100}$/;

export interface BucketSettings {
  name: string;
  public?: boolean;
  fileSizeLimit?: number | null;
  allowedMimeTypes?: readonly string[] | null;
}

export interface SupabaseStorageStandinOptions {
  /** Where objects, bucket settings and the signing secret live. */
  dataDir: string;
  /** SUPABASE_SERVICE_ROLE_KEY the privileged calls must present. */
  serviceRoleKey: string;
  /** HTTP port on 127.0.0.1; default: a free one. */
  port?: number;
  /** HS256 secret for signed URLs; default: generated once and kept in dataDir. */
  jwtSecret?: string;
  /** Buckets to create at start when missing (private). */
  buckets?: ReadonlyArray<string | BucketSettings>;
  signedUploadExpiresInSeconds?: number;
  maxObjectBytes?: number;
  /** Milliseconds since the epoch; tests move it to expire tokens. */
  clock?: () => number;
}

export interface SupabaseStorageStandin {
  /** http://127.0.0.1:<port>: the SUPABASE_URL for clients. */
  url: string;
  stop(): Promise<void>;
}

interface Target {
  bucket: string;
  key: string;
}

export async function startSupabaseStorageStandin(
  options: SupabaseStorageStandinOptions,
): Promise<SupabaseStorageStandin> {
  if (typeof options.serviceRoleKey !== "string" || options.serviceRoleKey.length < MIN_SERVICE_KEY_CHARS) {
    throw new TypeError(`the service role key must be at least ${MIN_SERVICE_KEY_CHARS} characters`);
  }
  const now = options.clock ?? Date.now;
  const uploadSeconds = options.signedUploadExpiresInSeconds ?? DEFAULT_SIGNED_UPLOAD_SECONDS;
  const maxObjectBytes = options.maxObjectBytes ?? DEFAULT_MAX_OBJECT_BYTES;
  const store = await ObjectStoreOnDisk.open(options.dataDir, now);
  const tokens = new SignedTokens(options.jwtSecret ?? (await store.loadOrCreateJwtSecret()), now);
  const serviceKeyDigest = digest(options.serviceRoleKey);
  for (const bucket of options.buckets ?? []) {
    const settings = typeof bucket === "string" ? { name: bucket } : bucket;
    await store.createBucket(bucketRecord(settings, maxObjectBytes, now()));
  }

  function isServiceRequest(req: IncomingMessage): boolean {
    const bearer = bearerToken(req);
    const apikey = req.headers.apikey;
    // Both digests are always computed and compared: the time taken says nothing about the key.
    const bearerOk = timingSafeEqual(digest(bearer ?? ""), serviceKeyDigest) && bearer !== null;
    const apikeyOk = apikey === undefined || timingSafeEqual(digest(String(apikey)), serviceKeyDigest);
    return bearerOk && apikeyOk;
  }

  function requireService(req: IncomingMessage): void {
    if (!isServiceRequest(req)) throw failures.unauthorized();
  }

  async function requireBucket(name: string): Promise<BucketRecord> {
    const bucket = await store.getBucket(name);
    if (!bucket) throw failures.noSuchBucket();
    return bucket;
  }

  async function requireObject(target: Target): Promise<ObjectRecord> {
    const record = await store.stat(target.bucket, target.key);
    if (!record) throw failures.noSuchKey();
    return record;
  }

  // --- handlers ---

  async function createBucket(req: IncomingMessage, res: ServerResponse): Promise<void> {
    requireService(req);
    const body = await readJsonObject(req);
    const id = assertNewBucketName(body.id ?? body.name);
    if (body.name !== undefined && body.name !== id) throw failures.invalidRequest("name and id must match");
    if (body.public !== undefined && typeof body.public !== "boolean") {
      throw failures.invalidRequest("body/public must be boolean");
    }
    const record = bucketRecord(
      {
        name: id,
        public: body.public === true,
        fileSizeLimit: parseFileSizeLimit(body.file_size_limit, maxObjectBytes),
        allowedMimeTypes: parseAllowedMimeTypes(body.allowed_mime_types),
      },
      maxObjectBytes,
      now(),
    );
    if ((await store.createBucket(record)) === "exists") throw failures.bucketAlreadyExists();
    sendJson(res, 200, { name: id });
  }

  async function getBucket(req: IncomingMessage, res: ServerResponse, name: string): Promise<void> {
    requireService(req);
    sendJson(res, 200, await requireBucket(assertBucketName(name)));
  }

  async function signUpload(req: IncomingMessage, res: ServerResponse, target: Target): Promise<void> {
    requireService(req);
    await readJsonObject(req);
    await requireBucket(target.bucket);
    const upsert = String(req.headers["x-upsert"] ?? "").toLowerCase() === "true";
    if (!upsert && (await store.stat(target.bucket, target.key))) throw failures.keyAlreadyExists();
    const { token } = await tokens.sign("upload", objectUrl(target), uploadSeconds, { upsert });
    sendJson(res, 200, { url: `/object/upload/sign/${objectUrl(target)}?token=${token}`, token });
  }

  async function uploadWithToken(
    req: IncomingMessage,
    res: ServerResponse,
    target: Target,
    query: URLSearchParams,
  ): Promise<void> {
    const token = query.get("token");
    if (!token) throw failures.invalidRequest("querystring must have required property 'token'");
    const claims = await tokens.verify(token, "upload", objectUrl(target));
    const bucket = await requireBucket(target.bucket);
    const limit = Math.min(bucket.file_size_limit ?? maxObjectBytes, maxObjectBytes);
    const multipart = mediaTypeOf(req.headers["content-type"]) === "multipart/form-data";
    if (!multipart) {
      // Refuse before reading a byte when the headers already say no.
      checkMimeType(bucket, contentTypeHeader(req));
      const declared = Number(req.headers["content-length"] ?? 0);
      if (Number.isFinite(declared) && declared > limit) throw failures.entityTooLarge();
    }
    if (!(await store.spendToken(claims.jti, claims.exp))) throw failures.tokenAlreadyUsed();
    let pending: PendingWrite | undefined;
    let committed = false;
    try {
      let contentType: string;
      let cacheControl = cacheControlOf(req.headers["cache-control"]);
      if (multipart) {
        const form = await readMultipart(req, limit);
        contentType = form.contentType;
        checkMimeType(bucket, contentType);
        if (form.cacheControl) cacheControl = form.cacheControl;
        pending = await store.receive(form.bytes, limit);
      } else {
        contentType = contentTypeHeader(req);
        pending = await store.receive(req, limit);
      }
      const result = await store.commit(pending, target.bucket, target.key, {
        contentType,
        cacheControl,
        upsert: claims.upsert,
      });
      if (result.outcome === "exists") throw failures.keyAlreadyExists();
      committed = true;
      sendJson(res, 200, { Key: objectUrl(target), Id: result.record!.id });
    } catch (error) {
      if (pending) await store.discard(pending);
      if (!committed) await store.refundToken(claims.jti);
      throw error;
    }
  }

  async function signDownload(req: IncomingMessage, res: ServerResponse, target: Target): Promise<void> {
    requireService(req);
    const body = await readJsonObject(req);
    const expiresIn = body.expiresIn;
    if (
      typeof expiresIn !== "number" ||
      !Number.isInteger(expiresIn) ||
      expiresIn < 1 ||
      expiresIn > MAX_SIGNED_URL_SECONDS
    ) {
      throw failures.invalidRequest("body/expiresIn must be an integer >= 1");
    }
    await requireBucket(target.bucket);
    await requireObject(target);
    const { token } = await tokens.sign("download", objectUrl(target), expiresIn);
    sendJson(res, 200, { signedURL: `/object/sign/${objectUrl(target)}?token=${token}` });
  }

  async function downloadWithToken(
    req: IncomingMessage,
    res: ServerResponse,
    target: Target,
    query: URLSearchParams,
  ): Promise<void> {
    const token = query.get("token");
    if (!token) throw failures.invalidRequest("querystring must have required property 'token'");
    await tokens.verify(token, "download", objectUrl(target));
    await requireBucket(target.bucket);
    const record = await requireObject(target);
    const download = query.get("download");
    const attachment =
      download === null ? undefined : download || target.key.slice(target.key.lastIndexOf("/") + 1);
    await serveObject(req, res, target, record, attachment);
  }

  async function readObject(req: IncomingMessage, res: ServerResponse, target: Target): Promise<void> {
    requireService(req);
    await requireBucket(target.bucket);
    await serveObject(req, res, target, await requireObject(target));
  }

  async function objectInfo(req: IncomingMessage, res: ServerResponse, target: Target): Promise<void> {
    requireService(req);
    await requireBucket(target.bucket);
    const record = await requireObject(target);
    sendJson(res, 200, {
      ...fileObject(record),
      version: record.etag.replace(/"/g, ""),
      size: record.size,
      content_type: record.content_type,
      cache_control: record.cache_control,
      etag: record.etag,
    });
  }

  async function removeMany(req: IncomingMessage, res: ServerResponse, bucketName: string): Promise<void> {
    requireService(req);
    const body = await readJsonObject(req);
    const bucket = assertBucketName(bucketName);
    await requireBucket(bucket);
    const prefixes = body.prefixes;
    if (
      !Array.isArray(prefixes) ||
      prefixes.length === 0 ||
      prefixes.length > MAX_REMOVE_PREFIXES ||
      !prefixes.every((p) => typeof p === "string")
    ) {
      throw failures.invalidRequest(`body/prefixes must be 1 to ${MAX_REMOVE_PREFIXES} strings`);
    }
    const removed: ObjectRecord[] = [];
    // Like the service: names that do not exist (or cannot) are simply not in the answer.
    for (const key of new Set(prefixes as string[])) {
      if (!isValidObjectKey(key)) continue;
      const record = await store.remove(bucket, key);
      if (record) removed.push(record);
    }
    sendJson(res, 200, removed.map(fileObject));
  }

  async function removeOne(req: IncomingMessage, res: ServerResponse, target: Target): Promise<void> {
    requireService(req);
    await readJsonObject(req);
    await requireBucket(target.bucket);
    if (!(await store.remove(target.bucket, target.key))) throw failures.noSuchKey();
    sendJson(res, 200, { message: "Successfully deleted" });
  }

  async function serveObject(
    req: IncomingMessage,
    res: ServerResponse,
    target: Target,
    record: ObjectRecord,
    attachmentName?: string,
  ): Promise<void> {
    if (!req.complete) req.resume();
    const size = (await store.dataSize(target.bucket, target.key)) ?? record.size;
    const range = parseRange(req.headers.range, size);
    if (range === "unsatisfiable") throw failures.invalidRange();
    const headers: Record<string, string | number> = {
      ...corsHeaders(),
      "content-type": record.content_type,
      "cache-control": record.cache_control,
      etag: record.etag,
      "last-modified": new Date(record.last_modified).toUTCString(),
      "accept-ranges": "bytes",
      "content-length": range ? range.end - range.start + 1 : size,
    };
    if (range) headers["content-range"] = `bytes ${range.start}-${range.end}/${size}`;
    if (attachmentName !== undefined) headers["content-disposition"] = contentDisposition(attachmentName);
    res.writeHead(range ? 206 : 200, headers);
    if (req.method === "HEAD" || size === 0) {
      res.end();
      return;
    }
    await pipeline(store.openRead(target.bucket, target.key, range ?? undefined), res);
  }

  // --- routing ---

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = req.url ?? "/";
    const queryAt = raw.indexOf("?");
    const rawPath = queryAt >= 0 ? raw.slice(0, queryAt) : raw;
    const query = new URLSearchParams(queryAt >= 0 ? raw.slice(queryAt + 1) : "");
    if (req.method === "OPTIONS") return sendPreflight(req, res);
    if (!rawPath.startsWith(PREFIX)) throw failures.routeNotFound();
    const segments = decodePathSegments(rawPath.slice(PREFIX.length));
    const method = req.method ?? "GET";
    const [area, ...rest] = segments;

    if (area === "bucket") {
      if (method === "POST" && rest.length === 0) return createBucket(req, res);
      if (method === "GET" && rest.length === 1) return getBucket(req, res, rest[0]!);
      throw failures.routeNotFound();
    }
    if (area !== "object") throw failures.routeNotFound();
    const [first, second] = rest;
    if (first === "upload" && second === "sign") {
      const target = parseTarget(rest.slice(2));
      if (method === "POST") return signUpload(req, res, target);
      if (method === "PUT") return uploadWithToken(req, res, target, query);
      throw failures.routeNotFound();
    }
    if (first === "sign") {
      const target = parseTarget(rest.slice(1));
      if (method === "POST") return signDownload(req, res, target);
      if (method === "GET" || method === "HEAD") return downloadWithToken(req, res, target, query);
      throw failures.routeNotFound();
    }
    if (first === "info") {
      if (method !== "GET") throw failures.routeNotFound();
      return objectInfo(req, res, parseTarget(rest.slice(second === "authenticated" ? 2 : 1)));
    }
    if (first === "authenticated") {
      if (method !== "GET" && method !== "HEAD") throw failures.routeNotFound();
      return readObject(req, res, parseTarget(rest.slice(1)));
    }
    if (method === "DELETE" && rest.length === 1) return removeMany(req, res, rest[0]!);
    if (method === "DELETE") return removeOne(req, res, parseTarget(rest));
    if (method === "GET" || method === "HEAD") return readObject(req, res, parseTarget(rest));
    throw failures.routeNotFound();
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      sendFailure(req, res, error instanceof StorageFailure ? error : failures.internal());
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    stop() {
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        // fetch keeps connections alive; close them or close() waits for their idle timeout.
        server.closeAllConnections();
      });
    },
  };
}

function digest(value: string): Buffer {
  return createHash("sha256").update(value, "utf8").digest();
}

function objectUrl(target: Target): string {
  return `${target.bucket}/${target.key}`;
}

function parseTarget(parts: readonly string[]): Target {
  const [bucket, ...key] = parts;
  if (!bucket || key.length === 0) throw failures.invalidKey();
  return { bucket: assertBucketName(bucket), key: assertObjectKey(key.join("/")) };
}

function bucketRecord(settings: BucketSettings, maxObjectBytes: number, at: number): BucketRecord {
  const created = new Date(at).toISOString();
  return {
    id: assertNewBucketName(settings.name),
    name: settings.name,
    public: settings.public === true,
    file_size_limit:
      settings.fileSizeLimit === undefined || settings.fileSizeLimit === null
        ? null
        : Math.min(settings.fileSizeLimit, maxObjectBytes),
    allowed_mime_types: settings.allowedMimeTypes
      ? settings.allowedMimeTypes.map((t) => t.toLowerCase())
      : null,
    created_at: created,
    updated_at: created,
  };
}

/** Bytes, or "25MB"-style strings (decimal units, as storage-api parses them). */
function parseFileSizeLimit(value: unknown, maxObjectBytes: number): number | null {
  if (value === undefined || value === null) return null;
  let bytes: number;
  if (typeof value === "number") bytes = value;
  else if (typeof value === "string") {
    const match = /^(\d+(?:\.\d+)?)\s*(gb|mb|kb|b)$/i.exec(value.trim());
    if (!match) throw failures.invalidRequest("Invalid file size format, hint: use 20GB / 20MB / 30KB / 3B");
    const unit = { gb: 1e9, mb: 1e6, kb: 1e3, b: 1 }[match[2]!.toLowerCase() as "gb" | "mb" | "kb" | "b"];
    bytes = Math.round(Number(match[1]) * unit);
  } else throw failures.invalidRequest("body/file_size_limit must be integer or string");
  if (!Number.isInteger(bytes) || bytes < 0)
    throw failures.invalidRequest("body/file_size_limit must be >= 0");
  if (bytes > maxObjectBytes) throw failures.entityTooLarge();
  return bytes;
}

function parseAllowedMimeTypes(value: unknown): string[] | null {
  if (value === undefined || value === null) return null;
  if (
    !Array.isArray(value) ||
    !value.every((v) => typeof v === "string" && MEDIA_RANGE.test(v.toLowerCase()))
  ) {
    throw failures.invalidMimeType();
  }
  return [...new Set((value as string[]).map((v) => v.toLowerCase()))];
}

function mediaTypeOf(header: string | string[] | undefined): string {
  return String(header ?? "")
    .split(";")[0]!
    .trim()
    .toLowerCase();
}

/** The declared type, as supabase-js sends it (text/plain;charset=UTF-8 when the caller gave none). */
function contentTypeHeader(req: IncomingMessage): string {
  const value = String(req.headers["content-type"] ?? "application/octet-stream").trim();
  if (value.length > 255 || !MEDIA_TYPE.test(value)) throw failures.invalidMimeType();
  return value;
}

function checkMimeType(bucket: BucketRecord, contentType: string): void {
  if (!bucket.allowed_mime_types) return;
  const essence = mediaTypeOf(contentType);
  const wildcard = `${essence.slice(0, essence.indexOf("/") + 1)}*`;
  if (!bucket.allowed_mime_types.includes(essence) && !bucket.allowed_mime_types.includes(wildcard)) {
    throw failures.invalidMimeType();
  }
}

function cacheControlOf(header: string | string[] | undefined): string {
  const value = String(header ?? "").trim();
  return CACHE_CONTROL.test(value) ? value : "no-cache";
}

/** supabase-js sends a Blob or File as multipart: a `cacheControl` field and the file (field name ""). */
async function readMultipart(
  req: IncomingMessage,
  limit: number,
): Promise<{ bytes: Uint8Array; contentType: string; cacheControl: string | null }> {
  const raw = await readBody(req, limit + MULTIPART_OVERHEAD_BYTES);
  let form: FormData;
  try {
    form = await new Response(new Uint8Array(raw), {
      headers: { "content-type": String(req.headers["content-type"]) },
    }).formData();
  } catch {
    throw failures.invalidRequest("The multipart body could not be read");
  }
  const file = [...form.values()].find((v): v is File => typeof v !== "string");
  if (!file) throw failures.invalidRequest("No content provided");
  const contentType = file.type || "application/octet-stream";
  if (contentType.length > 255 || !MEDIA_TYPE.test(contentType)) throw failures.invalidMimeType();
  const seconds = form.get("cacheControl");
  return {
    bytes: new Uint8Array(await file.arrayBuffer()),
    contentType,
    cacheControl: typeof seconds === "string" && /^\d{1,9}$/.test(seconds) ? `max-age=${seconds}` : null,
  };
}

/**
 * One byte range (RFC 9110 14.1.2): "bytes=a-b", "bytes=a-" or "bytes=-n". A header we
 * cannot parse is ignored (the whole object is sent, as S3 does); a range that starts past
 * the end is unsatisfiable (416), which for an empty object is every range.
 */
function parseRange(
  header: string | undefined,
  size: number,
): { start: number; end: number } | "unsatisfiable" | null {
  if (!header) return null;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === "" && match[2] === "")) return null;
  if (match[1] === "") {
    const suffix = Number(match[2]);
    if (suffix === 0 || size === 0) return "unsatisfiable";
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(match[1]);
  const end = match[2] === "" ? size - 1 : Math.min(Number(match[2]), size - 1);
  if (match[2] !== "" && Number(match[2]) < start) return null;
  if (start >= size) return "unsatisfiable";
  return { start, end };
}

/** RFC 6266: a quoted ASCII fallback plus the exact name in RFC 8187 encoding. */
function contentDisposition(name: string): string {
  const fallback = name.replace(/[^A-Za-z0-9._ -]/g, "_").slice(0, 150) || "download";
  return `attachment; filename="${fallback}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

function fileObject(record: ObjectRecord) {
  return {
    id: record.id,
    name: record.name,
    bucket_id: record.bucket_id,
    created_at: record.created_at,
    updated_at: record.last_modified,
    last_modified: record.last_modified,
    metadata: {
      eTag: record.etag,
      size: record.size,
      mimetype: record.content_type,
      cacheControl: record.cache_control,
      lastModified: record.last_modified,
      contentLength: record.size,
      httpStatusCode: 200,
    },
  };
}
