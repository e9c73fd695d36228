import type { Context } from "hono";
import type { AuditContext } from "../audit/audit-context";
import type { AuditEventInput } from "../audit/audit-events";
import { auditActorOf } from "../auth/principal";
import { requireKeyRing } from "../config/load-config";
import type { AppEnv } from "./context";

/** The audit context of this request: resolved client IP, User-Agent, request id, and the actor. */
export function auditContextOf(c: Context<AppEnv>, actor?: AuditEventInput["actor"]): AuditContext {
  const principal = c.get("principal") as AppEnv["Variables"]["principal"] | undefined;
  return {
    auditKeys: requireKeyRing(c.var.config, "AUDIT_KEYS"),
    actor: actor ?? (principal ? auditActorOf(principal) : { type: "anonymous" }),
    ip: c.get("clientIp") ?? null,
    userAgent: c.req.header("User-Agent") ?? null,
    requestId: c.var.requestId,
  };
}
