/**
 * The stand-in driven by the production client (@supabase/supabase-js), plus raw HTTP where
 * a client would normalise away what is being tested (traversal in the request path).
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { createClient, type SupabaseClient } from "@supabase/supabase-js";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { type SupabaseStorageStandin, startSupabaseStorageStandin } from "./server";

const BUCKET = "medchr-documents";
const encode = (s: string) => new TextEncoder().encode(s);

let root: string;
let dataDir: string;
let serviceRoleKey: string;
let standin: SupabaseStorageStandin;
let client: SupabaseClient;
let clockOffsetMs = 0;
const clock = () => Date.now() + clockOffsetMs;

function clientFor(url: string, key: string): SupabaseClient {
  return createClient(url, key, {
    auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
    // Node 20 has no global WebSocket; storage never opens one, but the client insists on a transport.
    realtime: { transport: WebSocket as never },
  });
}

let counter = 0;
const freshKey = (prefix = "t") => `${prefix}/${process.pid}-${++counter}/${randomBytes(8).toString("hex")}`;

async function upload(key: string, body: Uint8Array | Blob, contentType = "application/pdf") {
  const signed = await client.storage.from(BUCKET).createSignedUploadUrl(key);
  if (signed.error) throw signed.error;
  const done = await client.storage
    .from(BUCKET)
    .uploadToSignedUrl(key, signed.data.token, body, { contentType });
  return { signed: signed.data, done };
}

/** A request exactly as written: node:http does not resolve "..", unlike fetch and URL. */
function rawRequest(
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string,
): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  const { port } = new URL(standin.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: "127.0.0.1", port: Number(port), method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        resolve({
          status: res.statusCode ?? 0,
          body: Buffer.concat(chunks).toString("utf8"),
          headers: res.headers,
        }),
      );
    });
    req.on("error", reject);
    req.end(body);
  });
}

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await listFiles(path)));
    else out.push(path);
  }
  return out;
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "medchr-storage-standin-"));
  dataDir = join(root, "data");
  serviceRoleKey = randomBytes(24).toString("base64url");
  standin = await startSupabaseStorageStandin({ dataDir, serviceRoleKey, buckets: [BUCKET], clock });
  client = clientFor(standin.url, serviceRoleKey);
});

afterAll(async () => {
  await standin.stop();
  await rm(root, { recursive: true, force: true });
});

afterEach(() => {
  clockOffsetMs = 0;
});

