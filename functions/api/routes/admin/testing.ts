/**
 * Test kit for the admin API's *.db.test.ts files (not shipped: only tests import it).
 * Builds the api function the way app.ts does, plus one extra protectedRoute that any
 * clinician or read-scoped key may call, so tests can watch a credential live and die.
 */
import { z } from "@hono/zod-openapi";
import type { Sql } from "../../../../shared/db/database";
import { createFunctionApp } from "../../../../shared/http/create-app";
import { protectedRoute } from "../../../../shared/http/define-route";
import { createUser, signIn, type TestSession, type TestUser } from "../../../../test/helpers/identity";
import { createTenant, startTestDatabase, type TestDatabase } from "../../../../test/helpers/test-database";
import { testEnv } from "../../../../test/helpers/test-env";
import { registerAdminRoutes } from "./index";

export const PROBE_PATH = "/api/v1/test/probe";

export function buildAdminTestApp() {
  const app = createFunctionApp("api", { usesDatabase: true });
  registerAdminRoutes(app);
  app.openapi(
    protectedRoute({
      method: "get",
      path: PROBE_PATH,
      permission: "patient.read",
      audit: { none: "test probe: reports who called, reads no patient data" },
      responses: {
        200: {
          description: "Who called",
          content: { "application/json": { schema: z.object({ kind: z.string(), tenantId: z.string() }) } },
        },
      },
    }),
    (c) => c.json({ kind: c.var.principal.kind, tenantId: c.var.principal.tenantId }, 200),
  );
  return app;
}

export type AdminTestApp = ReturnType<typeof buildAdminTestApp>;

export interface AdminHarness {
  database: TestDatabase;
  /** The api function's env (non-strict test config) on this database. */
  env: Record<string, unknown>;
  /** The admin's clinic, and another one that must never see or be touched by its calls. */
  tenantA: string;
  tenantB: string;
  /** An admin of tenant A, signed in. */
  admin: TestUser;
  session: TestSession;
  stop(): Promise<void>;
}

/** A fresh database with two clinics, `<slug>-a` and `<slug>-b`, and a signed-in admin of the first. */
export async function startAdminHarness(slug: string): Promise<AdminHarness> {
  const database = await startTestDatabase();
  try {
    const tenantA = await createTenant(database.owner, `${slug}-a`);
    const tenantB = await createTenant(database.owner, `${slug}-b`);
    const admin = await createUser(database.owner, tenantA, { role: "admin" });
    const session = await signIn(database.db, admin);
    return {
      database,
      env: testEnv(database.url),
      tenantA,
      tenantB,
      admin,
      session,
      stop: () => database.stop(),
    };
  } catch (error) {
    await database.stop();
    throw error;
  }
}

// biome-ignore lint/suspicious/noExplicitAny: response bodies are checked field by field
export type Body = Record<string, any>;

export const json = async (res: Response) => (await res.json()) as Body;

/** The field names of a 400 invalid_fields answer, in order. */
export const fieldsOf = (body: Body) =>
  (body.error.details.fields as { field: string }[]).map((f) => f.field);

export interface Call {
  method?: string;
  headers?: Record<string, string>;
  body?: unknown;
  /** The peer address (CF-Connecting-IP); default 198.51.100.1. */
  ip?: string;
}

export function makeCaller(app: AdminTestApp, env: () => Record<string, unknown>) {
  return (path: string, call: Call = {}) => {
    const method = call.method ?? "GET";
    const headers: Record<string, string> = {
      "CF-Connecting-IP": call.ip ?? "198.51.100.1",
      ...call.headers,
    };
    const hasBody = call.body !== undefined;
    if (hasBody) headers["Content-Type"] ??= "application/json";
    return app.request(
      path,
      { method, headers, ...(hasBody ? { body: JSON.stringify(call.body) } : {}) },
      env(),
    );
  };
}

export interface AuditRow {
  action: string;
  outcome: string;
  actor_type: string;
  actor_id: string | null;
  resource_type: string;
  resource_id: string | null;
  ip: string | null;
  details: Record<string, unknown>;
}

export async function auditRows(
  owner: Sql,
  tenantId: string,
  filter: { action?: string; resourceId?: string } = {},
): Promise<AuditRow[]> {
  return owner<AuditRow[]>`
    select action, outcome, actor_type, actor_id, resource_type, resource_id, ip, details
    from medchr.audit_events where tenant_id = ${tenantId}
      ${filter.action ? owner`and action = ${filter.action}` : owner``}
      ${filter.resourceId ? owner`and resource_id = ${filter.resourceId}` : owner``}
    order by seq`;
}

export async function auditCount(owner: Sql, tenantId: string): Promise<number> {
  const [row] = await owner<{ n: number }[]>`
    select count(*)::int as n from medchr.audit_events where tenant_id = ${tenantId}`;
  return row!.n;
}
