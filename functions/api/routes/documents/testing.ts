/**
 * Test kit for the documents API's *.db.test.ts files (not shipped: only tests and the
 * benchmark import it). The whole path runs for real, in process: the api function's
 * routes, PGlite with the real migrations, the storage function app as the STORAGE service
 * binding (`{ fetch: (r) => storageApp.fetch(r, env) }`), and the Supabase Storage stand-in
 * behind it, driven by supabase-js as a client would.
 */
import { createHash, randomBytes } from "node:crypto";
import { createClient } from "@supabase/supabase-js";
import WebSocket from "ws";
import {
  startTestStorageStandin,
  type TestStorageStandin,
} from "../../../../scripts/local/supabase-storage/testing";
import type { Sql } from "../../../../shared/db/database";
import { createFunctionApp } from "../../../../shared/http/create-app";
import { createSupabaseObjectStorage } from "../../../../shared/storage/create-supabase-object-storage";
import type { ObjectStorage } from "../../../../shared/storage/object-storage";
import { STORAGE_INTERNAL_ROUTES } from "../../../../shared/storage/storage-internal-api";
import { type FakeClamd, startFakeClamd } from "../../../../test/helpers/clamd";
import {
  createApiKey,
  createUser,
  signIn,
  type TestApiKey,
  type TestSession,
} from "../../../../test/helpers/identity";
import { createTenant, startTestDatabase, type TestDatabase } from "../../../../test/helpers/test-database";
import { testEnv } from "../../../../test/helpers/test-env";
import { buildStorageApp } from "../../../storage/app";
import { DOCUMENT_MULTIPART_PATHS, type DocumentRouteOptions, registerDocumentRoutes } from "./index";

/**
 * The api function as app.ts should build it once documents are wired: multipart on the
 * direct-upload paths. The JSON body limit is raised here only because create-app applies
 * it to every path; the direct upload's own limit (MAX_UPLOAD_BYTES + framing) is what the
 * tests exercise.
 */
export function buildDocumentsTestApp(options: DocumentRouteOptions = {}) {
  const app = createFunctionApp("api", {
    usesDatabase: true,
    multipartPaths: DOCUMENT_MULTIPART_PATHS,
  });
  registerDocumentRoutes(app, options);
  return app;
}

export type DocumentsTestApp = ReturnType<typeof buildDocumentsTestApp>;

/** Switches for storage faults, checked on every call the api makes to the storage function. */
export interface StorageFaults {
  /** Internal routes (e.g. STORAGE_INTERNAL_ROUTES.remove) answered 503 as if Supabase were down. */
  failing: Set<string>;
}

export interface DocumentsHarness {
  database: TestDatabase;
  standin: TestStorageStandin;
  faults: StorageFaults;
  /** The api function's env: test keys, the STORAGE binding, the internal token. */
  env: Record<string, unknown>;
  storageEnv: Record<string, unknown>;
  tenantA: string;
  tenantB: string;
  clinicianA: TestSession;
  clinicianB: TestSession;
  /** A partner key of tenant A with read and write scopes. */
  keyA: TestApiKey;
  stop(): Promise<void>;
}

/** The storage function's env in front of the stand-in, reached by the api with `internalToken`. */
export function storageFunctionEnv(
  standin: TestStorageStandin,
  internalToken: string,
): Record<string, unknown> {
  return {
    APP_ENV: "test",
    HIPAA_MODE: "false",
    SUPABASE_URL: standin.url,
    SUPABASE_SERVICE_ROLE_KEY: standin.serviceRoleKey,
    SUPABASE_STORAGE_BUCKET: standin.bucket,
    STORAGE_INTERNAL_TOKEN: internalToken,
  };
}

export async function startDocumentsHarness(
  overrides: Record<string, unknown> = {},
  standinOptions: Parameters<typeof startTestStorageStandin>[0] = {},
): Promise<DocumentsHarness> {
  const database = await startTestDatabase();
  const standin = await startTestStorageStandin(standinOptions);
  const internalToken = randomBytes(32).toString("base64url");
  const storageApp = buildStorageApp();
  const storageEnv = storageFunctionEnv(standin, internalToken);
  const faults: StorageFaults = { failing: new Set() };
  const binding = {
    fetch: async (request: Request): Promise<Response> => {
      if (faults.failing.has(new URL(request.url).pathname)) {
        return Response.json(
          { error: { code: "unavailable", message: "down", requestId: "x" } },
          { status: 503 },
        );
      }
      return storageApp.fetch(request, storageEnv);
    },
  };
  const env = testEnv(database.url, {
    STORAGE: binding,
    STORAGE_INTERNAL_TOKEN: internalToken,
    ...overrides,
  });
  const tenantA = await createTenant(database.owner, `docs-a-${randomBytes(3).toString("hex")}`);
  const tenantB = await createTenant(database.owner, `docs-b-${randomBytes(3).toString("hex")}`);
  const userA = await createUser(database.owner, tenantA, { role: "clinician" });
  const userB = await createUser(database.owner, tenantB, { role: "clinician" });
  return {
    database,
    standin,
    faults,
    env,
    storageEnv,
    tenantA,
    tenantB,
    clinicianA: await signIn(database.db, userA),
    clinicianB: await signIn(database.db, userB),
    keyA: await createApiKey(database.owner, tenantA, { scopes: ["read", "write"] }),
    async stop() {
      await standin.stop();
      await database.stop();
    },
  };
}

