import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { testEnv } from "../../test/helpers/test-env";
import { apiApp } from "./app";

const databaseUrl = (env as unknown as { TEST_DATABASE_URL: string }).TEST_DATABASE_URL;
const bindings = testEnv(databaseUrl);

describe("api function in workerd", () => {
  it("GET /health answers 200 with the security headers", async () => {
    const res = await apiApp.request("/health", {}, bindings);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ok", function: "api" });
    expect(res.headers.get("Cache-Control")).toBe("no-store");
    expect(res.headers.get("X-Request-Id")).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("GET /ready answers 200 when the database answers as the app role", async () => {
    const res = await apiApp.request("/ready", {}, bindings);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ready", checks: { database: "ok" } });
  });

  it("GET /ready answers 503 when the database does not answer", async () => {
    const res = await apiApp.request("/ready", {}, testEnv("postgres://medchr_login@127.0.0.1:1/none"));
    expect(res.status).toBe(503);
    const body = (await res.json()) as { error: { code: string; requestId: string } };
    expect(body.error.code).toBe("unavailable");
    expect(body.error.requestId).toBe(res.headers.get("X-Request-Id"));
  });

  it("serves OpenAPI 3.1 generated from the route definitions", async () => {
    const res = await apiApp.request("/api/v1/openapi.json", {}, bindings);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { openapi: string; paths: Record<string, unknown> };
    expect(doc.openapi).toBe("3.1.0");
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(["/health", "/ready"]));
  });

  it("answers 404 and 405 in the JSON error contract", async () => {
    const missing = await apiApp.request("/api/v1/nothing-here", {}, bindings);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: { code: "not_found" } });
    const wrongMethod = await apiApp.request("/ready", { method: "DELETE" }, bindings);
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get("Allow")).toContain("GET");
  });

  it("refuses a POST without a JSON content type with 415", async () => {
    const res = await apiApp.request("/ready", { method: "POST", body: "a=1" }, bindings);
    expect(res.status).toBe(415);
  });

  it("refuses every request with 503 when prod config is incomplete", async () => {
    const res = await apiApp.request("/health", {}, { APP_ENV: "prod" });
    expect(res.status).toBe(503);
    const text = await res.text();
    expect(JSON.parse(text)).toMatchObject({ error: { code: "misconfigured" } });
    expect(text).not.toContain("AUDIT_KEYS");
  });
});
