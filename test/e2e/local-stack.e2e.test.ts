/**
 * The README promise of `npm start`, end to end against the real stack (PGlite +
 * wrangler dev + dev router): first start seeds and prints the demo admin once, every
 * function answers through one origin, Ctrl-C stops everything, data survives a restart.
 * The tests run in order and share one data folder (first start, stop, restart).
 */
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  isListening,
  type LocalStack,
  makeDataDir,
  processesInGroups,
  removeDataDir,
  type StopResult,
  startLocalStack,
} from "../helpers/local-stack";

const START_TIMEOUT = 180_000;
const DEMO_ADMIN = "admin@demo-clinic.example.org";
const PROBE_SLUG = "e2e-persistence-probe";

let dataDir: string;
let first: LocalStack | undefined;
let firstStop: StopResult | undefined;
let firstGroups: number[] = [];
let second: LocalStack | undefined;

function running(stack: LocalStack | undefined): LocalStack {
  if (!stack) throw new Error("the stack is not running (an earlier step failed; see its error)");
  return stack;
}

async function getJson(stack: LocalStack, path: string, init?: RequestInit) {
  const res = await fetch(`${stack.origin}${path}`, init);
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  return { res, body };
}

function countOf(haystack: string, needle: string): number {
  return haystack.split(needle).length - 1;
}

beforeAll(async () => {
  dataDir = await makeDataDir();
  first = await startLocalStack({ dataDir });
}, START_TIMEOUT);

afterAll(async () => {
  await first?.kill();
  await second?.kill();
  if (dataDir) await removeDataDir(dataDir);
}, 60_000);

