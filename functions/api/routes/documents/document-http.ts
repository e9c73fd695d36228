/**
 * The HTTP edge of the documents API: how a request gets its storage, scanner and services,
 * and how a document error value becomes the error contract. Domain code (shared/documents)
 * knows nothing of this.
 */

import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import type { AppConfig } from "../../../../shared/config/load-config";
import { err, ok, type Result } from "../../../../shared/core/result";
import {
  type DocumentError,
  type DocumentFlowError,
  documentErrors,
  isUploadRefused,
  type UploadRefusedError,
} from "../../../../shared/documents/document-errors";
import { MULTIPART_OVERHEAD_BYTES } from "../../../../shared/documents/document-limits";
import type {
  DocumentRegisteredHook,
  DocumentServices,
} from "../../../../shared/documents/document-services";
import type { OpenTcpSocket } from "../../../../shared/documents/tcp-socket";
import {
  createClamdScanner,
  readClamdSettings,
  type VirusScanner,
} from "../../../../shared/documents/virus-scanner";
import { auditContextOf } from "../../../../shared/http/audit-context";
import type { AppEnv } from "../../../../shared/http/context";
import { HttpError, toHttpError } from "../../../../shared/http/errors";
import { tenantScopeOf } from "../../../../shared/http/tenant-scope";
import {
  createStorageServiceClient,
  type StorageFetcher,
} from "../../../../shared/storage/create-storage-service-client";
import type { ObjectStorage } from "../../../../shared/storage/object-storage";
import { readStorageInternalToken } from "../../../../shared/storage/storage-settings";
import { documentProcessingHook } from "../jobs";

export interface DocumentRouteOptions {
  /**
   * How clamd is reached when CLAMD_HOST/CLAMD_PORT are set: openTcpSocketWorkers in workerd
   * (functions/api/index.ts), openTcpSocketNode in Node. Without it a configured scanner
   * makes the upload routes answer 503 (never a silent skip).
   */
  openSocket?: OpenTcpSocket;
  /** Storage for tests and benchmarks; default: the STORAGE service binding (documentStorageFor). */
  storageFor?: (c: Context<AppEnv>) => Result<ObjectStorage, DocumentError>;
  /** Where processing starts after a registration (issue 5). */
  onRegistered?: DocumentRegisteredHook;
  /** The direct upload's PUT to the signed URL; global fetch by default. */
  uploadFetch?: typeof fetch;
}

export { errorResponse, jsonBody, jsonContent } from "../../../../shared/http/openapi-responses";

import { errorResponse } from "../../../../shared/http/openapi-responses";

export const commonErrors = {
  400: errorResponse("Malformed request; details.fields names each bad field"),
  401: errorResponse("Not signed in, or a bad API key"),
  403: errorResponse("The role or the key's scopes do not allow this, or the anti-forgery check failed"),
  404: errorResponse("No such patient or document in this clinic (details.reason)"),
  503: errorResponse("Storage or the virus scanner is unavailable or not configured; retry later"),
} as const;

const storageClients = new WeakMap<AppConfig, ObjectStorage>();
const reportedProblems = new WeakSet<AppConfig>();

function reportOnce(config: AppConfig, problem: string): void {
  if (reportedProblems.has(config)) return;
  reportedProblems.add(config);
  // Setting names only, never values.
  console.error(`medchr-api document storage is not configured: ${problem}`);
}

/**
 * The api function's object storage: the storage function behind the STORAGE service
 * binding, authenticated with STORAGE_INTERNAL_TOKEN. The api never holds the Supabase key.
 */
export function documentStorageFor(c: Context<AppEnv>): Result<ObjectStorage, DocumentError> {
  const config = c.var.config;
  const cached = storageClients.get(config);
  if (cached) return ok(cached);
  const binding = (c.env as Record<string, unknown> | undefined)?.STORAGE as StorageFetcher | undefined;
  if (!binding || typeof binding.fetch !== "function") {
    reportOnce(config, "the STORAGE service binding is missing");
    return err(storageMisconfigured());
  }
  const token = readStorageInternalToken(config);
  if (!token.ok) {
    reportOnce(config, token.error.problems.join("; "));
    return err(storageMisconfigured());
  }
  const client = createStorageServiceClient({ fetcher: binding, internalToken: token.value });
  storageClients.set(config, client);
  return ok(client);
}

function storageMisconfigured(): DocumentError {
  return { ...documentErrors.storageUnavailable(), reason: "storage_misconfigured" };
}

