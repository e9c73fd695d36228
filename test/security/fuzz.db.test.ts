/**
 * Bad input across every route (issue 13, scope 7), driven by the route table: each route of
 * the api and auth functions is found through its OpenAPI registration and sent hostile input
 * by an authorised caller, so validation, not authentication, is what answers:
 *  - JSON bodies: prototype-pollution keys, deep nesting, oversized bodies, NUL and lone
 *    surrogates in every string field, wrong types;
 *  - path parameters: traversal, encoded traversal, SQL-ish and non-UUID ids;
 *  - headers: hostile Host, X-Forwarded-Host and Origin.
 * Every answer must be below 500, a 4xx must be the JSON error contract without a stack trace,
 * and a refused request must leave the data exactly as it was (no half-written rows).
 * A new route is fuzzed by being registered; a route with a body needs a sample body in
 * route-cases.ts (the security suite already insists on it).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type DocumentsHarness,
  insertPatient,
  SAMPLES,
  startDocumentsHarness,
} from "../../functions/api/routes/documents/testing";
import { seedReport, seedShare } from "../../shared/reports/testing";
import { createApiKey, createUser, signIn, type TestSession, testKeyRing } from "../helpers/identity";
import { dataFingerprint as fingerprintOf } from "./data-fingerprint";
import { type FixtureKind, PARAM_FIXTURES, rowParams, SAMPLE_BODIES, SAMPLE_PARAMS } from "./route-cases";
import { allRoutes, buildInventoryApps, pathWith, type RouteUnderTest } from "./route-inventory";

const apps = buildInventoryApps();
const ROUTES = allRoutes(apps);
/** Login is public and takes a body; everything else authenticates. */
const FUZZED = ROUTES.filter((r) => r.auth !== "public" || r.hasBody);

let h: DocumentsHarness;
let adminUser: Awaited<ReturnType<typeof createUser>>;
let adminKey: Record<string, string>;
const own: Partial<Record<FixtureKind, string>> = {};
let ip = 0;
const nextIp = () => `10.77.${(++ip >> 8) & 255}.${ip & 255}`;

const dataFingerprint = () => fingerprintOf(h.database.owner);

/**
 * A new signed-in admin session per call: some routes end the session they are called with
 * (logout, revoke-others, password change), and each hostile call must meet a live one.
 */
async function freshSession(): Promise<TestSession> {
  return signIn(h.database.db, adminUser);
}

async function headersFor(route: RouteUnderTest): Promise<Record<string, string>> {
  // Browser-only routes take an admin session; api routes the admin key (no CSRF needed).
  return route.auth === "session" ? { ...(await freshSession()).headers } : { ...adminKey };
}

function ownIds(route: RouteUnderTest): Record<string, string> {
  return Object.fromEntries(
    rowParams(route.params).map((p) => [p, own[PARAM_FIXTURES[p as keyof typeof PARAM_FIXTURES]] ?? ""]),
  );
}

async function send(
  route: RouteUnderTest,
  init: { path?: string; body?: string | FormData; headers?: Record<string, string> },
): Promise<Response> {
  const headers: Record<string, string> = {
    "CF-Connecting-IP": nextIp(),
    ...(await headersFor(route)),
    ...init.headers,
  };
  if (init.body instanceof FormData) delete headers["Content-Type"];
  else if (init.body !== undefined) headers["Content-Type"] ??= "application/json";
  return apps[route.fn].request(
    init.path ?? pathWith(route, ownIds(route)),
    { method: route.method, headers, body: init.body },
    h.env,
  );
}

const ascii = (text: string) => new TextEncoder().encode(text);
function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

