import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { API_CSP, HSTS_VALUE, securityHeaders } from "./index";

function appWith(options: Parameters<typeof securityHeaders>[0]) {
  return new Hono().use(securityHeaders(options)).get("/", (c) => c.json({ ok: true }));
}

describe("securityHeaders", () => {
  it("sets the baseline headers on every response", async () => {
    const res = await appWith({ hsts: true }).request("/");
    expect(res.headers.get("Strict-Transport-Security")).toBe(HSTS_VALUE);
    expect(res.headers.get("Content-Security-Policy")).toBe(API_CSP);
    expect(res.headers.get("X-Content-Type-Options")).toBe("nosniff");
    expect(res.headers.get("Referrer-Policy")).toBe("no-referrer");
    expect(res.headers.get("Cache-Control")).toBe("no-store");
    expect(res.headers.get("Content-Security-Policy")).toContain("frame-ancestors 'none'");
  });

  it("HSTS max-age is at least one year with subdomains", () => {
    const maxAge = Number(/max-age=(\d+)/.exec(HSTS_VALUE)?.[1]);
    expect(maxAge).toBeGreaterThanOrEqual(31536000);
    expect(HSTS_VALUE).toContain("includeSubDomains");
  });

  it("leaves HSTS off when asked (local http)", async () => {
    const res = await appWith({ hsts: false }).request("/");
    expect(res.headers.get("Strict-Transport-Security")).toBeNull();
  });

  it("also applies to error responses", async () => {
    const app = new Hono().use(securityHeaders({ hsts: true })).get("/", () => {
      throw new Error("boom");
    });
    const res = await app.request("/");
    expect(res.status).toBe(500);
    expect(res.headers.get("Cache-Control")).toBe("no-store");
  });
});
