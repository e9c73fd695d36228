/**
 * The behaviour every ObjectStorage implementation must show, as vitest tests. A test file
 * starts its backend (the Supabase Storage stand-in, and for the service client the storage
 * function in front of it) in beforeAll and calls describeObjectStorageContract; the same
 * cases then run against supabase-js directly and through the storage function.
 */
import { describe, expect, it } from "vitest";
import type { ObjectStorage } from "./object-storage";
import { buildDocumentStoragePath } from "./storage-path";

export interface ObjectStorageHarness {
  storage: ObjectStorage;
  /** An implementation whose backend is unreachable or refuses our credentials. */
  unavailable: ObjectStorage;
}

export const CONTRACT_TENANT = "0b7e4c52-3f7e-4b0a-9d55-2f3c1e0a9b11";
export const CONTRACT_PATIENT = "5d1c2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f";
const encode = (s: string) => new TextEncoder().encode(s);

/** Upload as a browser or partner does: a plain PUT of the bytes to the signed URL. */
export async function uploadThroughSignedUrl(
  storage: ObjectStorage,
  body: Uint8Array,
  contentType = "application/pdf",
): Promise<string> {
  const path = buildDocumentStoragePath(CONTRACT_TENANT, CONTRACT_PATIENT);
  const signed = await storage.createSignedUploadUrl(path);
  if (!signed.ok) throw new Error(`signing failed: ${signed.error.code}`);
  const res = await fetch(signed.value.url, {
    method: "PUT",
    headers: { "content-type": contentType },
    body: new Uint8Array(body),
  });
  if (res.status !== 200) throw new Error(`upload failed: ${res.status}`);
  return path;
}