export interface UploadGateHarness extends DocumentsHarness {
  clamd: FakeClamd;
  /** The bucket reached with the service key, not through the api: what was, or was not, stored. */
  direct: ObjectStorage;
  /** The api env with virus scanning on, against `clamd`. */
  scanEnv: Record<string, unknown>;
  /** A patient of tenant A to upload for. */
  patientId: string;
}

/**
 * The documents harness with a small upload limit (so over-limit cases stay cheap), a fake
 * clamd to turn scanning on with, and a patient: what the upload-gate tests start from.
 */
export async function startUploadGateHarness(
  maxUploadBytes: number,
  standinOptions: Parameters<typeof startTestStorageStandin>[0] = {},
): Promise<UploadGateHarness> {
  const h = await startDocumentsHarness({ MAX_UPLOAD_BYTES: String(maxUploadBytes) }, standinOptions);
  let clamd: FakeClamd | undefined;
  try {
    clamd = await startFakeClamd();
    const started = clamd;
    return {
      ...h,
      clamd,
      direct: createSupabaseObjectStorage({
        url: h.standin.url,
        serviceRoleKey: h.standin.serviceRoleKey,
        bucket: h.standin.bucket,
      }),
      scanEnv: { ...h.env, CLAMD_HOST: clamd.host, CLAMD_PORT: String(clamd.port) },
      patientId: await insertPatient(h.database.owner, h.tenantA),
      async stop() {
        await started.stop();
        await h.stop();
      },
    };
  } catch (error) {
    await clamd?.stop();
    await h.stop();
    throw error;
  }
}

export { STORAGE_INTERNAL_ROUTES };

let patientCounter = 0;

/** A patient row inserted directly (the patients API is another module's). */
export async function insertPatient(owner: Sql, tenantId: string): Promise<string> {
  patientCounter += 1;
  const [row] = await owner<{ id: string }[]>`
    insert into medchr.patients (tenant_id, given_name, family_name, mrn)
    values (${tenantId}, 'Test', ${`Patient${patientCounter}`}, ${`MRN-DOC-${Date.now()}-${patientCounter}`})
    returning id`;
  return row!.id;
}

/** supabase-js as a browser or partner uses it: no service key, just the signed URL's token. */
export function supabaseClientFor(standin: TestStorageStandin) {
  return createClient(standin.url, "anon-key-not-used-for-signed-uploads", {
    auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
    // Node 20 has no global WebSocket; storage never opens one, but the client insists on a transport.
    realtime: { transport: WebSocket as never },
  });
}

export interface Call {
  method?: string;
  headers?: Record<string, string>;
  /** JSON-serialised unless a string, FormData or Uint8Array. */
  body?: unknown;
}

export function makeCaller(app: DocumentsTestApp, env: () => Record<string, unknown>) {
  let ip = 0;
  return (path: string, call: Call = {}) => {
    ip += 1;
    const headers: Record<string, string> = {
      "CF-Connecting-IP": `198.51.${(ip >> 8) & 255}.${ip & 255}`,
      ...call.headers,
    };
    let body: BodyInit | undefined;
    if (call.body instanceof FormData) {
      body = call.body;
      delete headers["Content-Type"];
    } else if (typeof call.body === "string" || call.body instanceof Uint8Array) {
      body = call.body as BodyInit;
    } else if (call.body !== undefined) {
      body = JSON.stringify(call.body);
      headers["Content-Type"] ??= "application/json";
    }
    return app.request(path, { method: call.method ?? "GET", headers, ...(body ? { body } : {}) }, env());
  };
}

export interface AuditRow {
  action: string;
  outcome: string;
  actor_type: string;
  actor_id: string | null;
  resource_id: string | null;
  details: Record<string, unknown>;
}

export async function auditRows(
  owner: Sql,
  tenantId: string,
  filter: { action?: string; resourceId?: string } = {},
): Promise<AuditRow[]> {
  return owner<AuditRow[]>`
    select action, outcome, actor_type, actor_id, resource_id, details
    from medchr.audit_events where tenant_id = ${tenantId}
      ${filter.action ? owner`and action = ${filter.action}` : owner``}
      ${filter.resourceId ? owner`and resource_id = ${filter.resourceId}` : owner``}
    order by seq`;
}

// biome-ignore lint/suspicious/noExplicitAny: response bodies are checked field by field
export type Body = Record<string, any>;

export const json = async (res: Response) => (await res.json()) as Body;
export const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");
export const ascii = (s: string) => new TextEncoder().encode(s);

/** Small valid files of each allowed type, and the hostile ones the gate must refuse. */
export const SAMPLES = {
  pdf: (extra = 2000) =>
    ascii(`%PDF-1.7\n%âãÏÓ\n1 0 obj\n<< /Type /Catalog >>\nendobj\n${"x".repeat(extra)}\n%%EOF\n`),
  png: () =>
    new Uint8Array([
      0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 0, 0, 0, 1, 0, 0,
      0, 1, 8, 6, 0, 0, 0, 0x1f, 0x15, 0xc4, 0x89,
      // IEND: the file ends where a PNG ends (the upload gate refuses trailing data).
      0, 0, 0, 0, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
    ]),
  jpeg: () => new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0, 1, 0xff, 0xd9]),
  text: () => ascii("Patient reports mild headache.\nBP 120/80, HR 72.\n"),
  html: () => ascii("<!DOCTYPE html><html><body><script>alert(1)</script></body></html>\n"),
  svg: () => ascii('<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><circle r="4"/></svg>\n'),
};
