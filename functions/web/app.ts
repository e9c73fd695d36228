import { Hono } from "hono";
import { createFunctionApp } from "../../shared/http/create-app";
import { registerHealth } from "../../shared/http/routes/health";

/**
 * CSP for the clinician UI: scripts and styles only from our own origin, no inline
 * script (ASVS 3.4.3), nothing may frame us (clickjacking, ASVS 3.4.6). connect-src adds
 * exactly one other origin when the deployment has one: Supabase Storage, because the
 * browser PUTs documents straight to its signed upload URLs (the bytes never pass through
 * the API). Nothing else may be fetched from anywhere.
 */
export function buildUiCsp(storageOrigin: string | null): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    storageOrigin ? `connect-src 'self' ${storageOrigin}` : "connect-src 'self'",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; ");
}

/** The policy of a deployment without object storage. */
export const UI_CSP = buildUiCsp(null);

/** Loopback hosts: the local stack's storage stand-in is plain http there, and only there. */
const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]"]);

/**
 * The origin the browser uploads to: that of SUPABASE_URL (signed upload URLs are built on
 * it). https only, except on loopback; anything else is left out of the CSP rather than
 * widening it (a plain-http origin would let an on-path attacker read uploads). Only the
 * origin: a path or credentials in the setting must not end up in a header.
 */
export function storageOriginOf(env: Readonly<Record<string, unknown>>): string | null {
  const raw = env.SUPABASE_URL;
  if (typeof raw !== "string" || raw === "") return null;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return null;
  }
  if (url.protocol === "https:") return url.origin;
  if (url.protocol === "http:" && LOOPBACK_HOSTS.has(url.hostname)) return url.origin;
  return null;
}

interface AssetsBinding {
  fetch(request: Request): Promise<Response>;
}

/** The UI behind the shared plumbing, with a given CSP (the shared security headers set it). */
function buildUiApp(contentSecurityPolicy: string) {
  // The static UI holds no PHI; it may be cached but must be revalidated so a deploy shows at once.
  const app = createFunctionApp("web", { contentSecurityPolicy, cacheControl: "no-cache" });
  registerHealth(app, "web", "/web/health");
  app.on(["GET", "HEAD"], "/*", async (c) => {
    const assets = (c.env as { ASSETS?: AssetsBinding }).ASSETS;
    if (!assets) return c.text("UI assets are not bound", 503);
    const response = await assets.fetch(c.req.raw);
    // Re-wrap so the shared middleware can set headers on an immutable asset response.
    return new Response(response.body, response);
  });
  return app;
}

type UiApp = ReturnType<typeof buildUiApp>;

/**
 * The web function: the static UI (Workers static assets) behind the shared headers. The CSP
 * depends on the deployment's settings, and the shared security headers take a fixed policy,
 * so one UI app is built per environment object (stable for an isolate's life, like the
 * config cache in app-config) and every request goes to it.
 */
export function buildWebApp() {
  const apps = new WeakMap<object, UiApp>();
  const appFor = (env: Record<string, unknown>): UiApp => {
    let app = apps.get(env);
    if (!app) {
      app = buildUiApp(buildUiCsp(storageOriginOf(env)));
      apps.set(env, app);
    }
    return app;
  };
  const web = new Hono();
  web.all("*", (c) => {
    const env = (c.env ?? {}) as Record<string, unknown>;
    let executionCtx: ExecutionContext | undefined;
    try {
      executionCtx = c.executionCtx;
    } catch {
      // app.request() in tests has none; the UI routes never need one.
    }
    return appFor(env).fetch(c.req.raw, env, executionCtx);
  });
  return web;
}

export const webApp = buildWebApp();
