import { createFunctionApp } from "../../shared/http/create-app";
import { limitByClientIp } from "../../shared/http/middleware/rate-limit";
import { registerHealth } from "../../shared/http/routes/health";
import { registerGetSession } from "./routes/get-session";
import { registerMfaRoutes } from "./routes/mfa";
import { registerMySessions } from "./routes/my-sessions";
import { registerPostChangePassword } from "./routes/post-change-password";
import { registerPostLogin } from "./routes/post-login";
import { registerPostLogout } from "./routes/post-logout";
import { registerSsoRoutes } from "./routes/sso";

/**
 * Per client IP, per minute, on every state-changing /auth call (login, codes, password):
 * 30 leaves room for a clinic behind one NAT signing in at the start of a shift, while a
 * guesser gets 30 tries a minute across all accounts (security-baseline "failed logins").
 */
export const AUTH_IP_LIMIT_PER_MINUTE = 30;

/** The auth function: sign-in, sessions, MFA, SSO. Routes only; the logic is in shared/auth. */
export function buildAuthApp() {
  const app = createFunctionApp("auth", { usesDatabase: true });
  registerHealth(app, "auth", "/auth/health");
  app.use(
    "/auth/*",
    limitByClientIp({ namespace: "auth-ip", limit: AUTH_IP_LIMIT_PER_MINUTE, windowMs: 60_000 }),
  );
  app.use(
    "/ui/sso/*",
    limitByClientIp({ namespace: "auth-ip", limit: AUTH_IP_LIMIT_PER_MINUTE, windowMs: 60_000 }),
  );
  registerPostLogin(app);
  registerPostLogout(app);
  registerGetSession(app);
  registerMySessions(app);
  registerPostChangePassword(app);
  registerMfaRoutes(app);
  registerSsoRoutes(app);
  return app;
}

export const authApp = buildAuthApp();
