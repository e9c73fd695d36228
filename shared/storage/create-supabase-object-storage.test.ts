import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  startTestStorageStandin,
  type TestStorageStandin,
} from "../../scripts/local/supabase-storage/testing";
import { closedPort } from "../../test/helpers/clamd";
import { createSupabaseObjectStorage } from "./create-supabase-object-storage";
import type { ObjectStorage } from "./object-storage";
import {
  CONTRACT_PATIENT,
  CONTRACT_TENANT,
  describeObjectStorageContract,
  uploadThroughSignedUrl,
} from "./object-storage.contract";
import { buildDocumentStoragePath } from "./storage-path";

let standin: TestStorageStandin;
let storage: ObjectStorage;
let unreachableUrl: string;
const requests: Array<{ url: string; headers: Headers }> = [];

beforeAll(async () => {
  standin = await startTestStorageStandin();
  unreachableUrl = `http://127.0.0.1:${await closedPort()}`;
  storage = createSupabaseObjectStorage({
    url: standin.url,
    serviceRoleKey: standin.serviceRoleKey,
    bucket: standin.bucket,
    fetch: (input, init) => {
      requests.push({ url: String(input), headers: new Headers(init?.headers) });
      return fetch(input, init);
    },
  });
});

afterAll(async () => {
  await standin.stop();
});

describeObjectStorageContract("Supabase (supabase-js against the stand-in)", () => ({
  storage,
  unavailable: createSupabaseObjectStorage({
    url: unreachableUrl,
    serviceRoleKey: standin.serviceRoleKey,
    bucket: standin.bucket,
  }),
}));

describe("createSupabaseObjectStorage specifics", () => {
  const path = () => buildDocumentStoragePath(CONTRACT_TENANT, CONTRACT_PATIENT);

  it("reports the lifetime the service really grants a signed upload (2 h), not the one asked for", async () => {
    const signed = await storage.createSignedUploadUrl(path(), { expiresInSeconds: 600 });
    if (!signed.ok) throw new Error(signed.error.code);
    const lifetime = signed.value.expiresAt.getTime() - Date.now();
    expect(lifetime).toBeGreaterThan(2 * 3600_000 - 60_000);
    expect(lifetime).toBeLessThanOrEqual(2 * 3600_000);
    expect(signed.value.url).toContain(`/storage/v1/object/upload/sign/${standin.bucket}/`);
  });

  it("sniffs with a Range request instead of downloading the whole object", async () => {
    const stored = await uploadThroughSignedUrl(storage, new Uint8Array(100_000));
    requests.length = 0;
    const head = await storage.readObjectHead(stored, 8);
    expect(head.ok && head.value.length).toBe(8);
    expect(requests).toHaveLength(1);
    expect(requests[0]!.headers.get("range")).toBe("bytes=0-7");
    // The Range header belonged to that call only.
    requests.length = 0;
    await storage.readObject(stored);
    expect(requests[0]!.headers.get("range")).toBeNull();
  });

  it("refuses unsafe paths before sending anything", async () => {
    requests.length = 0;
    await storage.statObject("../x");
    await storage.removeObjects(["a/../b"]);
    expect(requests).toHaveLength(0);
  });

  it("is unavailable with a wrong service key", async () => {
    const wrong = createSupabaseObjectStorage({
      url: standin.url,
      serviceRoleKey: "not-the-service-role-key-at-all",
      bucket: standin.bucket,
    });
    expect(await wrong.statObject(path())).toMatchObject({ ok: false, error: { code: "unavailable" } });
    expect(await wrong.createSignedUploadUrl(path())).toMatchObject({
      ok: false,
      error: { code: "unavailable" },
    });
  });

  it("is unavailable when the bucket does not exist (a deployment fault, not a missing object)", async () => {
    const wrong = createSupabaseObjectStorage({
      url: standin.url,
      serviceRoleKey: standin.serviceRoleKey,
      bucket: "no-such-bucket",
    });
    expect(await wrong.statObject(path())).toMatchObject({ ok: false, error: { code: "unavailable" } });
    expect(await wrong.readObject(path())).toMatchObject({ ok: false, error: { code: "unavailable" } });
  });

  describe("when the service hangs", () => {
    let hung: Server;

    beforeAll(async () => {
      hung = createServer(() => {
        // accepts requests and never answers
      });
      await new Promise<void>((resolve) => hung.listen(0, "127.0.0.1", () => resolve()));
    });

    afterAll(async () => {
      hung.closeAllConnections();
      await new Promise<void>((resolve) => hung.close(() => resolve()));
    });

    it("gives up after its deadline", async () => {
      const slow = createSupabaseObjectStorage({
        url: `http://127.0.0.1:${(hung.address() as AddressInfo).port}`,
        serviceRoleKey: standin.serviceRoleKey,
        bucket: standin.bucket,
        requestTimeoutMs: 200,
      });
      const started = Date.now();
      expect(await slow.statObject(path())).toMatchObject({ ok: false, error: { code: "unavailable" } });
      expect(Date.now() - started).toBeLessThan(5000);
    });
  });
});
