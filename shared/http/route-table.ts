import type { FunctionName } from "../config/functions";

/**
 * Which function serves which path: the production routes in wrangler.toml and the
 * local dev router both follow this table (test/wrangler-routes.test.ts keeps them in
 * step). Order matters: the first match wins, the web UI catches the rest.
 */
export const ROUTE_TABLE: ReadonlyArray<{ pattern: string; function: FunctionName }> = [
  { pattern: "/auth/*", function: "auth" },
  { pattern: "/ui/sso/*", function: "auth" },
  { pattern: "/api/*", function: "api" },
  { pattern: "/patients*", function: "api" },
  { pattern: "/documents*", function: "api" },
  { pattern: "/jobs/*", function: "api" },
  { pattern: "/chr/*", function: "api" },
  // Shared reports' patient pages (no sign-in; the token is the credential).
  { pattern: "/share/*", function: "api" },
  { pattern: "/health", function: "api" },
  { pattern: "/ready", function: "api" },
  // Only liveness is public: /storage/internal/* is reached through the STORAGE binding.
  { pattern: "/storage/health", function: "storage" },
  { pattern: "/pipeline/*", function: "pipeline" },
  { pattern: "/*", function: "web" },
];

/** Cloudflare route semantics: `*` matches any run of characters, everything else is literal. */
export function routeMatches(pattern: string, path: string): boolean {
  const source = pattern
    .split("*")
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
    .join(".*");
  return new RegExp(`^${source}$`).test(path);
}

export function functionForPath(path: string): FunctionName {
  for (const route of ROUTE_TABLE) if (routeMatches(route.pattern, path)) return route.function;
  return "web";
}
