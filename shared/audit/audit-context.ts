import type { KeyRing } from "../config/key-ring";
import type { Tx } from "../db/database";
import { appendAuditEvent } from "./append-audit-event";
import type { AuditEventInput } from "./audit-events";

/**
 * Where a domain action came from, for its audit events: the HTTP edge fills it from the
 * request (resolved client IP, User-Agent, request id), CLIs from their own name.
 */
export interface AuditContext {
  auditKeys: KeyRing;
  actor: AuditEventInput["actor"];
  ip: string | null;
  userAgent: string | null;
  requestId: string;
}

type EventBody = Omit<AuditEventInput, "actor" | "ip" | "userAgent" | "requestId"> & {
  actor?: AuditEventInput["actor"];
};

/** Append one event in `tx` with the context's actor, IP, User-Agent and request id. */
export function recordAudit(tx: Tx, context: AuditContext, event: EventBody) {
  return appendAuditEvent(tx, context.auditKeys, {
    actor: context.actor,
    ip: context.ip,
    userAgent: context.userAgent,
    requestId: context.requestId,
    ...event,
  } as AuditEventInput);
}