/** The clamd scanner when configured; null when scanning is off; 503 when half-configured. */
export function scannerFor(c: Context<AppEnv>, openSocket: OpenTcpSocket | undefined): VirusScanner | null {
  const settings = readClamdSettings(c.var.config.env);
  if (!settings.ok) {
    console.error(`medchr-api virus scanning is not configured: ${settings.error.problems.join("; ")}`);
    throw new HttpError("misconfigured", "The service is not configured correctly.");
  }
  if (settings.value === null) return null;
  if (!openSocket) {
    console.error("medchr-api virus scanning is configured but this runtime has no TCP socket opener");
    throw new HttpError("misconfigured", "The service is not configured correctly.");
  }
  return createClamdScanner(settings.value, openSocket);
}

export function servicesOf(c: Context<AppEnv>, options: DocumentRouteOptions): DocumentServices {
  const storageFor = options.storageFor ?? documentStorageFor;
  return {
    db: c.var.db,
    scope: tenantScopeOf(c),
    audit: auditContextOf(c),
    storage: () => storageFor(c),
    // Processing starts on its own after a registration (issue 5); tests may pass their own hook.
    onRegistered: options.onRegistered ?? documentProcessingHook(c),
  };
}

/** The edge for everything but an upload refusal: an HTTP error with the reason in details. */
export function fail(error: DocumentError): never {
  const details: Record<string, unknown> = { reason: error.reason };
  if (error.fields) details.fields = error.fields;
  if (error.scanFailure) details.scanFailure = error.scanFailure;
  if (error.pageCount !== undefined) details.pageCount = error.pageCount;
  if (error.reason === "storage_misconfigured" || error.reason === "scanner_misconfigured") {
    throw new HttpError("misconfigured", "The service is not configured correctly.", details);
  }
  const base = toHttpError(error);
  // A short wait is enough for a scanner or storage blip; clients should not hammer (RFC 9110 10.2.3).
  const headers = error.code === "unavailable" ? { "Retry-After": "30" } : undefined;
  throw new HttpError(base.code, error.message, details, headers);
}

/** 422: the bytes were looked at and refused. Not in ERROR_STATUS yet, so built here in the same shape. */
export function refusedBody(c: Context<AppEnv>, error: UploadRefusedError) {
  return {
    error: {
      code: "upload_refused" as const,
      message: error.message,
      requestId: c.var.requestId,
      details: { reason: error.reason, ...(error.documentId ? { documentId: error.documentId } : {}) },
    },
  };
}

export type { DocumentFlowError };
export { isUploadRefused };

/** Direct uploads: paths whose POST takes multipart/form-data (create-app multipartPaths). */
export const DOCUMENT_MULTIPART_PATHS: readonly RegExp[] = [
  /^\/api\/v1\/patients\/[^/]+\/documents$/,
  /^\/patients\/[^/]+\/documents$/,
];

/** Requests whose body went over the direct-upload limit while being read. */
const overLimit = new WeakSet<Request>();

/**
 * The direct upload's own body limit, from MAX_UPLOAD_BYTES (config) plus multipart
 * framing, counted on the stream like the JSON limit (hono/body-limit), so a lying or
 * missing Content-Length does not help. Applies to POST on the direct-upload paths only;
 * the handler asks bodyLimitExceeded() when parsing the body fails.
 */
export const directUploadBodyLimit = () =>
  createMiddleware<AppEnv>(async (c, next) => {
    if (c.req.method !== "POST") return next();
    const limit = c.var.config.maxUploadBytes + MULTIPART_OVERHEAD_BYTES;
    const declared = c.req.header("Content-Length");
    if (declared !== undefined && /^\d+$/.test(declared) && Number(declared) > limit) {
      throw new HttpError("payload_too_large", `The request body exceeds ${limit} bytes.`);
    }
    const body = c.req.raw.body;
    if (body) {
      let seen = 0;
      let counted: Request;
      const stream = body.pipeThrough(
        new TransformStream<Uint8Array, Uint8Array>({
          transform(chunk, controller) {
            seen += chunk.length;
            if (seen > limit) {
              overLimit.add(counted);
              controller.error(new Error("request body over the limit"));
            } else controller.enqueue(chunk);
          },
        }),
      );
      counted = new Request(c.req.raw, { body: stream, duplex: "half" } as RequestInit);
      c.req.raw = counted;
    }
    await next();
  });

export function bodyLimitExceeded(c: Context<AppEnv>): boolean {
  return overLimit.has(c.req.raw);
}
