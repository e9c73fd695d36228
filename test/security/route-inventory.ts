/**
 * Every route of the api and auth functions, read from their OpenAPI registrations (the
 * route table is the source of truth: a new route is found by being registered). Shared by
 * the security suite, the fuzz suite and the audit coverage guard.
 */
import { buildApiApp } from "../../functions/api/app";
import { buildAuthApp } from "../../functions/auth/app";
import type { Permission } from "../../shared/auth/permissions";
import type { SessionStage } from "../../shared/auth/principal";
import { AUTH_EXTENSION, PERMISSION_EXTENSION, STAGES_EXTENSION } from "../../shared/http/define-route";
import { loadNodePdfFonts } from "../../shared/reports/node-pdf-fonts";
import { SAMPLE_PARAMS, SAMPLE_QUERIES } from "./route-cases";

export interface RouteUnderTest {
  key: string;
  fn: "api" | "auth";
  method: string;
  path: string;
  auth: string | undefined;
  permission: Permission | undefined;
  stages: SessionStage[];
  hasBody: boolean;
  params: string[];
  /** The route's definition as registered (zod schemas, extensions). */
  definition: Record<string, unknown>;
}

export type InventoryApps = { api: ReturnType<typeof buildApiApp>; auth: ReturnType<typeof buildAuthApp> };

export function buildInventoryApps(): InventoryApps {
  return { api: buildApiApp({ reports: { pdfFonts: loadNodePdfFonts } }), auth: buildAuthApp() };
}

export function routesOf(apps: InventoryApps, fn: "api" | "auth"): RouteUnderTest[] {
  const out: RouteUnderTest[] = [];
  for (const def of apps[fn].openAPIRegistry.definitions) {
    if (def.type !== "route") continue;
    const route = def.route as unknown as Record<string, unknown> & {
      method: string;
      path: string;
      request?: { body?: unknown };
    };
    const method = route.method.toUpperCase();
    out.push({
      key: `${method} ${route.path}`,
      fn,
      method,
      path: route.path,
      auth: route[AUTH_EXTENSION] as string | undefined,
      permission: route[PERMISSION_EXTENSION] as Permission | undefined,
      stages: (route[STAGES_EXTENSION] as SessionStage[] | undefined) ?? ["active"],
      hasBody: route.request?.body !== undefined,
      params: [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!),
      definition: route,
    });
  }
  return out;
}

export function allRoutes(apps: InventoryApps): RouteUnderTest[] {
  return [...routesOf(apps, "api"), ...routesOf(apps, "auth")];
}

/** Fills path parameters from `ids` (a placeholder uuid for any not given). */
export function pathWith(route: RouteUnderTest, ids: Record<string, string>): string {
  const path = route.path.replace(
    /\{(\w+)\}/g,
    (_, name: string) => ids[name] ?? SAMPLE_PARAMS[name] ?? "00000000-0000-4000-8000-000000000000",
  );
  const query = SAMPLE_QUERIES[route.key];
  return query ? `${path}?${new URLSearchParams(query)}` : path;
}
