import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { apiApp } from "../functions/api/app";
import { authApp } from "../functions/auth/app";
import { cronApp } from "../functions/cron/app";
import { pipelineApp } from "../functions/pipeline/app";
import { storageApp } from "../functions/storage/app";
import { webApp } from "../functions/web/app";
import { testEnv } from "./helpers/test-env";

const bindings = testEnv((env as unknown as { TEST_DATABASE_URL: string }).TEST_DATABASE_URL);

/** Every deployable function, its liveness path, and an app built on the shared plumbing. */
const FUNCTIONS = [
  { name: "api", app: apiApp, health: "/health" },
  { name: "auth", app: authApp, health: "/auth/health" },
  { name: "storage", app: storageApp, health: "/storage/health" },
  { name: "pipeline", app: pipelineApp, health: "/pipeline/health" },
  { name: "cron", app: cronApp, health: "/cron/health" },
  { name: "web", app: webApp, health: "/web/health" },
] as const;

describe.each(FUNCTIONS)("$name function (workerd)", ({ name, app, health }) => {
  it("answers liveness with its name and the baseline headers", async () => {
    const res = await app.request(health, {}, bindings);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ok", function: name });
    expect(res.headers.get("X-Content-Type-Options")).toBe("nosniff");
    expect(res.headers.get("Content-Security-Policy")).toContain("frame-ancestors 'none'");
    expect(res.headers.get("Strict-Transport-Security")).toContain("max-age=31536000");
  });

  it("answers unknown API paths and bad methods with the JSON error contract", async () => {
    const res = await app.request(
      `${health}/nope/deeper`,
      { method: "POST", headers: { "Content-Type": "application/json" }, body: "{}" },
      bindings,
    );
    expect([404, 405]).toContain(res.status);
    const body = (await res.json()) as { error: { code: string; message: string; requestId: string } };
    expect(body.error).toEqual({
      code: expect.any(String),
      message: expect.any(String),
      requestId: res.headers.get("X-Request-Id"),
    });
  });

  it("refuses to serve in prod mode without its secrets (503, settings named only in logs)", async () => {
    const res = await app.request(health, {}, { APP_ENV: "prod", HIPAA_MODE: "true" });
    if (name === "web") {
      // The static UI holds no secrets and processes no PHI: nothing to refuse.
      expect(res.status).toBe(200);
      return;
    }
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ error: { code: "misconfigured" } });
  });

  it("refuses a dev convenience in prod even when all secrets are present", async () => {
    const strictSecrets = {
      QSTASH_TOKEN: "qstash-token-0123456789abcdefghijklmnop",
      QSTASH_CURRENT_SIGNING_KEY: "sig-current-0123456789abcdefghijklmnop",
      QSTASH_NEXT_SIGNING_KEY: "sig-next-0123456789abcdefghijklmnopqrs",
      UPSTASH_REDIS_REST_TOKEN: "redis-token-0123456789abcdefghijklmnop",
      SUPABASE_SERVICE_ROLE_KEY: "service-role-0123456789abcdefghijklmno",
      STORAGE_INTERNAL_TOKEN: "storage-internal-0123456789abcdefghijkl",
    };
    const prod = { ...bindings, ...strictSecrets, APP_ENV: "prod", PHI_PROCESSORS: "none" };
    // Control: the same environment without the dev flag serves, so the flag alone refuses.
    expect((await app.request(health, {}, prod)).status).toBe(200);
    const res = await app.request(health, {}, { ...prod, DEV_SEED_DEMO: "true" });
    expect(res.status).toBe(503);
  });
});

describe("web function", () => {
  it("serves the UI with a CSP that forbids inline script", async () => {
    const assets = {
      fetch: async () =>
        new Response("<!doctype html><title>MedCHR</title>", { headers: { "Content-Type": "text/html" } }),
    };
    const res = await webApp.request("/", {}, { ...bindings, ASSETS: assets });
    expect(res.status).toBe(200);
    const csp = res.headers.get("Content-Security-Policy") ?? "";
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain("unsafe-inline");
  });
});
