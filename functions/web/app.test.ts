/**
 * The web function's Content-Security-Policy: connect-src names the Supabase Storage origin
 * the browser uploads to (SUPABASE_URL), and nothing else; the rest of the policy and the
 * shared headers are the same whatever the setting.
 */
import { describe, expect, it } from "vitest";
import { buildUiCsp, buildWebApp, storageOriginOf, UI_CSP } from "./app";

const assets = {
  fetch: async () =>
    new Response("<!doctype html><title>MedCHR</title>", { headers: { "Content-Type": "text/html" } }),
};

const envWith = (extra: Record<string, unknown> = {}) => ({
  APP_ENV: "test",
  HIPAA_MODE: "false",
  ASSETS: assets,
  ...extra,
});

function directives(csp: string): Map<string, string> {
  return new Map(
    csp.split(";").map((part) => {
      const [name, ...values] = part.trim().split(/\s+/);
      return [name!, values.join(" ")];
    }),
  );
}

describe("storageOriginOf", () => {
  it("takes only the origin of an https SUPABASE_URL", () => {
    expect(storageOriginOf({ SUPABASE_URL: "https://abcd.supabase.co" })).toBe("https://abcd.supabase.co");
    expect(storageOriginOf({ SUPABASE_URL: "https://abcd.supabase.co:8443/storage/v1?x=1#y" })).toBe(
      "https://abcd.supabase.co:8443",
    );
    // Credentials or a path in the setting never reach a response header.
    expect(storageOriginOf({ SUPABASE_URL: "https://user:secret@abcd.supabase.co/path" })).toBe(
      "https://abcd.supabase.co",
    );
  });

  it("accepts plain http only on loopback (the local stand-in)", () => {
    expect(storageOriginOf({ SUPABASE_URL: "http://127.0.0.1:54321" })).toBe("http://127.0.0.1:54321");
    expect(storageOriginOf({ SUPABASE_URL: "http://localhost:54321/" })).toBe("http://localhost:54321");
    expect(storageOriginOf({ SUPABASE_URL: "http://[::1]:54321" })).toBe("http://[::1]:54321");
    expect(storageOriginOf({ SUPABASE_URL: "http://abcd.supabase.co" })).toBeNull();
    expect(storageOriginOf({ SUPABASE_URL: "http://10.0.0.5:54321" })).toBeNull();
  });

  it("ignores a missing, empty, malformed or non-web setting", () => {
    expect(storageOriginOf({})).toBeNull();
    expect(storageOriginOf({ SUPABASE_URL: "" })).toBeNull();
    expect(storageOriginOf({ SUPABASE_URL: "not a url" })).toBeNull();
    expect(storageOriginOf({ SUPABASE_URL: 42 })).toBeNull();
    expect(storageOriginOf({ SUPABASE_URL: "javascript:alert(1)" })).toBeNull();
    expect(storageOriginOf({ SUPABASE_URL: "ftp://abcd.supabase.co" })).toBeNull();
    expect(storageOriginOf({ SUPABASE_URL: "data:text/plain,x" })).toBeNull();
  });
});

describe("buildUiCsp", () => {
  it("adds the storage origin to connect-src only", () => {
    const withStorage = directives(buildUiCsp("https://abcd.supabase.co"));
    const without = directives(UI_CSP);
    expect(withStorage.get("connect-src")).toBe("'self' https://abcd.supabase.co");
    expect(without.get("connect-src")).toBe("'self'");
    for (const [name, value] of without)
      if (name !== "connect-src") expect(withStorage.get(name)).toBe(value);
    expect(without.get("script-src")).toBe("'self'");
    expect(without.get("frame-ancestors")).toBe("'none'");
    expect(UI_CSP).not.toContain("unsafe-inline");
  });
});

describe("the web function", () => {
  it("serves the UI with the storage origin of its own settings in connect-src", async () => {
    const app = buildWebApp();
    const res = await app.request("/", {}, envWith({ SUPABASE_URL: "https://abcd.supabase.co" }));
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("MedCHR");
    const csp = directives(res.headers.get("Content-Security-Policy") ?? "");
    expect(csp.get("connect-src")).toBe("'self' https://abcd.supabase.co");
    expect(csp.get("script-src")).toBe("'self'");
    expect(res.headers.get("X-Frame-Options")).toBe("DENY");
    expect(res.headers.get("Cache-Control")).toBe("no-cache");
  });

  it("keeps connect-src 'self' without storage or with an origin it will not trust", async () => {
    const app = buildWebApp();
    for (const extra of [{}, { SUPABASE_URL: "http://storage.example.org" }]) {
      const res = await app.request("/", {}, envWith(extra));
      expect(res.status).toBe(200);
      expect(directives(res.headers.get("Content-Security-Policy") ?? "").get("connect-src")).toBe("'self'");
    }
  });

  it("gives each deployment's settings their own policy (no bleed between environments)", async () => {
    const app = buildWebApp();
    const a = envWith({ SUPABASE_URL: "https://a.supabase.co" });
    const b = envWith({ SUPABASE_URL: "https://b.supabase.co" });
    const cspOf = async (env: Record<string, unknown>) =>
      (await app.request("/", {}, env)).headers.get("Content-Security-Policy") ?? "";
    expect(await cspOf(a)).toContain("https://a.supabase.co");
    expect(await cspOf(b)).toContain("https://b.supabase.co");
    expect(await cspOf(b)).not.toContain("https://a.supabase.co");
    expect(await cspOf(a)).not.toContain("https://b.supabase.co");
  });

  it("keeps the shared contract: liveness, JSON 404/405, and 503 on invalid settings", async () => {
    const app = buildWebApp();
    const env = envWith({ SUPABASE_URL: "https://abcd.supabase.co" });
    const health = await app.request("/web/health", {}, env);
    expect(await health.json()).toEqual({ status: "ok", function: "web" });
    expect(health.headers.get("Content-Security-Policy")).toContain("https://abcd.supabase.co");

    const post = await app.request("/", { method: "DELETE" }, env);
    expect(post.status).toBe(405);
    expect(((await post.json()) as { error: { code: string } }).error.code).toBe("method_not_allowed");

    // A SUPABASE_URL that is not a URL makes the config invalid: refused, never half-configured.
    const broken = await app.request("/", {}, envWith({ SUPABASE_URL: "not a url" }));
    expect(broken.status).toBe(503);
    expect(directives(broken.headers.get("Content-Security-Policy") ?? "").get("connect-src")).toBe("'self'");
  });
});
