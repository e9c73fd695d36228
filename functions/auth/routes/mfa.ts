import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { recordAudit } from "../../../shared/audit/audit-context";
import {
  confirmMfaSetup,
  regenerateRecoveryCodes,
  startMfaSetup,
  type VerifyMfaCodeError,
  verifyMfaCode,
} from "../../../shared/auth/mfa";
import { verifyPassword } from "../../../shared/auth/password-hash";
import type { SessionPrincipal } from "../../../shared/auth/principal";
import { rotateSession } from "../../../shared/auth/sessions/rotate-session";
import { sessionTimeoutsFor } from "../../../shared/auth/sessions/session-timeouts";
import { requireKeyRing } from "../../../shared/config/load-config";
import type { DomainError } from "../../../shared/core/result";
import type { Tx } from "../../../shared/db/database";
import { auditContextOf } from "../../../shared/http/audit-context";
import type { AppEnv } from "../../../shared/http/context";
import type { FunctionApp } from "../../../shared/http/create-app";
import { sessionRoute } from "../../../shared/http/define-route";
import { HttpError, toHttpError } from "../../../shared/http/errors";
import { tenantScopeOf } from "../../../shared/http/tenant-scope";
import { errorResponse, issueSession, jsonContent, SignInResultSchema } from "./session-response";

/**
 * TOTP routes (security-baseline "TOTP", "MFA changes", "step-up"). Every verification
 * commits its transaction whatever the result, so failure counts and audit rows persist
 * (verifyMfaCode's contract); errors become HTTP only after the commit.
 */

const CodeField = z.string().min(1).max(100).describe("6-digit TOTP code or a recovery code");

const SetupBody = z
  .object({
    password: z.string().min(1).max(128).optional(),
    code: CodeField.optional().describe("A current code instead of the password (replacing a factor)"),
  })
  .openapi("MfaSetupRequest");
const SetupResult = z
  .object({ setupToken: z.string(), secret: z.string(), otpauthUri: z.string(), expiresAt: z.string() })
  .openapi("MfaSetup");
const ConfirmBody = z
  .object({ setupToken: z.string().min(1).max(200), code: CodeField })
  .openapi("MfaConfirmRequest");
const CodeBody = z.object({ code: CodeField }).openapi("MfaCodeRequest");
const RecoveryCodes = z.array(z.string()).length(10);

const codeErrors = {
  401: errorResponse("Wrong or replayed code"),
  403: errorResponse("Anti-forgery check failed"),
  429: errorResponse("Too many failed codes: locked for 5 minutes"),
} as const;

export const postMfaSetupRoute = sessionRoute({
  method: "post",
  path: "/auth/mfa/setup",
  audit: { none: "starts an enrolment (a short-lived setup token); the enrolment is audited on confirm" },
  tags: ["mfa"],
  summary: "Start TOTP enrolment or replacement (password, or a current code, required)",
  stages: ["mfa_enrollment", "active"],
  request: { body: { content: { "application/json": { schema: SetupBody } }, required: true } },
  responses: { 200: jsonContent(SetupResult, "Secret to add to an authenticator app"), ...codeErrors },
});

export const postMfaSetupConfirmRoute = sessionRoute({
  method: "post",
  path: "/auth/mfa/setup/confirm",
  audit: { actions: ["mfa.enroll", "mfa.recovery_codes_generate", "user.login", "session.create"] },
  tags: ["mfa"],
  summary: "Confirm enrolment with a code from the new secret; returns 10 recovery codes once",
  stages: ["mfa_enrollment", "active"],
  request: { body: { content: { "application/json": { schema: ConfirmBody } }, required: true } },
  responses: {
    200: jsonContent(
      SignInResultSchema.extend({ recoveryCodes: RecoveryCodes }),
      "Enrolled; session rotated",
    ),
    ...codeErrors,
  },
});

export const postMfaVerifyRoute = sessionRoute({
  method: "post",
  path: "/auth/mfa/verify",
  audit: { actions: ["mfa.verify", "user.login", "session.create"] },
  tags: ["mfa"],
  summary: "Second sign-in step: a TOTP or recovery code completes the sign-in",
  stages: ["mfa_pending"],
  request: { body: { content: { "application/json": { schema: CodeBody } }, required: true } },
  responses: { 200: jsonContent(SignInResultSchema, "Signed in; session rotated"), ...codeErrors },
});