export function describeObjectStorageContract(name: string, harness: () => ObjectStorageHarness): void {
  describe(`ObjectStorage contract: ${name}`, () => {
    it("signs an upload a client can use, then stats, sniffs, reads and streams it", async () => {
      const { storage } = harness();
      const body = encode(`%PDF-1.7\n${"x".repeat(5000)}`);
      const path = await uploadThroughSignedUrl(storage, body);
      expect(await storage.statObject(path)).toEqual({
        ok: true,
        value: { size: body.length, contentType: "application/pdf" },
      });
      expect(await storage.readObjectHead(path, 8)).toEqual({ ok: true, value: body.subarray(0, 8) });
      const whole = await storage.readObject(path);
      expect(whole.ok && whole.value).toEqual(body);
      const stream = await storage.openObjectStream(path);
      if (!stream.ok) throw new Error(stream.error.code);
      expect(stream.value).toMatchObject({ size: body.length, contentType: "application/pdf" });
      expect(new Uint8Array(await new Response(stream.value.body).arrayBuffer())).toEqual(body);
    });

    it("returns the signed upload's path, token and a future expiry", async () => {
      const { storage } = harness();
      const path = buildDocumentStoragePath(CONTRACT_TENANT, CONTRACT_PATIENT);
      const signed = await storage.createSignedUploadUrl(path);
      if (!signed.ok) throw new Error(signed.error.code);
      expect(signed.value.path).toBe(path);
      expect(signed.value.url).toContain(signed.value.token);
      expect(signed.value.expiresAt.getTime()).toBeGreaterThan(Date.now());
    });

    it("reads a head longer than the object, and an empty object's head", async () => {
      const { storage } = harness();
      const short = await uploadThroughSignedUrl(storage, encode("%PDF"));
      expect(await storage.readObjectHead(short, 4096)).toEqual({ ok: true, value: encode("%PDF") });
      const empty = await uploadThroughSignedUrl(storage, new Uint8Array(0));
      expect(await storage.readObjectHead(empty, 16)).toEqual({ ok: true, value: new Uint8Array(0) });
      expect(await storage.statObject(empty)).toMatchObject({ ok: true, value: { size: 0 } });
    });

    it("refuses to buffer an object over maxBytes, and reads one exactly at it", async () => {
      const { storage } = harness();
      const path = await uploadThroughSignedUrl(storage, new Uint8Array(1000));
      expect(await storage.readObject(path, { maxBytes: 999 })).toMatchObject({
        ok: false,
        error: { code: "invalid_input" },
      });
      const exact = await storage.readObject(path, { maxBytes: 1000 });
      expect(exact.ok && exact.value.length).toBe(1000);
    });

    it("signs a short-lived download link served as an attachment", async () => {
      const { storage } = harness();
      const path = await uploadThroughSignedUrl(storage, encode("%PDF-1.4 x"));
      const signed = await storage.createSignedDownloadUrl(path, {
        expiresInSeconds: 300,
        downloadName: "document-42.pdf",
      });
      if (!signed.ok) throw new Error(signed.error.code);
      expect(signed.value.expiresAt.getTime()).toBeGreaterThan(Date.now() + 290_000);
      expect(signed.value.expiresAt.getTime()).toBeLessThanOrEqual(Date.now() + 300_000);
      const res = await fetch(signed.value.url);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-disposition")).toMatch(/^attachment; filename="document-42.pdf"/);
      expect(await res.text()).toBe("%PDF-1.4 x");
    });

    it("refuses download names and lifetimes outside the limits", async () => {
      const { storage } = harness();
      const path = await uploadThroughSignedUrl(storage, encode("x"));
      for (const downloadName of [
        'a"b.pdf',
        "../x.pdf",
        "",
        "Zoë.pdf",
        "a/b.pdf",
        `${"a".repeat(101)}.pdf`,
      ]) {
        const res = await storage.createSignedDownloadUrl(path, { expiresInSeconds: 60, downloadName });
        expect(res).toMatchObject({ ok: false, error: { code: "invalid_input" } });
      }
      for (const expiresInSeconds of [0, 5, 901, 3600, 1.5]) {
        const res = await storage.createSignedDownloadUrl(path, { expiresInSeconds, downloadName: "d.pdf" });
        expect(res).toMatchObject({ ok: false, error: { code: "invalid_input" } });
      }
    });

    it("removes objects idempotently", async () => {
      const { storage } = harness();
      const a = await uploadThroughSignedUrl(storage, encode("a"));
      const b = await uploadThroughSignedUrl(storage, encode("b"));
      expect(await storage.removeObjects([a, b])).toEqual({ ok: true, value: { removed: 2 } });
      expect(await storage.statObject(a)).toEqual({ ok: true, value: null });
      expect(await storage.readObject(b)).toMatchObject({ ok: false, error: { code: "not_found" } });
      expect(await storage.removeObjects([a])).toEqual({ ok: true, value: { removed: 0 } });
      expect(await storage.removeObjects([])).toEqual({ ok: true, value: { removed: 0 } });
    });

    it("reports a missing object as not_found (and stat as null)", async () => {
      const { storage } = harness();
      const path = buildDocumentStoragePath(CONTRACT_TENANT, CONTRACT_PATIENT);
      expect(await storage.statObject(path)).toEqual({ ok: true, value: null });
      for (const result of [
        await storage.readObject(path),
        await storage.readObjectHead(path, 16),
        await storage.openObjectStream(path),
        await storage.createSignedDownloadUrl(path, { expiresInSeconds: 60, downloadName: "d.pdf" }),
      ]) {
        expect(result).toMatchObject({ ok: false, error: { code: "not_found" } });
        if (!result.ok) expect(result.error.message).not.toContain(CONTRACT_TENANT);
      }
    });

    it("refuses a second upload to an issued path", async () => {
      const { storage } = harness();
      const path = await uploadThroughSignedUrl(storage, encode("first"));
      expect(await storage.createSignedUploadUrl(path)).toMatchObject({
        ok: false,
        error: { code: "conflict" },
      });
    });

    it("refuses unsafe paths and out-of-range heads", async () => {
      const { storage } = harness();
      for (const path of ["../x", "a/../b", "/abs", "a\\b", "a/b\u0000", "", "a//b", "a b"]) {
        expect(await storage.statObject(path)).toMatchObject({ ok: false, error: { code: "invalid_input" } });
        expect(await storage.createSignedUploadUrl(path)).toMatchObject({
          ok: false,
          error: { code: "invalid_input" },
        });
        expect(await storage.readObject(path)).toMatchObject({ ok: false, error: { code: "invalid_input" } });
        expect(await storage.removeObjects([path])).toMatchObject({
          ok: false,
          error: { code: "invalid_input" },
        });
      }
      expect(await storage.readObjectHead("a/b", 0)).toMatchObject({
        ok: false,
        error: { code: "invalid_input" },
      });
      expect(await storage.readObjectHead("a/b", 1_000_000)).toMatchObject({ ok: false });
      const tooMany = Array.from({ length: 101 }, () =>
        buildDocumentStoragePath(CONTRACT_TENANT, CONTRACT_PATIENT),
      );
      expect(await storage.removeObjects(tooMany)).toMatchObject({
        ok: false,
        error: { code: "invalid_input" },
      });
    });

    it("is unavailable (never a silent success) when its backend is", async () => {
      const { unavailable } = harness();
      const path = buildDocumentStoragePath(CONTRACT_TENANT, CONTRACT_PATIENT);
      const results = [
        await unavailable.createSignedUploadUrl(path),
        await unavailable.statObject(path),
        await unavailable.readObjectHead(path, 16),
        await unavailable.readObject(path),
        await unavailable.openObjectStream(path),
        await unavailable.createSignedDownloadUrl(path, { expiresInSeconds: 60, downloadName: "d.pdf" }),
        await unavailable.removeObjects([path]),
      ];
      for (const result of results)
        expect(result).toMatchObject({ ok: false, error: { code: "unavailable" } });
    });
  });
}
