/**
 * /storage/internal/*: object storage for the other functions, reached through their STORAGE
 * service binding. Every route needs the shared internal token (constant-time check) before
 * its body is read; paths are validated again here, whatever the caller checked.
 * Responses carry ids and sizes only; nothing is logged but setting names.
 */
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import type { ZodType } from "zod";
import type { AppConfig } from "../../../shared/config/load-config";
import type { DomainError } from "../../../shared/core/result";
import type { AppEnv } from "../../../shared/http/context";
import { type FunctionApp, validationDetails } from "../../../shared/http/create-app";
import { HttpError, toHttpError } from "../../../shared/http/errors";
import { createSupabaseObjectStorage } from "../../../shared/storage/create-supabase-object-storage";
import type { ObjectStorage } from "../../../shared/storage/object-storage";
import {
  HeadBytesRequest,
  ReadRequest,
  RemoveRequest,
  SignDownloadRequest,
  SignUploadRequest,
  STORAGE_INTERNAL_PREFIX,
  STORAGE_INTERNAL_ROUTES,
  STORAGE_INTERNAL_TOKEN_HEADER,
  STORED_CONTENT_TYPE_HEADER,
  StatRequest,
} from "../../../shared/storage/storage-internal-api";
import {
  isInternalTokenValid,
  readStorageInternalToken,
  readSupabaseStorageSettings,
} from "../../../shared/storage/storage-settings";

export type ObjectStorageFactory = (config: AppConfig) => ObjectStorage;

/** Media types are echoed only in this shape: no header injection, nothing long. */
const MEDIA_TYPE =
  /^[A-Za-z0-9!#$&^_.+-]+\/[A-Za-z0-9!#$&^_.+-]+(\s*;\s*[A-Za-z0-9!#$&^_.+-]+=[A-Za-z0-9!#$&^_.+-]+)*$/;

/** One client per validated config (an isolate's env is stable): supabase-js clients hold no sockets. */
function defaultFactory(): ObjectStorageFactory {
  const cache = new WeakMap<AppConfig, ObjectStorage>();
  return (config) => {
    let storage = cache.get(config);
    if (!storage) {
      const settings = readSupabaseStorageSettings(config);
      if (!settings.ok) {
        console.error(
          `medchr-storage object storage is not configured: ${settings.error.problems.join("; ")}`,
        );
        throw new HttpError("misconfigured", "The service is not configured correctly.");
      }
      storage = createSupabaseObjectStorage(settings.value);
      cache.set(config, storage);
    }
    return storage;
  };
}

const requireInternalToken = () =>
  createMiddleware<AppEnv>(async (c, next) => {
    const expected = readStorageInternalToken(c.var.config);
    if (!expected.ok) {
      console.error(`medchr-storage internal routes refused: ${expected.error.problems.join("; ")}`);
      throw new HttpError("misconfigured", "The service is not configured correctly.");
    }
    if (!(await isInternalTokenValid(c.req.header(STORAGE_INTERNAL_TOKEN_HEADER), expected.value))) {
      throw new HttpError("unauthorized", "Authentication is required.");
    }
    await next();
  });

async function body<T>(c: Context<AppEnv>, schema: ZodType<T>): Promise<T> {
  let raw: unknown;
  try {
    raw = await c.req.json();
  } catch {
    throw new HttpError("bad_request", "The request body is not valid JSON.");
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    throw new HttpError(
      "validation_failed",
      "The request is not valid.",
      validationDetails(parsed.error.issues),
    );
  }
  return parsed.data;
}

/** The edge: a storage error value becomes the HTTP error contract. */
function fail(error: DomainError): never {
  throw toHttpError(error);
}

export function registerInternalStorageRoutes(
  app: FunctionApp,
  factory: ObjectStorageFactory = defaultFactory(),
): void {
  const storageOf = (c: Context<AppEnv>) => factory(c.var.config);
  app.use(`${STORAGE_INTERNAL_PREFIX}/*`, requireInternalToken());

  app.post(STORAGE_INTERNAL_ROUTES.signUpload, async (c) => {
    const input = await body(c, SignUploadRequest);
    const result = await storageOf(c).createSignedUploadUrl(
      input.path,
      input.expiresInSeconds === undefined ? {} : { expiresInSeconds: input.expiresInSeconds },
    );
    if (!result.ok) fail(result.error);
    const { url, token, path, expiresAt } = result.value;
    return c.json({ url, token, path, expiresAt: expiresAt.toISOString() }, 200);
  });

  app.post(STORAGE_INTERNAL_ROUTES.stat, async (c) => {
    const input = await body(c, StatRequest);
    const result = await storageOf(c).statObject(input.path);
    if (!result.ok) fail(result.error);
    if (result.value === null) throw new HttpError("not_found", "Not found.");
    return c.json({ size: result.value.size, contentType: safeMediaType(result.value.contentType) }, 200);
  });

  app.post(STORAGE_INTERNAL_ROUTES.headBytes, async (c) => {
    const input = await body(c, HeadBytesRequest);
    const result = await storageOf(c).readObjectHead(input.path, input.bytes);
    if (!result.ok) fail(result.error);
    return c.body(result.value.slice(0, input.bytes), 200, { "Content-Type": "application/octet-stream" });
  });

  app.post(STORAGE_INTERNAL_ROUTES.read, async (c) => {
    const input = await body(c, ReadRequest);
    const result = await storageOf(c).openObjectStream(input.path);
    if (!result.ok) fail(result.error);
    const { body: stream, size, contentType } = result.value;
    if (input.maxBytes !== undefined && size !== null && size > input.maxBytes) {
      await stream.cancel().catch(() => {});
      throw new HttpError("payload_too_large", "The stored object is too large.");
    }
    const headers: Record<string, string> = { "Content-Type": "application/octet-stream" };
    if (size !== null) headers["Content-Length"] = String(size);
    const declared = safeMediaType(contentType);
    if (declared) headers[STORED_CONTENT_TYPE_HEADER] = declared;
    // Never more than announced: an object replaced mid-read must not overrun its length.
    const limit = input.maxBytes ?? size ?? Number.MAX_SAFE_INTEGER;
    return c.body(stream.pipeThrough(byteLimit(limit)), 200, headers);
  });

  app.post(STORAGE_INTERNAL_ROUTES.signDownload, async (c) => {
    const input = await body(c, SignDownloadRequest);
    const result = await storageOf(c).createSignedDownloadUrl(input.path, {
      expiresInSeconds: input.expiresInSeconds,
      downloadName: input.downloadName,
    });
    if (!result.ok) fail(result.error);
    return c.json({ url: result.value.url, expiresAt: result.value.expiresAt.toISOString() }, 200);
  });

  app.post(STORAGE_INTERNAL_ROUTES.remove, async (c) => {
    const input = await body(c, RemoveRequest);
    const result = await storageOf(c).removeObjects(input.paths);
    if (!result.ok) fail(result.error);
    return c.json({ removed: result.value.removed }, 200);
  });
}

function safeMediaType(value: string | null): string | null {
  return value !== null && value.length <= 255 && MEDIA_TYPE.test(value) ? value : null;
}

function byteLimit(limit: number): TransformStream<Uint8Array, Uint8Array> {
  let seen = 0;
  return new TransformStream({
    transform(chunk, controller) {
      seen += chunk.length;
      if (seen > limit) {
        controller.error(new Error("object larger than announced"));
        return;
      }
      controller.enqueue(chunk);
    },
  });
}