export const postMfaStepUpRoute = sessionRoute({
  method: "post",
  path: "/auth/mfa/step-up",
  audit: { actions: ["mfa.verify"] },
  tags: ["mfa"],
  summary: "Fresh MFA for sensitive actions (finalize, share, export, keys, users, policy)",
  request: { body: { content: { "application/json": { schema: CodeBody } }, required: true } },
  responses: {
    200: jsonContent(
      SignInResultSchema.extend({ stepUpValidUntil: z.string() }),
      "Verified; session rotated",
    ),
    ...codeErrors,
  },
});

export const postRecoveryCodesRoute = sessionRoute({
  method: "post",
  path: "/auth/mfa/recovery-codes",
  audit: { actions: ["mfa.recovery_codes_generate", "mfa.verify"] },
  tags: ["mfa"],
  summary: "Replace my recovery codes (a current code required)",
  request: { body: { content: { "application/json": { schema: CodeBody } }, required: true } },
  responses: {
    200: jsonContent(
      SignInResultSchema.extend({ recoveryCodes: RecoveryCodes }),
      "New codes; session rotated",
    ),
    ...codeErrors,
  },
});

function sessionOf(c: Context<AppEnv>): SessionPrincipal {
  const principal = c.var.principal;
  if (principal.kind !== "session") throw new Error("session route without a session");
  return principal;
}

function mfaKeys(c: Context<AppEnv>) {
  return {
    mfaKeys: requireKeyRing(c.var.config, "MFA_ENCRYPTION_KEYS"),
    recoveryCodeKeys: requireKeyRing(c.var.config, "PASSWORD_PEPPER_KEYS"),
  };
}

function codeError(error: VerifyMfaCodeError | DomainError): HttpError {
  if (error.code === "rate_limited") {
    const retryAfter = "retryAfterSeconds" in error ? error.retryAfterSeconds : undefined;
    return new HttpError(
      "rate_limited",
      error.message,
      undefined,
      retryAfter ? { "Retry-After": String(retryAfter) } : undefined,
    );
  }
  if (error.code === "unauthorized") return new HttpError("unauthorized", error.message);
  if (error.code === "unavailable")
    return new HttpError("unavailable", "Two-factor verification is unavailable.");
  return toHttpError(error as DomainError);
}

/** New token, MFA time now: at MFA completion and step-up (ASVS 7.2.4). */
function rotateAfterMfa(c: Context<AppEnv>, tx: Tx, session: SessionPrincipal, now: Date) {
  return rotateSession(
    tx,
    {
      session,
      stage: "active",
      mfaVerifiedAt: now,
      now,
      timeouts: sessionTimeoutsFor(c.var.config),
      ip: c.var.clientIp,
      userAgent: c.req.header("User-Agent") ?? null,
    },
    auditContextOf(c),
  );
}

async function recordLogin(c: Context<AppEnv>, tx: Tx, session: SessionPrincipal) {
  await recordAudit(tx, auditContextOf(c), {
    action: "user.login",
    outcome: "SUCCESS",
    resource: { type: "user", id: session.userId },
    details: { method: session.method, mfa: true },
  });
}

function unwrap<T, E extends VerifyMfaCodeError | DomainError>(
  result: { ok: true; value: T } | { ok: false; error: E },
  toError: (e: E) => HttpError,
): T {
  if (!result.ok) throw toError(result.error);
  return result.value;
}