describe("npm start: first start", () => {
  it("prints the demo admin's credentials exactly once", () => {
    const out = running(first).output();
    expect(countOf(out, "First start:"), out).toBe(1);
    expect(countOf(out, `e-mail:   ${DEMO_ADMIN}`), out).toBe(1);
    const passwords = [...out.matchAll(/^\s*password:\s+(\S+)\s*$/gm)];
    expect(passwords, out).toHaveLength(1);
    expect(passwords[0]![1]!.length).toBeGreaterThanOrEqual(12);
    // The announcement comes once the stack answers, after the credentials.
    expect(out.indexOf("First start:")).toBeLessThan(out.indexOf("MedCHR is running at"));
    expect(out).toContain(`MedCHR is running at ${running(first).origin}`);
  });

  it("answers /health and /ready with 200", async () => {
    const stack = running(first);
    const health = await getJson(stack, "/health");
    expect(health.res.status).toBe(200);
    expect(health.body).toEqual({ status: "ok", function: "api" });
    const ready = await getJson(stack, "/ready");
    expect(ready.res.status, JSON.stringify(ready.body)).toBe(200);
    expect(ready.body).toMatchObject({ status: "ready" });
  });

  it("serves the UI with a CSP and without inline scripts", async () => {
    const stack = running(first);
    const res = await fetch(`${stack.origin}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    const csp = res.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain("unsafe-inline");
    expect(csp).not.toContain("unsafe-eval");
    const html = await res.text();
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)];
    expect(scripts.length).toBeGreaterThan(0);
    for (const [tag, attributes, body] of scripts) {
      expect(attributes, tag).toMatch(/\bsrc=/);
      expect(body!.trim(), tag).toBe("");
    }
    expect(html).not.toMatch(/\son[a-z]+\s*=/i); // no inline event handlers
    expect(html).not.toMatch(/javascript:/i);
    // Every script the page loads comes from the same origin and is served as JavaScript.
    for (const [, attributes] of scripts) {
      const src = /\bsrc="([^"]+)"/.exec(attributes!)![1]!;
      expect(src.startsWith("/") && !src.startsWith("//"), src).toBe(true);
      const asset = await fetch(`${stack.origin}${src}`);
      expect(asset.status, src).toBe(200);
      expect(asset.headers.get("content-type"), src).toMatch(/javascript/);
      await asset.arrayBuffer();
    }
  });

  it("reaches every function at its own path through the one origin", async () => {
    const stack = running(first);
    for (const fn of ["api", "auth", "storage", "pipeline", "web"] as const) {
      const path = fn === "api" ? "/health" : `/${fn}/health`;
      const { res, body } = await getJson(stack, path);
      expect(res.status, path).toBe(200);
      expect(body, path).toEqual({ status: "ok", function: fn });
    }
    const openapi = await getJson(stack, "/api/v1/openapi.json");
    expect(openapi.res.status).toBe(200);
    expect(openapi.body).toMatchObject({ openapi: expect.stringMatching(/^3\./) });
  });

  it("answers an unknown /api path with the 404 JSON error contract", async () => {
    const { res, body } = await getJson(running(first), "/api/v1/no-such-route");
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(body).toEqual({
      error: { code: "not_found", message: expect.any(String), requestId: expect.any(String) },
    });
    const { error } = body as { error: { requestId: string } };
    expect(error.requestId).not.toBe("");
    expect(res.headers.get("x-request-id")).toBe(error.requestId);
  });

  it("refuses a text/plain POST with 415", async () => {
    const { res, body } = await getJson(running(first), "/api/v1/patients", {
      method: "POST",
      headers: { "Content-Type": "text/plain" },
      body: "name=x",
    });
    expect(res.status).toBe(415);
    expect(body).toEqual({
      error: { code: "unsupported_media_type", message: expect.any(String), requestId: expect.any(String) },
    });
  });

  it("keeps a row written through the owner connection (checked after the restart)", async () => {
    const stack = running(first);
    const owner = postgres(stack.ownerUrl, { max: 1, onnotice: () => {} });
    try {
      await owner`insert into medchr.tenants (name, slug) values ('E2E probe', ${PROBE_SLUG})`;
      const [row] = await owner<{ n: number }[]>`select count(*)::int as n from medchr.tenants`;
      expect(row!.n).toBe(2);
    } finally {
      await owner.end({ timeout: 5 });
    }
  });
});

describe("npm start: Ctrl-C", () => {
  it("stops cleanly: stopping/stopped, exit 0, ports released, no process of the run left", async () => {
    const stack = running(first);
    firstGroups = stack.processGroups();
    // start.ts's own group and wrangler's (wrangler -> node -> workerd).
    expect(firstGroups.length, `groups: ${firstGroups.join(", ")}`).toBeGreaterThanOrEqual(2);
    const before = await processesInGroups(firstGroups);
    expect(
      before.some((p) => p.command.includes("workerd")),
      JSON.stringify(before, null, 1),
    ).toBe(true);

    firstStop = await stack.stop();
    expect(firstStop.killed, firstStop.output).toBe(false);
    expect(firstStop.code, firstStop.output).toBe(0);
    expect(firstStop.signal).toBeNull();
    const tail = firstStop.output.slice(firstStop.output.indexOf("MedCHR is running at"));
    expect(tail).toMatch(/\[medchr\] stopping \.\.\.[\s\S]*\[medchr\] stopped/);

    expect(await isListening(stack.port), `port ${stack.port}`).toBe(false);
    expect(await isListening(stack.pgPort), `PGlite port ${stack.pgPort}`).toBe(false);
    const left = await processesInGroups(firstGroups);
    expect(left, `left over: ${JSON.stringify(left, null, 1)}`).toEqual([]);
  });
});

describe("npm start: restart with the same data folder", () => {
  beforeAll(async () => {
    if (firstStop?.code !== 0) throw new Error("the first run did not stop cleanly; not restarting");
    second = await startLocalStack({ dataDir });
  }, START_TIMEOUT);

  it("does not seed again and is ready", async () => {
    const stack = running(second);
    const out = stack.output();
    expect(out).not.toContain("First start");
    expect(out).not.toMatch(/password:/);
    expect(out).toMatch(/migrations: 0 applied, \d+ already applied/);
    const ready = await getJson(stack, "/ready");
    expect(ready.res.status, JSON.stringify(ready.body)).toBe(200);
  });

  it("kept the seeded clinic, its admin and the row written before the restart", async () => {
    const owner = postgres(running(second).ownerUrl, { max: 1, onnotice: () => {} });
    try {
      const tenants = await owner<{ slug: string }[]>`select slug from medchr.tenants order by slug`;
      expect(tenants.map((t) => t.slug)).toEqual(["demo-clinic", PROBE_SLUG]);
      const [admin] = await owner<{ role: string; has_password: boolean }[]>`
        select role, password_hash is not null as has_password from medchr.users where email = ${DEMO_ADMIN}`;
      expect(admin).toEqual({ role: "admin", has_password: true });
    } finally {
      await owner.end({ timeout: 5 });
    }
  });

  it("stops cleanly again", async () => {
    const stack = running(second);
    const groups = stack.processGroups();
    const result = await stack.stop();
    expect(result.code, result.output).toBe(0);
    expect(result.output).toContain("[medchr] stopped");
    expect(await isListening(stack.port)).toBe(false);
    expect(await processesInGroups(groups)).toEqual([]);
  });
});