describe("Supabase Storage stand-in, through supabase-js", () => {
  it("takes a signed upload and serves it back (info, exists, download)", async () => {
    const key = freshKey();
    const body = encode("%PDF-1.7\nsynthetic test document\n");
    const { signed, done } = await upload(key, body);
    expect(signed.signedUrl.startsWith(`${standin.url}/storage/v1/object/upload/sign/${BUCKET}/`)).toBe(true);
    expect(done.error).toBeNull();
    expect(done.data).toMatchObject({ path: key, fullPath: `${BUCKET}/${key}` });

    const info = await client.storage.from(BUCKET).info(key);
    expect(info.error).toBeNull();
    expect(info.data).toMatchObject({ name: key, size: body.length, contentType: "application/pdf" });

    expect((await client.storage.from(BUCKET).exists(key)).data).toBe(true);
    const download = await client.storage.from(BUCKET).download(key);
    expect(new Uint8Array(await download.data!.arrayBuffer())).toEqual(body);
  });

  it("takes a Blob upload (multipart, as a browser sends it) with the Blob's type", async () => {
    const key = freshKey();
    const { done } = await upload(key, new Blob([encode("hello")], { type: "text/plain" }));
    expect(done.error).toBeNull();
    const info = await client.storage.from(BUCKET).info(key);
    expect(info.data).toMatchObject({ size: 5, contentType: "text/plain" });
  });

  it("refuses a replayed upload token, even after the object was removed", async () => {
    const key = freshKey();
    const { signed } = await upload(key, encode("first"));
    const replay = await client.storage.from(BUCKET).uploadToSignedUrl(key, signed.token, encode("second"));
    expect(replay.error?.message).toMatch(/already been used/);
    await client.storage.from(BUCKET).remove([key]);
    const again = await client.storage.from(BUCKET).uploadToSignedUrl(key, signed.token, encode("third"));
    expect(again.error?.message).toMatch(/already been used/);
    expect((await client.storage.from(BUCKET).exists(key)).data).toBe(false);
  });

  it("refuses an expired upload token (2 h, as on the managed service)", async () => {
    const key = freshKey();
    const signed = await client.storage.from(BUCKET).createSignedUploadUrl(key);
    clockOffsetMs = 2 * 60 * 60 * 1000 + 5_000;
    const late = await client.storage.from(BUCKET).uploadToSignedUrl(key, signed.data!.token, encode("late"));
    expect(late.error?.message).toMatch(/exp/);
    clockOffsetMs = 0;
    // A refused upload does not spend the token: it still works within its lifetime.
    const inTime = await client.storage.from(BUCKET).uploadToSignedUrl(key, signed.data!.token, encode("ok"));
    expect(inTime.error).toBeNull();
  });

  it("binds an upload token to its object and bucket", async () => {
    const key = freshKey();
    const signed = await client.storage.from(BUCKET).createSignedUploadUrl(key);
    const other = await client.storage
      .from(BUCKET)
      .uploadToSignedUrl(freshKey(), signed.data!.token, encode("x"));
    expect(other.error?.message).toMatch(/does not match/);
    const wrongBucket = await client.storage
      .from("other-bucket")
      .uploadToSignedUrl(key, signed.data!.token, encode("x"));
    expect(wrongBucket.error).not.toBeNull();
    const forged = await client.storage
      .from(BUCKET)
      .uploadToSignedUrl(key, `${signed.data!.token}x`, encode("x"));
    expect(forged.error?.message).toMatch(/signature/);
    expect((await client.storage.from(BUCKET).exists(key)).data).toBe(false);
  });

  it("refuses a download token as an upload token", async () => {
    const key = freshKey();
    await upload(key, encode("original"));
    const signed = await client.storage.from(BUCKET).createSignedUrl(key, 60);
    const token = new URL(signed.data!.signedUrl).searchParams.get("token")!;
    const res = await fetch(`${standin.url}/storage/v1/object/upload/sign/${BUCKET}/${key}?token=${token}`, {
      method: "PUT",
      headers: { "content-type": "application/pdf", "x-upsert": "true" },
      body: "overwritten",
    });
    expect(res.status).toBe(400);
    const download = await client.storage.from(BUCKET).download(key);
    expect(await download.data!.text()).toBe("original");
  });

  it("serves a signed download URL as an attachment, until it expires", async () => {
    const key = freshKey();
    await upload(key, encode("%PDF-1.4 body"));
    const signed = await client.storage.from(BUCKET).createSignedUrl(key, 60, { download: "document-1.pdf" });
    expect(signed.error).toBeNull();
    const res = await fetch(signed.data!.signedUrl);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-disposition")).toBe(
      "attachment; filename=\"document-1.pdf\"; filename*=UTF-8''document-1.pdf",
    );
    expect(res.headers.get("content-type")).toBe("application/pdf");
    expect(await res.text()).toBe("%PDF-1.4 body");

    const inline = await fetch((await client.storage.from(BUCKET).createSignedUrl(key, 60)).data!.signedUrl);
    expect(inline.headers.get("content-disposition")).toBeNull();

    clockOffsetMs = 61_000;
    const expired = await fetch(signed.data!.signedUrl);
    expect(expired.status).toBe(400);
    expect(await expired.json()).toMatchObject({ statusCode: "400", error: "InvalidJWT" });
  });

  it("refuses a signed download URL for another object or with a tampered token", async () => {
    const key = freshKey();
    const otherKey = freshKey();
    await upload(key, encode("a"));
    await upload(otherKey, encode("b"));
    const signed = await client.storage.from(BUCKET).createSignedUrl(key, 60);
    const url = new URL(signed.data!.signedUrl);
    const moved = await fetch(`${standin.url}/storage/v1/object/sign/${BUCKET}/${otherKey}${url.search}`);
    expect(moved.status).toBe(400);
    url.searchParams.set("token", `${url.searchParams.get("token")!.slice(0, -2)}AA`);
    expect((await fetch(url)).status).toBe(400);
  });

  it("refuses to sign a download for a missing object", async () => {
    const signed = await client.storage.from(BUCKET).createSignedUrl(freshKey(), 60);
    expect(signed.error?.message).toBe("Object not found");
  });

  it("answers byte ranges, and 416 for an empty object", async () => {
    const key = freshKey();
    await upload(key, encode("0123456789"));
    const auth = { authorization: `Bearer ${serviceRoleKey}`, apikey: serviceRoleKey };
    const url = `${standin.url}/storage/v1/object/authenticated/${BUCKET}/${key}`;
    const part = await fetch(url, { headers: { ...auth, range: "bytes=0-3" } });
    expect(part.status).toBe(206);
    expect(part.headers.get("content-range")).toBe("bytes 0-3/10");
    expect(await part.text()).toBe("0123");
    const beyond = await fetch(url, { headers: { ...auth, range: "bytes=0-99" } });
    expect(await beyond.text()).toBe("0123456789");
    const empty = freshKey();
    await upload(empty, new Uint8Array(0));
    const none = await fetch(`${standin.url}/storage/v1/object/authenticated/${BUCKET}/${empty}`, {
      headers: { ...auth, range: "bytes=0-15" },
    });
    expect(none.status).toBe(416);
  });

  it("removes objects: gone afterwards, and removing again is not an error", async () => {
    const key = freshKey();
    await upload(key, encode("to be removed"));
    const removed = await client.storage.from(BUCKET).remove([key, freshKey()]);
    expect(removed.error).toBeNull();
    expect(removed.data!.map((o) => o.name)).toEqual([key]);
    expect((await client.storage.from(BUCKET).exists(key)).data).toBe(false);
    expect((await client.storage.from(BUCKET).info(key)).error?.message).toBe("Object not found");
    expect((await client.storage.from(BUCKET).download(key)).error).not.toBeNull();
    expect((await client.storage.from(BUCKET).remove([key])).data).toEqual([]);
  });

  it("refuses an unknown bucket", async () => {
    const other = client.storage.from("no-such-bucket");
    expect((await other.createSignedUploadUrl("a/b")).error?.message).toBe("Bucket not found");
    expect((await other.info("a/b")).error?.message).toBe("Bucket not found");
    expect((await other.remove(["a/b"])).error?.message).toBe("Bucket not found");
  });

  it("refuses privileged calls without the service key", async () => {
    const key = freshKey();
    await upload(key, encode("secret"));
    const wrong = clientFor(standin.url, randomBytes(24).toString("base64url")).storage.from(BUCKET);
    expect((await wrong.createSignedUploadUrl(freshKey())).error?.status).toBe(401);
    expect((await wrong.createSignedUrl(key, 60)).error?.status).toBe(401);
    expect((await wrong.info(key)).error?.status).toBe(401);
    expect((await wrong.download(key)).error).not.toBeNull();
    expect((await wrong.remove([key])).error?.status).toBe(401);
    expect((await client.storage.from(BUCKET).exists(key)).data).toBe(true);

    const url = `${standin.url}/storage/v1/object/info/${BUCKET}/${key}`;
    expect((await fetch(url)).status).toBe(401);
    // The right bearer with a wrong apikey is still refused: every credential sent must match.
    const mixed = await fetch(url, {
      headers: { authorization: `Bearer ${serviceRoleKey}`, apikey: "wrong" },
    });
    expect(mixed.status).toBe(401);
    expect(await mixed.json()).toEqual({
      statusCode: "401",
      code: "Unauthorized",
      error: "Unauthorized",
      message: "Invalid API key",
    });
  });

  it("answers a missing object in storage-api's error shape, without the key", async () => {
    const key = freshKey("secret-tenant");
    const res = await fetch(`${standin.url}/storage/v1/object/info/${BUCKET}/${key}`, {
      headers: { authorization: `Bearer ${serviceRoleKey}` },
    });
    expect(res.status).toBe(400);
    const text = await res.text();
    expect(JSON.parse(text)).toEqual({
      statusCode: "404",
      code: "NoSuchKey",
      error: "not_found",
      message: "Object not found",
    });
    expect(text).not.toContain("secret-tenant");
  });

  it("refuses an existing key unless the upload was signed with upsert", async () => {
    const key = freshKey();
    await upload(key, encode("v1"));
    expect((await client.storage.from(BUCKET).createSignedUploadUrl(key)).error?.message).toBe(
      "The resource already exists",
    );
    const upsert = await client.storage.from(BUCKET).createSignedUploadUrl(key, { upsert: true });
    const replaced = await client.storage
      .from(BUCKET)
      .uploadToSignedUrl(key, upsert.data!.token, encode("v2"));
    expect(replaced.error).toBeNull();
    expect(await (await client.storage.from(BUCKET).download(key)).data!.text()).toBe("v2");
  });

  it("creates buckets, refuses duplicates and reserved names, and enforces their limits", async () => {
    const created = await client.storage.createBucket("limited-bucket", {
      public: false,
      fileSizeLimit: 16,
      allowedMimeTypes: ["application/pdf", "image/*"],
    });
    expect(created.error).toBeNull();
    expect((await client.storage.createBucket("limited-bucket")).error?.message).toBe(
      "The resource already exists",
    );
    expect((await client.storage.createBucket("sign")).error).not.toBeNull();
    expect((await client.storage.getBucket("limited-bucket")).data).toMatchObject({ file_size_limit: 16 });

    const limited = client.storage.from("limited-bucket");
    const html = await limited.createSignedUploadUrl("a/page");
    const htmlUpload = await limited.uploadToSignedUrl("a/page", html.data!.token, encode("<html>"), {
      contentType: "text/html",
    });
    expect(htmlUpload.error?.message).toBe("The mime type is not supported");
    const big = await limited.createSignedUploadUrl("a/big");
    const bigUpload = await limited.uploadToSignedUrl("a/big", big.data!.token, new Uint8Array(17), {
      contentType: "image/png",
    });
    expect(bigUpload.error?.message).toBe("The object exceeded the maximum allowed size");
    // The refused upload did not spend the token.
    const retry = await limited.uploadToSignedUrl("a/big", big.data!.token, new Uint8Array(16), {
      contentType: "image/png",
    });
    expect(retry.error).toBeNull();
  });

  it("refuses an oversized streamed body that declares no length", async () => {
    const small = await startSupabaseStorageStandin({
      dataDir: join(root, "small"),
      serviceRoleKey,
      buckets: [BUCKET],
      maxObjectBytes: 1000,
    });
    try {
      const smallClient = clientFor(small.url, serviceRoleKey).storage.from(BUCKET);
      const key = freshKey();
      const signed = await smallClient.createSignedUploadUrl(key);
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          for (let i = 0; i < 100; i++) controller.enqueue(new Uint8Array(30_000));
          controller.close();
        },
      });
      const res = await smallClient.uploadToSignedUrl(key, signed.data!.token, body, {
        contentType: "application/pdf",
      });
      expect(res.error?.message).toBe("The object exceeded the maximum allowed size");
      expect((await smallClient.exists(key)).data).toBe(false);
      expect(await readdir(join(root, "small", "tmp"))).toEqual([]);
    } finally {
      await small.stop();
    }
  });

  it("honours a configured upload lifetime (tests shorten it)", async () => {
    let offset = 0;
    const short = await startSupabaseStorageStandin({
      dataDir: join(root, "short"),
      serviceRoleKey,
      buckets: [BUCKET],
      signedUploadExpiresInSeconds: 60,
      clock: () => Date.now() + offset,
    });
    try {
      const shortClient = clientFor(short.url, serviceRoleKey).storage.from(BUCKET);
      const key = freshKey();
      const signed = await shortClient.createSignedUploadUrl(key);
      offset = 61_000;
      const late = await shortClient.uploadToSignedUrl(key, signed.data!.token, encode("x"));
      expect(late.error?.message).toMatch(/exp/);
    } finally {
      await short.stop();
    }
  });

  it("answers CORS preflights for browser uploads", async () => {
    const res = await fetch(`${standin.url}/storage/v1/object/upload/sign/${BUCKET}/a/b?token=x`, {
      method: "OPTIONS",
      headers: {
        origin: "http://localhost:8787",
        "access-control-request-headers": "content-type, x-upsert",
      },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    expect(res.headers.get("access-control-allow-headers")).toBe("content-type, x-upsert");
  });

  it("lets a browser page read the answer of its raw PUT to a signed upload URL, success or refusal", async () => {
    // What the clinician UI sends: the bytes as the body, the declared type, its own Origin.
    const key = freshKey("browser");
    const signed = await client.storage.from(BUCKET).createSignedUploadUrl(key);
    const url = `${standin.url}/storage/v1/object/upload/sign/${BUCKET}/${key}?token=${signed.data!.token}`;
    const origin = "http://127.0.0.1:8787";
    const put = () =>
      fetch(url, {
        method: "PUT",
        headers: { origin, "content-type": "application/pdf" },
        body: encode("%PDF-1.4 x"),
      });
    const preflight = await fetch(url, {
      method: "OPTIONS",
      headers: {
        origin,
        "access-control-request-method": "PUT",
        "access-control-request-headers": "content-type",
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-methods")).toContain("PUT");
    expect(preflight.headers.get("access-control-allow-headers")).toBe("content-type");

    const first = await put();
    expect(first.status).toBe(200);
    expect(first.headers.get("access-control-allow-origin")).toBe("*");
    // The token works once: the refusal is readable too, so the page can say why.
    const second = await put();
    expect(second.status).toBeGreaterThanOrEqual(400);
    expect(second.headers.get("access-control-allow-origin")).toBe("*");
    expect(await second.json()).toHaveProperty("error");
  });
});

describe("Supabase Storage stand-in, path safety", () => {
  const auth = () => ({
    authorization: `Bearer ${serviceRoleKey}`,
    apikey: serviceRoleKey,
    "content-type": "application/json",
  });

  it.each([
    ["a dot-dot segment", `/storage/v1/object/upload/sign/${BUCKET}/a/../../../../escape`],
    ["an encoded dot-dot", `/storage/v1/object/upload/sign/${BUCKET}/a/%2e%2e/%2E%2E/escape`],
    ["an encoded slash and dot-dot", `/storage/v1/object/upload/sign/${BUCKET}/a%2F..%2F..%2Fescape`],
    ["a backslash", `/storage/v1/object/upload/sign/${BUCKET}/a%5C..%5Cescape`],
    ["a NUL byte", `/storage/v1/object/upload/sign/${BUCKET}/a/b%00.pdf`],
    ["an absolute path", `/storage/v1/object/upload/sign/${BUCKET}//etc/passwd`],
    ["an empty segment", `/storage/v1/object/upload/sign/${BUCKET}/a//b`],
    ["a dot segment", `/storage/v1/object/upload/sign/${BUCKET}/a/./b`],
    ["a bad percent escape", `/storage/v1/object/upload/sign/${BUCKET}/a/%zz`],
    ["a traversing bucket", "/storage/v1/object/upload/sign/../a/b"],
    ["an encoded traversing bucket", "/storage/v1/object/upload/sign/%2e%2e/a/b"],
  ])("refuses %s", async (_label, path) => {
    const res = await rawRequest("POST", path, auth(), "{}");
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body).code).toMatch(/InvalidKey|InvalidBucketName/);
  });

  it("keeps supabase-js paths inside the bucket, whatever URL parsing makes of them", async () => {
    expect((await client.storage.from(BUCKET).createSignedUploadUrl("a/\u0000b")).error).not.toBeNull();
    // fetch resolves "..", "." and (for http URLs) backslashes before sending: what arrives is
    // either refused or an ordinary key inside the bucket.
    for (const key of ["a/../../escape", "a\\..\\escape", "a/./b", "../../../etc/passwd"]) {
      const res = await client.storage.from(BUCKET).createSignedUploadUrl(key);
      if (res.error) continue;
      const path = new URL(res.data.signedUrl).pathname;
      expect(path.startsWith(`/storage/v1/object/upload/sign/${BUCKET}/`)).toBe(true);
      expect(path).not.toMatch(/\/\.\.?\//);
    }
  });

  it("never writes outside its data folder", async () => {
    for (const path of [
      `/storage/v1/object/upload/sign/${BUCKET}/..%2F..%2Foutside`,
      `/storage/v1/object/${BUCKET}/..%2F..%2Foutside`,
    ]) {
      await rawRequest("POST", path, auth(), "{}");
      await rawRequest("DELETE", path, auth(), "{}");
    }
    const everything = await listFiles(root);
    for (const file of everything) expect(relative(root, file).startsWith("..")).toBe(false);
    expect(
      everything.every((f) =>
        [dataDir, join(root, "small"), join(root, "short")].some((d) => f.startsWith(d)),
      ),
    ).toBe(true);
    expect(everything.some((f) => f.endsWith("outside"))).toBe(false);
  });

  it("stores objects under hashed names, never under the key", async () => {
    const key = freshKey("visible-name");
    await upload(key, encode("x"));
    const files = await listFiles(join(dataDir, "objects"));
    expect(files.some((f) => f.includes("visible-name"))).toBe(false);
  });

  it("keeps objects, signing secret and spent tokens across a restart", async () => {
    const restartDir = join(root, "restart");
    const first = await startSupabaseStorageStandin({
      dataDir: restartDir,
      serviceRoleKey,
      buckets: [BUCKET],
    });
    const firstClient = clientFor(first.url, serviceRoleKey).storage.from(BUCKET);
    const key = freshKey();
    const signed = await firstClient.createSignedUploadUrl(key);
    await firstClient.uploadToSignedUrl(key, signed.data!.token, encode("kept"), {
      contentType: "text/plain",
    });
    const download = await firstClient.createSignedUrl(key, 600);
    const path = new URL(download.data!.signedUrl);
    await first.stop();

    const second = await startSupabaseStorageStandin({
      dataDir: restartDir,
      serviceRoleKey,
      buckets: [BUCKET],
    });
    try {
      const secondClient = clientFor(second.url, serviceRoleKey).storage.from(BUCKET);
      expect(await (await secondClient.download(key)).data!.text()).toBe("kept");
      const res = await fetch(`${second.url}${path.pathname}${path.search}`);
      expect(await res.text()).toBe("kept");
      await secondClient.remove([key]);
      const replay = await secondClient.uploadToSignedUrl(key, signed.data!.token, encode("again"));
      expect(replay.error?.message).toMatch(/already been used/);
      expect((await stat(join(restartDir, "jwt-secret"))).mode & 0o077).toBe(0);
    } finally {
      await second.stop();
    }
  });

  it("listens on loopback only", () => {
    expect(new URL(standin.url).hostname).toBe("127.0.0.1");
  });
});
