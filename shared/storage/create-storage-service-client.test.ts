/**
 * The service client against the real storage function app (in Node, app.fetch as the
 * service binding) in front of the Supabase Storage stand-in: the whole path api -> storage
 * -> Supabase, minus workerd.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it, onTestFinished, vi } from "vitest";
import { buildStorageApp } from "../../functions/storage/app";
import {
  startTestStorageStandin,
  type TestStorageStandin,
} from "../../scripts/local/supabase-storage/testing";
import { createStorageServiceClient, type StorageFetcher } from "./create-storage-service-client";
import type { ObjectStorage } from "./object-storage";
import { CONTRACT_PATIENT, CONTRACT_TENANT, describeObjectStorageContract } from "./object-storage.contract";
import { buildDocumentStoragePath } from "./storage-path";

const storageApp = buildStorageApp();
const internalToken = randomBytes(32).toString("base64url");
let standin: TestStorageStandin;
let env: Record<string, unknown>;
let fetcher: StorageFetcher;
let client: ObjectStorage;

beforeAll(async () => {
  standin = await startTestStorageStandin();
  env = {
    APP_ENV: "test",
    HIPAA_MODE: "false",
    SUPABASE_URL: standin.url,
    SUPABASE_SERVICE_ROLE_KEY: standin.serviceRoleKey,
    SUPABASE_STORAGE_BUCKET: standin.bucket,
    STORAGE_INTERNAL_TOKEN: internalToken,
  };
  fetcher = { fetch: (request) => Promise.resolve(storageApp.fetch(request, env)) };
  client = createStorageServiceClient({ fetcher, internalToken });
});

afterAll(async () => {
  await standin.stop();
});

describeObjectStorageContract("storage service client (through the storage function)", () => ({
  storage: client,
  // The storage function is up but refuses our credentials: nothing a caller can fix.
  unavailable: createStorageServiceClient({ fetcher, internalToken: `${internalToken}x` }),
}));

describe("createStorageServiceClient specifics", () => {
  const path = () => buildDocumentStoragePath(CONTRACT_TENANT, CONTRACT_PATIENT);

  it("sends the internal token and a JSON body to the internal route", async () => {
    const seen: Array<{ url: string; method: string; headers: Headers }> = [];
    const spying = createStorageServiceClient({
      fetcher: {
        fetch: (request) => {
          seen.push({ url: request.url, method: request.method, headers: new Headers(request.headers) });
          return fetcher.fetch(request);
        },
      },
      internalToken,
    });
    expect(await spying.statObject(path())).toEqual({ ok: true, value: null });
    expect(seen).toHaveLength(1);
    expect(new URL(seen[0]!.url).pathname).toBe("/storage/internal/stat");
    expect(seen[0]!.method).toBe("POST");
    expect(seen[0]!.headers.get("x-storage-internal-token")).toBe(internalToken);
    expect(seen[0]!.headers.get("content-type")).toBe("application/json");
  });

  it("is unavailable when the binding throws", async () => {
    const broken = createStorageServiceClient({
      fetcher: { fetch: () => Promise.reject(new Error("binding gone")) },
      internalToken,
    });
    expect(await broken.statObject(path())).toMatchObject({ ok: false, error: { code: "unavailable" } });
  });

  it("is unavailable when the storage function answers something unexpected", async () => {
    const odd = createStorageServiceClient({
      fetcher: { fetch: async () => Response.json({ url: "javascript:alert(1)", token: "t", path: "p" }) },
      internalToken,
    });
    expect(await odd.createSignedUploadUrl(path())).toMatchObject({
      ok: false,
      error: { code: "unavailable" },
    });
    const html = createStorageServiceClient({
      fetcher: { fetch: async () => new Response("<html>", { status: 502 }) },
      internalToken,
    });
    expect(await html.statObject(path())).toMatchObject({ ok: false, error: { code: "unavailable" } });
  });

  it("caps a head read at the length asked for, whatever the server sends", async () => {
    const generous = createStorageServiceClient({
      fetcher: { fetch: async () => new Response(new Uint8Array(1000)) },
      internalToken,
    });
    const head = await generous.readObjectHead(path(), 16);
    expect(head.ok && head.value.length).toBe(16);
  });

  it("is unavailable when the storage function is not configured", async () => {
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    onTestFinished(() => errors.mockRestore());
    const unconfigured = createStorageServiceClient({
      fetcher: {
        fetch: (request) => Promise.resolve(storageApp.fetch(request, { ...env, SUPABASE_URL: undefined })),
      },
      internalToken,
    });
    expect(await unconfigured.statObject(path())).toMatchObject({
      ok: false,
      error: { code: "unavailable" },
    });
  });
});
