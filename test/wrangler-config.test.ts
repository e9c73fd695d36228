import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { experimental_readRawConfig } from "wrangler";
import { REPO_ROOT } from "../scripts/lib/migrations-dir";
import { FUNCTION_NAMES } from "../shared/config/functions";
import { functionForPath, ROUTE_TABLE } from "../shared/http/route-table";

interface RawEnv {
  name?: string;
  main?: string;
  routes?: Array<{ pattern: string }>;
  services?: Array<{ service: string }>;
  vars?: Record<string, string>;
}
const raw = experimental_readRawConfig({ config: join(REPO_ROOT, "wrangler.toml") }).rawConfig as RawEnv & {
  env: Record<string, RawEnv>;
};

describe("wrangler.toml", () => {
  it("defines every function as its own Worker with its own entry point", () => {
    expect(Object.keys(raw.env).sort()).toEqual([...FUNCTION_NAMES].sort());
    for (const fn of FUNCTION_NAMES) {
      expect(raw.env[fn]!.name).toBe(`medchr-${fn}`);
      expect(raw.env[fn]!.main).toBe(`functions/${fn}/index.ts`);
      expect(existsSync(join(REPO_ROOT, raw.env[fn]!.main!))).toBe(true);
    }
  });

  it("deploys in prod + HIPAA mode by default, never with a dev convenience", () => {
    for (const fn of FUNCTION_NAMES) {
      const vars = raw.env[fn]!.vars ?? {};
      expect(vars).toMatchObject({ APP_ENV: "prod", HIPAA_MODE: "true" });
      expect(Object.keys(vars).filter((k) => k.startsWith("DEV_"))).toEqual([]);
    }
  });

  it("routes every path to the function the shared route table names (so local = production)", () => {
    for (const fn of FUNCTION_NAMES) {
      for (const route of raw.env[fn]!.routes ?? []) {
        const path = route.pattern.slice(route.pattern.indexOf("/"));
        const entry = ROUTE_TABLE.find((r) => r.pattern === path);
        expect(entry, `${route.pattern} is not in ROUTE_TABLE`).toBeDefined();
        expect(entry!.function).toBe(fn);
      }
    }
    for (const entry of ROUTE_TABLE) {
      const routes = (raw.env[entry.function]!.routes ?? []).map((r) =>
        r.pattern.slice(r.pattern.indexOf("/")),
      );
      expect(routes, `${entry.pattern} has no route in [env.${entry.function}]`).toContain(entry.pattern);
    }
  });

  it("the cron function has no public routes", () => {
    expect(raw.env.cron!.routes ?? []).toEqual([]);
  });

  it("service bindings point at functions that exist", () => {
    const names = new Set(FUNCTION_NAMES.map((fn) => raw.env[fn]!.name));
    for (const fn of FUNCTION_NAMES) {
      for (const service of raw.env[fn]!.services ?? []) expect(names).toContain(service.service);
    }
  });
});

describe("route table", () => {
  it.each([
    ["/api/v1/patients", "api"],
    ["/patients/123", "api"],
    ["/health", "api"],
    ["/healthz", "web"],
    ["/auth/login", "auth"],
    ["/ui/sso/login", "auth"],
    ["/storage/health", "storage"],
    ["/pipeline/steps/text", "pipeline"],
    ["/", "web"],
    ["/app.js", "web"],
  ])("%s goes to %s", (path, fn) => {
    expect(functionForPath(path)).toBe(fn);
  });
});

describe("cron triggers", () => {
  it("are exactly the schedules functions/cron/scheduled.ts dispatches on", async () => {
    const { DAILY_CRON, SWEEP_CRON } = await import("../functions/cron/scheduled");
    const toml = await import("node:fs/promises").then((fs) => fs.readFile("wrangler.toml", "utf8"));
    const match = /\[env\.cron\][\s\S]*?triggers = \{ crons = \[([^\]]*)\] \}/.exec(toml);
    const crons = (match?.[1] ?? "")
      .split(",")
      .map((s) => s.trim().replace(/^"|"$/g, ""))
      .filter(Boolean);
    expect(crons.sort()).toEqual([DAILY_CRON, SWEEP_CRON].sort());
  });
});