const STACK_TRACE = /\bat [\w.<>]+ \(|node_modules|\/work\/|\.ts:\d+|Error: .*\n\s+at /;

/** Below 500; a 4xx is the JSON error contract with no internals; nothing was written. */
async function expectRefusedCleanly(label: string, res: Response, before: Record<string, string>) {
  const text = await res.text();
  expect(res.status, `${label}: ${text.slice(0, 300)}`).toBeLessThan(500);
  expect(text, label).not.toMatch(STACK_TRACE);
  if (res.status >= 400) {
    const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown; requestId?: unknown } };
    expect(typeof body.error?.code, label).toBe("string");
    expect(typeof body.error?.message, label).toBe("string");
    expect(typeof body.error?.requestId, label).toBe("string");
    expect(await dataFingerprint(), `${label} changed data although it was refused`).toEqual(before);
  }
  return res.status;
}

/** Every string leaf of a sample body, by path, so each can be replaced in turn. */
function stringPaths(value: unknown, path: (string | number)[] = []): (string | number)[][] {
  if (typeof value === "string") return [path];
  if (Array.isArray(value)) return value.flatMap((v, i) => stringPaths(v, [...path, i]));
  if (value && typeof value === "object")
    return Object.entries(value).flatMap(([k, v]) => stringPaths(v, [...path, k]));
  return [];
}

function withValueAt(value: unknown, path: (string | number)[], replacement: unknown): unknown {
  if (path.length === 0) return replacement;
  const [head, ...rest] = path;
  if (Array.isArray(value)) return value.map((v, i) => (i === head ? withValueAt(v, rest, replacement) : v));
  const obj = value as Record<string, unknown>;
  return { ...obj, [head as string]: withValueAt(obj[head as string], rest, replacement) };
}

beforeAll(async () => {
  h = await startDocumentsHarness();
  adminUser = await createUser(h.database.owner, h.tenantA, { role: "admin" });
  adminKey = (await createApiKey(h.database.owner, h.tenantA, { scopes: ["read", "write", "admin"] }))
    .headers;
  own.user = (await createUser(h.database.owner, h.tenantA, { role: "clinician" })).id;
  own.session = (await signIn(h.database.db, { ...adminUser })).sessionId;
  own.apiKey = (await createApiKey(h.database.owner, h.tenantA, { scopes: ["read"] })).id;
  own.patient = await insertPatient(h.database.owner, h.tenantA);
  const [document] = await h.database.owner<{ id: string }[]>`
    insert into medchr.documents (tenant_id, patient_id, storage_path, original_filename, media_type,
      size_bytes, sha256, scan_result, created_by)
    values (${h.tenantA}, ${own.patient}, ${`${h.tenantA}/${own.patient}/${"1".repeat(32)}`}, 'fuzz.pdf',
      'application/pdf', 1024, ${"b".repeat(64)}, 'not_scanned', 'fuzz')
    returning id`;
  own.document = document!.id;
  const [job] = await h.database.owner<{ id: string }[]>`
    insert into medchr.jobs (tenant_id, kind, patient_id, document_id, created_by)
    values (${h.tenantA}, 'document.process', ${own.patient}, ${own.document}, 'fuzz')
    returning id`;
  own.job = job!.id;
  own.report = (await seedReport(h.database.owner, h.tenantA, own.patient)).reportId;
  const finalized = await seedReport(h.database.owner, h.tenantA, own.patient, { status: "finalized" });
  own.share = (
    await seedShare(h.database.owner, h.tenantA, finalized.reportId, testKeyRing("SHARE_LINK_KEYS"))
  ).shareId;
});

afterAll(async () => {
  await h?.stop();
});

it("fuzzes every registered route", () => {
  expect(FUZZED.length).toBeGreaterThan(20);
  for (const route of FUZZED.filter((r) => r.hasBody))
    expect(SAMPLE_BODIES, `add a sample body for ${route.key}`).toHaveProperty(route.key);
});

