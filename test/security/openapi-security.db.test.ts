/**
 * The OpenAPI documents state how to authenticate (issue 13, scope 3): every scheme a client
 * needs is declared in components.securitySchemes, every operation names its requirement,
 * public operations say "none", and cookie calls that change state also need the CSRF header.
 * The last block authenticates exactly as a generated client would, from the document alone.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApiApp, OPENAPI_PATH } from "../../functions/api/app";
import { buildAuthApp } from "../../functions/auth/app";
import { AUTH_EXTENSION } from "../../shared/http/define-route";
import { SECURITY_SCHEMES } from "../../shared/http/openapi-security";
import { loadNodePdfFonts } from "../../shared/reports/node-pdf-fonts";
import { createApiKey } from "../helpers/identity";
import { createTenant, startTestDatabase, type TestDatabase } from "../helpers/test-database";
import { testEnv } from "../helpers/test-env";

type Requirement = Record<string, string[]>;
interface Operation {
  security?: Requirement[];
  [AUTH_EXTENSION]?: string;
}
interface OpenApiDocument {
  components?: {
    securitySchemes?: Record<string, { type: string; in?: string; name?: string; scheme?: string }>;
  };
  paths: Record<string, Record<string, Operation>>;
}

const apps = { api: buildApiApp({ reports: { pdfFonts: loadNodePdfFonts } }), auth: buildAuthApp() };

function documentOf(fn: keyof typeof apps): OpenApiDocument {
  return apps[fn].getOpenAPI31Document({
    openapi: "3.1.0",
    info: { title: fn, version: "test" },
  }) as unknown as OpenApiDocument;
}

const UNSAFE = new Set(["post", "put", "patch", "delete"]);

describe.each(["api", "auth"] as const)("the %s function's OpenAPI document", (fn) => {
  const doc = documentOf(fn);
  const operations = Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => ({ key: `${method.toUpperCase()} ${path}`, method, op })),
  );

  it("declares the API key (bearer and X-API-Key), session cookie and CSRF schemes", () => {
    expect(doc.components?.securitySchemes).toEqual(SECURITY_SCHEMES);
    expect(SECURITY_SCHEMES.apiKeyBearer).toMatchObject({ type: "http", scheme: "bearer" });
    expect(SECURITY_SCHEMES.apiKeyHeader).toMatchObject({ type: "apiKey", in: "header", name: "X-API-Key" });
    expect(SECURITY_SCHEMES.sessionCookie).toMatchObject({
      type: "apiKey",
      in: "cookie",
      name: "__Host-medchr_session",
    });
  });

  it("gives every operation a requirement that names only declared schemes", () => {
    expect(operations.length).toBeGreaterThan(0);
    const declared = new Set(Object.keys(doc.components?.securitySchemes ?? {}));
    for (const { key, op } of operations) {
      expect(op.security, key).toBeDefined();
      for (const requirement of op.security ?? []) {
        for (const scheme of Object.keys(requirement))
          expect(declared.has(scheme), `${key}: ${scheme}`).toBe(true);
      }
    }
  });

  it("says public operations need nothing and the others need credentials", () => {
    for (const { key, op } of operations) {
      if (op[AUTH_EXTENSION] === "public") expect(op.security, key).toEqual([]);
      else expect(op.security?.length, key).toBeGreaterThan(0);
    }
  });

  it("asks for the CSRF header with the cookie exactly on calls that change state", () => {
    for (const { key, method, op } of operations) {
      for (const requirement of op.security ?? []) {
        if (!("sessionCookie" in requirement)) continue;
        expect("csrfToken" in requirement, key).toBe(UNSAFE.has(method));
      }
    }
  });

  if (fn === "api") {
    it("lets partner API keys call every api operation in either declared form", () => {
      for (const { key, op } of operations) {
        if (op[AUTH_EXTENSION] === "public") continue;
        expect(op.security, key).toEqual(
          expect.arrayContaining([{ apiKeyBearer: [] }, { apiKeyHeader: [] }]),
        );
      }
    });
  }
});

describe("a client built from the document authenticates", () => {
  let database: TestDatabase;
  let env: Record<string, unknown>;
  let token: string;
  let served: OpenApiDocument;

  beforeAll(async () => {
    database = await startTestDatabase();
    env = testEnv(database.url);
    const tenant = await createTenant(database.owner, "openapi-security");
    token = (await createApiKey(database.owner, tenant, { scopes: ["read"] })).token;
    served = (await (await apps.api.request(OPENAPI_PATH, {}, env)).json()) as OpenApiDocument;
  });
  afterAll(async () => {
    await database?.stop();
  });

  const listPatients = (headers: Record<string, string>) =>
    apps.api.request("/api/v1/patients", { headers: { "CF-Connecting-IP": "192.0.2.10", ...headers } }, env);

  it("serves the schemes at the document's public path", () => {
    expect(served.components?.securitySchemes).toEqual(SECURITY_SCHEMES);
    expect(served.paths["/api/v1/patients"]?.get?.security).toBeDefined();
  });

  it("with the key in the header the document names", async () => {
    const scheme = served.components!.securitySchemes!.apiKeyHeader!;
    expect(scheme.in).toBe("header");
    expect((await listPatients({ [scheme.name!]: token })).status).toBe(200);
  });

  it("with the key as the bearer token the document names", async () => {
    const scheme = served.components!.securitySchemes!.apiKeyBearer!;
    expect(scheme.scheme).toBe("bearer");
    expect((await listPatients({ Authorization: `Bearer ${token}` })).status).toBe(200);
  });

  it("and is refused without credentials or with a wrong key", async () => {
    expect((await listPatients({})).status).toBe(401);
    expect((await listPatients({ "X-API-Key": `${token.slice(0, -4)}AAAA` })).status).toBe(401);
  });
});
