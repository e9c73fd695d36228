/**
 * The storage function over HTTP (app.request in Node) against the Supabase Storage
 * stand-in: the internal token gate, validation, the error contract and the happy path.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import {
  startTestStorageStandin,
  type TestStorageStandin,
} from "../../scripts/local/supabase-storage/testing";
import { STORAGE_INTERNAL_ROUTES } from "../../shared/storage/storage-internal-api";
import { buildDocumentStoragePath } from "../../shared/storage/storage-path";
import { buildStorageApp } from "./app";

const TENANT = "0b7e4c52-3f7e-4b0a-9d55-2f3c1e0a9b11";
const PATIENT = "5d1c2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f";
const app = buildStorageApp();
const token = randomBytes(32).toString("base64url");
let standin: TestStorageStandin;
let env: Record<string, unknown>;

beforeAll(async () => {
  standin = await startTestStorageStandin();
  env = {
    APP_ENV: "test",
    HIPAA_MODE: "false",
    SUPABASE_URL: standin.url,
    SUPABASE_SERVICE_ROLE_KEY: standin.serviceRoleKey,
    SUPABASE_STORAGE_BUCKET: standin.bucket,
    STORAGE_INTERNAL_TOKEN: token,
  };
});

afterAll(async () => {
  await standin.stop();
});

function call(
  route: string,
  body: unknown,
  options: { token?: string | null; env?: Record<string, unknown>; contentType?: string } = {},
) {
  const headers: Record<string, string> = { "Content-Type": options.contentType ?? "application/json" };
  const presented = options.token === undefined ? token : options.token;
  if (presented !== null) headers["X-Storage-Internal-Token"] = presented;
  return app.request(
    route,
    { method: "POST", headers, body: typeof body === "string" ? body : JSON.stringify(body) },
    options.env ?? env,
  );
}

const ALL_ROUTES = Object.values(STORAGE_INTERNAL_ROUTES);
const newPath = () => buildDocumentStoragePath(TENANT, PATIENT);

describe("storage function: internal token", () => {
  it("keeps /storage/health public", async () => {
    const res = await app.request("/storage/health", {}, env);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ok", function: "storage" });
  });

  it.each(ALL_ROUTES)("refuses %s without the token, with a wrong one, or as a bearer", async (route) => {
    const body = { path: newPath() };
    for (const presented of [null, "", `${token}x`, token.slice(0, -1), "a".repeat(token.length)]) {
      const res = await call(route, body, { token: presented });
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({ error: { code: "unauthorized" } });
    }
    const bearer = await app.request(
      route,
      {
        method: "POST",
        headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
        body: JSON.stringify(body),
      },
      env,
    );
    expect(bearer.status).toBe(401);
  });

  it("refuses every internal call (503) when no token, or a weak one, is configured", async () => {
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    try {
      for (const configured of [undefined, "", "short-token"]) {
        const res = await call(
          STORAGE_INTERNAL_ROUTES.stat,
          { path: newPath() },
          {
            env: { ...env, STORAGE_INTERNAL_TOKEN: configured },
            token: configured ?? "",
          },
        );
        expect(res.status).toBe(503);
        expect(await res.json()).toMatchObject({ error: { code: "misconfigured" } });
      }
      // Setting names only, never values.
      const logged = errors.mock.calls.flat().join("\n");
      expect(logged).toContain("STORAGE_INTERNAL_TOKEN");
      expect(logged).not.toContain("short-token");
    } finally {
      errors.mockRestore();
    }
  });
});

describe("storage function: configuration", () => {
  it.each([
    ["without SUPABASE_URL", { SUPABASE_URL: undefined }],
    ["without the service-role key", { SUPABASE_SERVICE_ROLE_KEY: undefined }],
    ["with a malformed URL", { SUPABASE_URL: "not a url" }],
    ["with an invalid bucket", { SUPABASE_STORAGE_BUCKET: "../x" }],
  ])("answers 503 %s, naming settings only in logs", async (_label, override) => {
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    try {
      const res = await call(
        STORAGE_INTERNAL_ROUTES.stat,
        { path: newPath() },
        { env: { ...env, ...override } },
      );
      expect(res.status).toBe(503);
      expect(errors.mock.calls.flat().join("\n")).not.toContain(standin.serviceRoleKey);
    } finally {
      errors.mockRestore();
    }
  });

  it("refuses plain-http Supabase in prod/HIPAA mode", async () => {
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    try {
      const strict = {
        ...env,
        HIPAA_MODE: "true",
        PHI_PROCESSORS: "none",
        SUPABASE_SERVICE_ROLE_KEY: `${standin.serviceRoleKey}-padded-to-thirty-two`,
      };
      const res = await call(STORAGE_INTERNAL_ROUTES.stat, { path: newPath() }, { env: strict });
      expect(res.status).toBe(503);
      expect(errors.mock.calls.flat().join("\n")).toContain("SUPABASE_URL must use https");
    } finally {
      errors.mockRestore();
    }
  });
});

describe("storage function: validation", () => {
  it.each(ALL_ROUTES)("refuses a non-JSON body on %s with 415", async (route) => {
    const res = await call(route, "path=a", { contentType: "application/x-www-form-urlencoded" });
    expect(res.status).toBe(415);
  });

  it.each(ALL_ROUTES)("refuses malformed JSON on %s with 400", async (route) => {
    const res = await call(route, "{nope");
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: "bad_request" } });
  });

  it.each([
    [STORAGE_INTERNAL_ROUTES.stat, { path: "../../etc/passwd" }],
    [STORAGE_INTERNAL_ROUTES.stat, { path: "a\\b" }],
    [STORAGE_INTERNAL_ROUTES.stat, { path: 42 }],
    [STORAGE_INTERNAL_ROUTES.stat, { path: "a/b", extra: true }],
    [STORAGE_INTERNAL_ROUTES.headBytes, { path: "a/b", bytes: 0 }],
    [STORAGE_INTERNAL_ROUTES.headBytes, { path: "a/b", bytes: 65537 }],
    [STORAGE_INTERNAL_ROUTES.read, { path: "a/b", maxBytes: -1 }],
    [STORAGE_INTERNAL_ROUTES.signUpload, { path: "a/b", expiresInSeconds: 10 }],
    [STORAGE_INTERNAL_ROUTES.signDownload, { path: "a/b", expiresInSeconds: 3600, downloadName: "d.pdf" }],
    [STORAGE_INTERNAL_ROUTES.signDownload, { path: "a/b", expiresInSeconds: 60, downloadName: 'x".pdf' }],
    [STORAGE_INTERNAL_ROUTES.remove, { paths: Array.from({ length: 101 }, (_, i) => `a/${i}`) }],
    [STORAGE_INTERNAL_ROUTES.remove, { paths: ["a/../b"] }],
  ])("refuses %s with %j (400)", async (route, body) => {
    const res = await call(route, body);
    expect(res.status).toBe(400);
    const json = (await res.json()) as { error: { code: string; message: string } };
    expect(["validation_failed", "bad_request"]).toContain(json.error.code);
    expect(json.error.message).not.toContain("passwd");
  });
});

describe("storage function: objects", () => {
  it("signs, stats, sniffs, reads, signs a download and removes", async () => {
    const path = newPath();
    const signed = await call(STORAGE_INTERNAL_ROUTES.signUpload, { path });
    expect(signed.status).toBe(200);
    const upload = (await signed.json()) as { url: string; token: string; path: string; expiresAt: string };
    expect(upload.path).toBe(path);
    expect(new Date(upload.expiresAt).getTime()).toBeGreaterThan(Date.now());
    const put = await fetch(upload.url, {
      method: "PUT",
      headers: { "content-type": "text/plain;charset=UTF-8" },
      body: "Glucose 5.4 mmol/L\n",
    });
    expect(put.status).toBe(200);

    const stat = await call(STORAGE_INTERNAL_ROUTES.stat, { path });
    expect(await stat.json()).toEqual({ size: 19, contentType: "text/plain;charset=UTF-8" });

    const head = await call(STORAGE_INTERNAL_ROUTES.headBytes, { path, bytes: 7 });
    expect(head.headers.get("content-type")).toBe("application/octet-stream");
    expect(await head.text()).toBe("Glucose");

    const read = await call(STORAGE_INTERNAL_ROUTES.read, { path });
    expect(read.status).toBe(200);
    // Always octet-stream with nosniff: the stored type is the uploader's claim, not a fact.
    expect(read.headers.get("content-type")).toBe("application/octet-stream");
    expect(read.headers.get("x-content-type-options")).toBe("nosniff");
    expect(read.headers.get("x-stored-content-type")).toBe("text/plain;charset=UTF-8");
    expect(read.headers.get("content-length")).toBe("19");
    expect(read.headers.get("cache-control")).toBe("no-store");
    expect(await read.text()).toBe("Glucose 5.4 mmol/L\n");

    const tooLarge = await call(STORAGE_INTERNAL_ROUTES.read, { path, maxBytes: 18 });
    expect(tooLarge.status).toBe(413);

    const download = await call(STORAGE_INTERNAL_ROUTES.signDownload, {
      path,
      expiresInSeconds: 60,
      downloadName: "document-1.txt",
    });
    const link = (await download.json()) as { url: string };
    expect((await fetch(link.url)).headers.get("content-disposition")).toMatch(/^attachment;/);

    const removed = await call(STORAGE_INTERNAL_ROUTES.remove, { paths: [path] });
    expect(await removed.json()).toEqual({ removed: 1 });
    const gone = await call(STORAGE_INTERNAL_ROUTES.stat, { path });
    expect(gone.status).toBe(404);
    expect(await gone.json()).toMatchObject({ error: { code: "not_found" } });
  });

  it("answers a missing object with 404 and no path in the error", async () => {
    const path = newPath();
    for (const [route, body] of [
      [STORAGE_INTERNAL_ROUTES.read, { path }],
      [STORAGE_INTERNAL_ROUTES.headBytes, { path, bytes: 8 }],
      [STORAGE_INTERNAL_ROUTES.signDownload, { path, expiresInSeconds: 60, downloadName: "d.pdf" }],
    ] as const) {
      const res = await call(route, body);
      expect(res.status).toBe(404);
      expect(await res.text()).not.toContain(TENANT);
    }
  });

  it("answers 409 when a path was already uploaded", async () => {
    const path = newPath();
    const signed = (await (await call(STORAGE_INTERNAL_ROUTES.signUpload, { path })).json()) as {
      url: string;
    };
    await fetch(signed.url, { method: "PUT", headers: { "content-type": "application/pdf" }, body: "%PDF" });
    const again = await call(STORAGE_INTERNAL_ROUTES.signUpload, { path });
    expect(again.status).toBe(409);
  });

  it("answers 503 when Supabase refuses the service key", async () => {
    const res = await call(
      STORAGE_INTERNAL_ROUTES.stat,
      { path: newPath() },
      {
        env: { ...env, SUPABASE_SERVICE_ROLE_KEY: "a-wrong-service-role-key-value" },
      },
    );
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ error: { code: "unavailable" } });
  });
});