export function registerMfaRoutes(app: FunctionApp) {
  app.openapi(postMfaSetupRoute, async (c) => {
    const session = sessionOf(c);
    const body = c.req.valid("json");
    const now = new Date();
    const keys = mfaKeys(c);
    const result = await c.var.db.withTenant(tenantScopeOf(c), async (tx) => {
      const [user] = await tx<{ password_hash: string | null; enrolled: boolean }[]>`
        select password_hash, exists (select 1 from medchr.mfa_factors where user_id = u.id) as enrolled
        from medchr.users u where id = ${session.userId}`;
      // ASVS 7.5.1: re-authenticate before enrolling or replacing a factor. An SSO user
      // with no password, enrolling for the first time, has just authenticated at the IdP.
      let proven = false;
      if (body.password !== undefined) {
        proven = await verifyPassword(
          body.password,
          user?.password_hash ?? null,
          requireKeyRing(c.var.config, "PASSWORD_PEPPER_KEYS"),
        );
      } else if (body.code !== undefined && user?.enrolled) {
        const verified = await verifyMfaCode(
          tx,
          { tenantId: session.tenantId, userId: session.userId, code: body.code, flow: "step_up", now },
          keys,
          auditContextOf(c),
        );
        if (!verified.ok) return verified;
        proven = true;
      } else if (!user?.password_hash && !user?.enrolled && session.method === "sso") {
        proven = true;
      }
      if (!proven) {
        await recordAudit(tx, auditContextOf(c), {
          action: "user.login_failed",
          outcome: "DENIED",
          resource: { type: "user", id: session.userId },
          details: { method: "password", reason: "bad_password" },
        });
        return {
          ok: false as const,
          error: { code: "unauthorized" as const, message: "The password is not correct." },
        };
      }
      return startMfaSetup(tx, { tenantId: session.tenantId, userId: session.userId, now }, keys.mfaKeys);
    });
    const started = unwrap(result, codeError);
    return c.json(
      {
        setupToken: started.setupToken,
        secret: started.secret,
        otpauthUri: started.otpauthUri,
        expiresAt: started.expiresAt.toISOString(),
      },
      200,
    );
  });

  app.openapi(postMfaSetupConfirmRoute, async (c) => {
    const session = sessionOf(c);
    const body = c.req.valid("json");
    const now = new Date();
    const result = await c.var.db.withTenant(tenantScopeOf(c), async (tx) => {
      const confirmed = await confirmMfaSetup(
        tx,
        {
          tenantId: session.tenantId,
          userId: session.userId,
          setupToken: body.setupToken,
          code: body.code,
          now,
        },
        mfaKeys(c),
        auditContextOf(c),
      );
      if (!confirmed.ok) return confirmed;
      const rotated = await rotateAfterMfa(c, tx, session, now);
      if (session.stage !== "active") await recordLogin(c, tx, session);
      return { ok: true as const, value: { rotated, recoveryCodes: confirmed.value.recoveryCodes } };
    });
    const { rotated, recoveryCodes } = unwrap(result, codeError);
    return c.json({ ...(await issueSession(c, rotated, "active")), recoveryCodes }, 200);
  });

  const verifyAndRotate = async (c: Context<AppEnv>, code: string, flow: "login" | "step_up") => {
    const session = sessionOf(c);
    const now = new Date();
    const result = await c.var.db.withTenant(tenantScopeOf(c), async (tx) => {
      const verified = await verifyMfaCode(
        tx,
        { tenantId: session.tenantId, userId: session.userId, code, flow, now },
        mfaKeys(c),
        auditContextOf(c),
      );
      if (!verified.ok) return verified;
      const rotated = await rotateAfterMfa(c, tx, session, now);
      if (flow === "login") await recordLogin(c, tx, session);
      return { ok: true as const, value: rotated };
    });
    return { session, now, rotated: unwrap(result, codeError) };
  };

  app.openapi(postMfaVerifyRoute, async (c) => {
    const { rotated } = await verifyAndRotate(c, c.req.valid("json").code, "login");
    return c.json(await issueSession(c, rotated, "active"), 200);
  });

  app.openapi(postMfaStepUpRoute, async (c) => {
    const { session, now, rotated } = await verifyAndRotate(c, c.req.valid("json").code, "step_up");
    const windowMinutes = Math.min(c.var.config.stepUpWindowMinutes, session.stepUpWindowMinutes);
    return c.json(
      {
        ...(await issueSession(c, rotated, "active")),
        stepUpValidUntil: new Date(now.getTime() + windowMinutes * 60_000).toISOString(),
      },
      200,
    );
  });

  app.openapi(postRecoveryCodesRoute, async (c) => {
    const session = sessionOf(c);
    const now = new Date();
    const code = c.req.valid("json").code;
    const result = await c.var.db.withTenant(tenantScopeOf(c), async (tx) => {
      const keys = mfaKeys(c);
      const verified = await verifyMfaCode(
        tx,
        { tenantId: session.tenantId, userId: session.userId, code, flow: "step_up", now },
        keys,
        auditContextOf(c),
      );
      if (!verified.ok) return verified;
      const codes = await regenerateRecoveryCodes(
        tx,
        { tenantId: session.tenantId, userId: session.userId, now },
        keys.recoveryCodeKeys,
        auditContextOf(c),
      );
      if (!codes.ok) return codes;
      const rotated = await rotateAfterMfa(c, tx, session, now);
      return { ok: true as const, value: { rotated, recoveryCodes: codes.value.recoveryCodes } };
    });
    const { rotated, recoveryCodes } = unwrap(result, codeError);
    return c.json({ ...(await issueSession(c, rotated, "active")), recoveryCodes }, 200);
  });
}
