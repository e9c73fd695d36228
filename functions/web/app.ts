import { createFunctionApp } from "../../shared/http/create-app";
import { registerHealth } from "../../shared/http/routes/health";

/**
 * CSP for the clinician UI: scripts and styles only from our own origin, no inline
 * script (ASVS 3.4.3), nothing may frame us (clickjacking, ASVS 3.4.6).
 */
export const UI_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

interface AssetsBinding {
  fetch(request: Request): Promise<Response>;
}

/** The web function: the static UI (Workers static assets) behind the shared headers. */
export function buildWebApp() {
  // The static UI holds no PHI; it may be cached but must be revalidated so a deploy shows at once.
  const app = createFunctionApp("web", { contentSecurityPolicy: UI_CSP, cacheControl: "no-cache" });
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

export const webApp = buildWebApp();
