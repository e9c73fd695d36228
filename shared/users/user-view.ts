import type { Role } from "../auth/permissions";
import type { Tx } from "../db/database";
import { CURSOR_TIMESTAMP_FORMAT, type PageCursor } from "./page-cursor";

export const USER_STATUSES = ["active", "disabled"] as const;
export type UserStatus = (typeof USER_STATUSES)[number];

/**
 * What administrators see of an account. Deliberately a fixed column list: the password
 * hash and lockout counters never leave the database (ASVS 6.2.x, 14.2.x).
 */
export interface UserView {
  id: string;
  email: string;
  displayName: string;
  role: Role;
  status: UserStatus;
  mfaEnrolled: boolean;
  /** Set while the account is locked after failed sign-ins. */
  lockedUntil: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface UserRow {
  id: string;
  email: string;
  display_name: string;
  role: Role;
  status: UserStatus;
  mfa_enrolled: boolean;
  locked_until: Date | null;
  created_at: Date;
  updated_at: Date;
  cursor_created_at: string;
}

const iso = (value: Date | string) => new Date(value).toISOString();

export function toUserView(row: UserRow): UserView {
  return {
    id: row.id,
    email: row.email,
    displayName: row.display_name,
    role: row.role,
    status: row.status,
    mfaEnrolled: row.mfa_enrolled,
    lockedUntil: row.locked_until && new Date(row.locked_until) > new Date() ? iso(row.locked_until) : null,
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
  };
}

/**
 * Users of the transaction's tenant (RLS decides which rows exist): one by id, or a page
 * after a cursor. Every read of users for administrators goes through here, so the column
 * list above is the only one.
 */
export function readUserRows(
  tx: Tx,
  filter: { id: string } | { after: PageCursor | null; limit: number },
): Promise<UserRow[]> {
  const where =
    "id" in filter
      ? tx`where u.id = ${filter.id}`
      : filter.after
        ? tx`where (u.created_at, u.id) > (${filter.after.createdAt}::timestamptz, ${filter.after.id}::uuid)`
        : tx``;
  const limit = "id" in filter ? tx`` : tx`order by u.created_at, u.id limit ${filter.limit + 1}`;
  return tx<UserRow[]>`
    select u.id, u.email, u.display_name, u.role, u.status, u.locked_until, u.created_at, u.updated_at,
      exists (select 1 from medchr.mfa_factors f where f.user_id = u.id) as mfa_enrolled,
      to_char(u.created_at at time zone 'UTC', ${CURSOR_TIMESTAMP_FORMAT}) as cursor_created_at
    from medchr.users u ${where} ${limit}`;
}
