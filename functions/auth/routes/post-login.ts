import { z } from "@hono/zod-openapi";
import { sessionIdForToken } from "../../../shared/auth/sessions/find-session";
import { sessionTimeoutsFor } from "../../../shared/auth/sessions/session-timeouts";
import { signInWithPassword } from "../../../shared/auth/sign-in/sign-in-with-password";
import { requireKeyRing } from "../../../shared/config/load-config";
import type { FunctionApp } from "../../../shared/http/create-app";
import { publicRoute } from "../../../shared/http/define-route";
import { HttpError } from "../../../shared/http/errors";
import { readSessionCookie } from "../../../shared/http/session-cookie";
import { errorResponse, issueSession, jsonContent, SignInResultSchema } from "./session-response";

const LoginBody = z
  .object({
    email: z.string().trim().min(3).max(320),
    // Up to 128 characters are accepted at sign-in as at enrolment (security-baseline).
    password: z.string().min(1).max(128),
  })
  .openapi("LoginRequest");

export const postLoginRoute = publicRoute({
  method: "post",
  path: "/auth/login",
  audit: { actions: ["user.login", "session.create"] },
  tags: ["auth"],
  summary: "Sign in with email and password (first factor)",
  description:
    "Answers the same way for an unknown email, a wrong password and a locked account. On success sets the __Host- session cookie; stage says whether a TOTP code or enrolment is needed next.",
  request: { body: { content: { "application/json": { schema: LoginBody } }, required: true } },
  responses: {
    200: jsonContent(SignInResultSchema, "First factor accepted"),
    401: errorResponse("Sign-in failed"),
    429: errorResponse("Too many attempts from this network"),
  },
});

export function registerPostLogin(app: FunctionApp) {
  app.openapi(postLoginRoute, async (c) => {
    const { email, password } = c.req.valid("json");
    const config = c.var.config;
    const previousSessionId = await sessionIdForToken(c.var.db, readSessionCookie(c), c.var.requestId);
    const result = await signInWithPassword(
      c.var.db,
      {
        email,
        password,
        strict: config.strict,
        now: new Date(),
        timeouts: sessionTimeoutsFor(config),
        pepperKeys: requireKeyRing(config, "PASSWORD_PEPPER_KEYS"),
        requestId: c.var.requestId,
        ip: c.var.clientIp,
        userAgent: c.req.header("User-Agent") ?? null,
        previousSessionId,
      },
      {
        auditKeys: requireKeyRing(config, "AUDIT_KEYS"),
        ip: c.var.clientIp,
        userAgent: c.req.header("User-Agent") ?? null,
        requestId: c.var.requestId,
      },
    );
    if (!result.ok) throw new HttpError("unauthorized", result.error.message);
    return c.json(await issueSession(c, result.value.session, result.value.stage), 200);
  });
}
