import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { SessionStage } from "../../../shared/auth/principal";
import { deriveCsrfToken } from "../../../shared/auth/session-token";
import type { CreatedSession } from "../../../shared/auth/sessions/create-session";
import { requireKeyRing } from "../../../shared/config/load-config";
import type { AppEnv } from "../../../shared/http/context";
import { setSessionCookie } from "../../../shared/http/session-cookie";

export const SessionStageSchema = z.enum(["mfa_pending", "mfa_enrollment", "active"]);

export const SignInResultSchema = z
  .object({
    stage: SessionStageSchema,
    csrfToken: z.string().describe("Send back in X-CSRF-Token on every state-changing call."),
  })
  .openapi("SignInResult");

/** Sets the new session's cookie and answers its stage and anti-forgery token. */
export async function issueSession(c: Context<AppEnv>, session: CreatedSession, stage: SessionStage) {
  setSessionCookie(c, session.token, session.absoluteExpiresAt);
  const csrfToken = await deriveCsrfToken(requireKeyRing(c.var.config, "SESSION_KEYS"), session.tokenHash);
  return { stage, csrfToken };
}

export { ErrorSchema, errorResponse, jsonContent } from "../../../shared/http/openapi-responses";