describe.each(FUZZED.map((r) => [r.key, r] as const))("%s", (_key, route) => {
  const sample = SAMPLE_BODIES[route.key];
  const jsonSample = route.hasBody && !(sample instanceof FormData);

  if (jsonSample) {
    it("refuses prototype-pollution keys and leaves Object.prototype alone", async () => {
      const inner = JSON.stringify(sample).slice(1, -1);
      const sep = inner ? "," : "";
      for (const body of [
        `{"__proto__":{"polluted":"yes","isAdmin":true}${sep}${inner}}`,
        `{"constructor":{"prototype":{"polluted":"yes"}}${sep}${inner}}`,
        `{${inner}${sep}"__proto__":{"role":"admin"}}`,
      ]) {
        const before = await dataFingerprint();
        const status = await expectRefusedCleanly(
          `${route.key} pollution`,
          await send(route, { body }),
          before,
        );
        expect(status, `${route.key} accepted ${body.slice(0, 60)}`).toBeGreaterThanOrEqual(400);
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
        expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
      }
    });

    it("refuses deeply nested and oversized JSON", async () => {
      const before = await dataFingerprint();
      for (const depth of [1_000, 100_000]) {
        const body = `{"deep":${"[".repeat(depth)}${"]".repeat(depth)}}`;
        const status = await expectRefusedCleanly(
          `${route.key} depth ${depth}`,
          await send(route, { body }),
          before,
        );
        expect(status).toBeGreaterThanOrEqual(400);
      }
      const big = JSON.stringify({ ...(sample as object), padding: "x".repeat(3 * 1024 * 1024) });
      expect(
        await expectRefusedCleanly(`${route.key} oversized`, await send(route, { body: big }), before),
      ).toBe(413);
      for (const body of ["{", "null", "[]", '"text"', "{}garbage", "\u0000"]) {
        const status = await expectRefusedCleanly(
          `${route.key} body ${JSON.stringify(body)}`,
          await send(route, { body }),
          before,
        );
        // {} may be a valid body for routes whose fields are all optional; nothing else is.
        if (body !== "{}")
          expect(status, `${route.key} accepted ${JSON.stringify(body)}`).toBeGreaterThanOrEqual(400);
      }
    });

    const paths = stringPaths(sample);
    if (paths.length > 0) {
      it("refuses NUL, lone surrogates and wrong types in each string field", async () => {
        for (const path of paths) {
          const original = String(path.reduce<unknown>((v, k) => (v as Record<string, unknown>)[k], sample));
          for (const [what, replacement] of [
            ["NUL", `${original}\u0000x`],
            ["lone high surrogate", `${original}\ud800`],
            ["lone low surrogate", `\udc00${original}`],
            ["number", 12345],
            ["object", { $gt: "" }],
          ] as const) {
            const before = await dataFingerprint();
            const body = JSON.stringify(withValueAt(sample, path, replacement));
            const status = await expectRefusedCleanly(
              `${route.key} ${path.join(".")} ${what}`,
              await send(route, { body }),
              before,
            );
            expect(status, `${route.key} accepted ${what} in ${path.join(".")}`).toBeGreaterThanOrEqual(400);
          }
        }
      });
    }
  }

  if (sample instanceof FormData) {
    it("refuses polyglot, bomb and mislabelled files and keeps CRLF out of file names", async () => {
      const png = SAMPLES.png();
      const bomb = SAMPLES.png();
      new DataView(bomb.buffer).setUint32(16, 200_000);
      new DataView(bomb.buffer).setUint32(20, 200_000);
      const cases: [string, Uint8Array, string, string][] = [
        [
          "PDF + ZIP polyglot",
          concat(SAMPLES.pdf(10), ascii("PK\u0003\u0004\u0014\u0000")),
          "a.pdf",
          "application/pdf",
        ],
        ["PNG + HTML polyglot", concat(png, ascii("<html><script>alert(1)</script>")), "a.png", "image/png"],
        [
          "HTML that starts like a PDF later",
          concat(ascii("<html>"), SAMPLES.pdf(10)),
          "a.pdf",
          "application/pdf",
        ],
        ["PNG decompression bomb", bomb, "b.png", "image/png"],
        ["SVG as text", SAMPLES.svg(), "x.txt", "text/plain"],
        ["empty file", new Uint8Array(0), "e.pdf", "application/pdf"],
      ];
      for (const [what, bytes, name, type] of cases) {
        const form = new FormData();
        form.append("file", new File([bytes as Uint8Array<ArrayBuffer>], name, { type }));
        const before = await dataFingerprint();
        const status = await expectRefusedCleanly(
          `${route.key} ${what}`,
          await send(route, { body: form }),
          before,
        );
        expect(status, `${route.key} accepted ${what}`).toBeGreaterThanOrEqual(400);
      }
      // A CRLF in the file name never reaches a header: stored without it.
      const form = new FormData();
      form.append(
        "file",
        new File([SAMPLES.pdf(10)], "scan\r\nSet-Cookie: x=1.pdf", { type: "application/pdf" }),
      );
      const res = await send(route, { body: form });
      const text = await res.text();
      expect(res.status, text.slice(0, 200)).toBeLessThan(500);
      expect(text).not.toMatch(/\\r|\\n|\r|\n/);
    });
  }

  if (route.params.length > 0) {
    it("refuses traversal and non-UUID path parameters with a 4xx, never reaching another row", async () => {
      const body = route.hasBody ? (jsonSample ? JSON.stringify(sample) : (sample as FormData)) : undefined;
      for (const hostile of [
        "..",
        "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "..%252f..%252f",
        "1%20or%201%3D1",
        "not-a-uuid",
        "00000000-0000-4000-8000-00000000000g",
        `${"a".repeat(300)}`,
        "%00",
        "%E2%80%AE",
      ]) {
        for (const param of route.params) {
          const ids = { ...ownIds(route), [param]: hostile };
          const path = route.path.replace(
            /\{(\w+)\}/g,
            (_, name: string) => ids[name] ?? SAMPLE_PARAMS[name] ?? "",
          );
          const before = await dataFingerprint();
          const status = await expectRefusedCleanly(
            `${route.key} ${param}=${hostile}`,
            await send(route, { path, body }),
            before,
          );
          // 400/404 from the route; ".." is resolved by the URL parser first, so it may land on
          // another path entirely and be refused there (405, or 415 for a multipart body).
          const allowed = hostile === ".." ? [400, 404, 405, 415] : [400, 404];
          expect(allowed, `${route.key} ${param}=${hostile} -> ${status}`).toContain(status);
        }
      }
    });
  }

  it("ignores a hostile Host and X-Forwarded-Host, and never reflects them", async () => {
    const body = route.hasBody ? (jsonSample ? JSON.stringify(sample) : (sample as FormData)) : undefined;
    const res = await send(route, {
      body,
      headers: { Host: "evil.example", "X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "http" },
    });
    const text = await res.text();
    expect(res.status, text.slice(0, 200)).toBeLessThan(500);
    expect(text).not.toContain("evil.example");
    for (const [name, value] of res.headers) expect(`${name}: ${value}`).not.toContain("evil.example");
  });

  if (route.auth !== "public" && ["POST", "PUT", "PATCH", "DELETE"].includes(route.method)) {
    it("refuses a cookie call from a hostile Origin with 403, writing nothing", async () => {
      const body = route.hasBody ? (jsonSample ? JSON.stringify(sample) : (sample as FormData)) : undefined;
      const before = await dataFingerprint();
      for (const origin of ["https://evil.example", "null"]) {
        const headers: Record<string, string> = {
          ...(await freshSession()).headers,
          Origin: origin,
          "Sec-Fetch-Site": "cross-site",
          "CF-Connecting-IP": nextIp(),
        };
        // A multipart body sets its own Content-Type (with the boundary).
        if (body instanceof FormData) delete headers["Content-Type"];
        const res = await apps[route.fn].request(
          pathWith(route, ownIds(route)),
          { method: route.method, headers, body },
          h.env,
        );
        expect(await expectRefusedCleanly(`${route.key} Origin ${origin}`, res, before)).toBe(403);
      }
    });
  }
});
