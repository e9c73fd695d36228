import { z } from "zod";
import { type AuditContext, recordAudit } from "../audit/audit-context";
import { ROLES, type Role } from "../auth/permissions";
import { revokeUserSessions } from "../auth/sessions/revoke-sessions";
import { err, ok, type Result } from "../core/result";
import type { Tx } from "../db/database";
import {
  hasNoControlCharacters,
  type InvalidFieldsError,
  invalidFields,
  NO_CONTROL_CHARACTERS_MESSAGE,
} from "./invalid-fields";
import { readUserRows, toUserView, USER_STATUSES, type UserStatus, type UserView } from "./user-view";

export const UpdateUserInput = z
  .strictObject({
    displayName: z
      .string()
      .trim()
      .min(1)
      .max(200)
      .refine(hasNoControlCharacters, NO_CONTROL_CHARACTERS_MESSAGE)
      .optional(),
    role: z.enum(ROLES).optional(),
    status: z.enum(USER_STATUSES).optional(),
  })
  .refine((v) => v.displayName !== undefined || v.role !== undefined || v.status !== undefined, {
    message: "give at least one of displayName, role, status",
  });
export type UpdateUserInput = z.input<typeof UpdateUserInput>;

export interface UpdatedUser {
  user: UserView;
  /** Sessions ended because the account was disabled or its role changed. */
  sessionsRevoked: number;
}

export type UpdateUserError =
  | InvalidFieldsError
  | { readonly code: "not_found" | "conflict"; readonly message: string };

const UUID = z.uuid();

/**
 * An administrator changes an account's display name, role and/or status.
 *
 *  - Disabling ends every live session of the user at once (reason user_disabled; ASVS
 *    7.4.2 "a disabled user's sessions all die"), audited user.disable.
 *  - A role change ends the user's sessions (reason role_change): permissions are read
 *    when a session is resolved, but a session opened under the old role must not carry
 *    on as if nothing happened (ASVS 7.2.4 new session on privilege change).
 *  - The tenant must keep at least one active admin: a change that would leave none (an
 *    admin demoting or disabling themselves as the last one, or a key doing it to them) is
 *    a conflict, otherwise nobody could manage the clinic any more.
 *
 * Audited in `tx`: user.update with the changed field names (never their values).
 */
export async function updateUser(
  tx: Tx,
  input: { userId: string; changes: UpdateUserInput; now: Date },
  audit: AuditContext,
): Promise<Result<UpdatedUser, UpdateUserError>> {
  const parsed = UpdateUserInput.safeParse(input.changes);
  if (!parsed.success) return err(invalidFields(parsed.error.issues));
  const changes = parsed.data;
  const notFound = err({ code: "not_found" as const, message: "No such user." });
  if (!UUID.safeParse(input.userId).success) return notFound;

  if (changes.role !== undefined || changes.status !== undefined) {
    // Lock the tenant's active admins first, always in id order, then the target: two
    // admins demoting each other at once queue here instead of deadlocking, and the
    // second re-reads the first's result (Postgres re-checks locked rows against WHERE).
    await tx`select id from medchr.users where role = 'admin' and status = 'active' order by id for update`;
  }
  const [current] = await tx<{ role: Role; status: UserStatus; display_name: string }[]>`
    select role, status, display_name from medchr.users where id = ${input.userId} for update`;
  if (!current) return notFound;

  const next = {
    role: changes.role ?? current.role,
    status: changes.status ?? current.status,
    displayName: changes.displayName ?? current.display_name,
  };
  const fields: ("display_name" | "role" | "status")[] = [];
  if (next.displayName !== current.display_name) fields.push("display_name");
  if (next.role !== current.role) fields.push("role");
  if (next.status !== current.status) fields.push("status");

  if (fields.length > 0) {
    const removesAnAdmin =
      current.role === "admin" &&
      current.status === "active" &&
      (next.role !== "admin" || next.status !== "active");
    if (removesAnAdmin) {
      const [others] = await tx<{ count: number }[]>`
        select count(*)::int as count from medchr.users
        where role = 'admin' and status = 'active' and id <> ${input.userId}`;
      if ((others?.count ?? 0) === 0) {
        return err({
          code: "conflict",
          message:
            "This is the clinic's last active administrator: make another user an administrator first.",
        });
      }
    }

    await tx`update medchr.users set display_name = ${next.displayName}, role = ${next.role},
      status = ${next.status} where id = ${input.userId}`;
    await recordAudit(tx, audit, {
      action: "user.update",
      outcome: "SUCCESS",
      resource: { type: "user", id: input.userId },
      details: fields.includes("role") ? { fields, role: next.role } : { fields },
    });
  }

  let sessionsRevoked = 0;
  if (fields.includes("status") && next.status === "disabled") {
    sessionsRevoked = await revokeUserSessions(
      tx,
      { userId: input.userId, reason: "user_disabled", now: input.now },
      audit,
    );
    await recordAudit(tx, audit, {
      action: "user.disable",
      outcome: "SUCCESS",
      resource: { type: "user", id: input.userId },
      details: { sessionsRevoked },
    });
  } else if (fields.includes("role")) {
    sessionsRevoked = await revokeUserSessions(
      tx,
      { userId: input.userId, reason: "role_change", now: input.now },
      audit,
    );
  }

  const [row] = await readUserRows(tx, { id: input.userId });
  return ok({ user: toUserView(row!), sessionsRevoked });
}
