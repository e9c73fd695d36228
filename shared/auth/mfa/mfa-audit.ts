import { type AuditContext, recordAudit } from "../../audit/audit-context";
import type { AuditEventInput } from "../../audit/audit-events";
import type { Tx } from "../../db/database";

/**
 * The audit context of an MFA action. The actor defaults to the user whose factor it is;
 * pass one when someone else acts (an admin removing a user's factor).
 */
export type MfaAuditContext = Omit<AuditContext, "actor"> & { actor?: AuditContext["actor"] };

/** Omit per member of the union, so each action keeps its own `details` type. */
type MfaEvent = AuditEventInput extends infer E
  ? E extends AuditEventInput
    ? Omit<E, "actor" | "ip" | "userAgent" | "requestId" | "resource"> & { resource?: E["resource"] }
    : never
  : never;

/** Appends one event about `userId` (the resource, unless given) in the caller's transaction. */
export function recordMfaAudit(tx: Tx, context: MfaAuditContext, userId: string, event: MfaEvent) {
  return recordAudit(tx, { ...context, actor: context.actor ?? { type: "user", id: userId } }, {
    resource: { type: "user", id: userId },
    ...event,
  } as Parameters<typeof recordAudit>[2]);
}
