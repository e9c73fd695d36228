import type { AuditContext } from "../../audit/audit-context";
import { recordAudit } from "../../audit/audit-context";
import type { KeyRing } from "../../config/key-ring";
import { err, ok, type Result } from "../../core/result";
import type { Database } from "../../db/database";
import { hashPassword, passwordNeedsRehash, verifyPassword } from "../password-hash";
import type { SessionTimeouts } from "../sessions/session-timeouts";
import { beginSignIn, type SignInStarted } from "./begin-sign-in";

/**
 * Per-account lockout (security-baseline "failed logins", ASVS 6.3.1 / NIST 800-63B
 * 5.2.2): 10 failures within 15 minutes lock the account for 15 minutes. The window and
 * the lock are both in the users row, so they hold across isolates and restarts.
 */
export const MAX_PASSWORD_FAILURES = 10;
export const PASSWORD_FAILURE_WINDOW_MS = 15 * 60_000;
export const PASSWORD_LOCKOUT_MS = 15 * 60_000;

/**
 * One message for every failure (unknown email, wrong password, locked, disabled): the
 * answer must not tell an attacker which accounts exist (ASVS 6.3.8).
 */
export const SIGN_IN_FAILED_MESSAGE =
  "Sign-in failed. Check your email and password; after repeated failures sign-in is paused for 15 minutes.";

export interface SignInWithPasswordInput {
  email: string;
  password: string;
  strict: boolean;
  now: Date;
  timeouts: SessionTimeouts;
  pepperKeys: KeyRing;
  requestId: string;
  ip: string | null;
  userAgent: string | null;
  previousSessionId?: string | null;
}

interface AccountRow {
  user_id: string;
  tenant_id: string;
  password_hash: string | null;
  user_status: string;
  tenant_status: string;
  locked_until: Date | null;
}

/**
 * Email + password, first factor. The bcrypt comparison always runs (a dummy one for an
 * unknown email), so timing does not reveal whether the account exists. Failures are
 * counted and audited in the account's tenant; an unknown email has no tenant and is
 * only rate limited (by IP and by email hash, at the route).
 */
export async function signInWithPassword(
  db: Database,
  input: SignInWithPasswordInput,
  audit: Omit<AuditContext, "actor">,
): Promise<
  Result<SignInStarted & { tenantId: string; userId: string }, { code: "unauthorized"; message: string }>
> {
  const failed = err({ code: "unauthorized" as const, message: SIGN_IN_FAILED_MESSAGE });
  const [account] = await db.withoutTenant(
    { requestId: input.requestId },
    (tx) => tx<AccountRow[]>`select * from medchr.find_login_account(${input.email.trim().toLowerCase()})`,
  );
  const passwordOk = await verifyPassword(input.password, account?.password_hash ?? null, input.pepperKeys);
  if (!account) return failed;

  const { user_id: userId, tenant_id: tenantId } = account;
  const context: AuditContext = { ...audit, actor: { type: "user", id: userId } };
  const now = input.now;
  const rehash =
    passwordOk && account.password_hash && passwordNeedsRehash(account.password_hash, input.pepperKeys)
      ? await hashPassword(input.password, input.pepperKeys)
      : null;

  return db.withTenant({ tenantId, actorId: userId, requestId: input.requestId }, async (tx) => {
    const loginFailed = (reason: "bad_password" | "account_locked" | "account_disabled") =>
      recordAudit(tx, context, {
        action: "user.login_failed",
        outcome: "DENIED",
        resource: { type: "user", id: userId },
        details: { method: "password", reason },
      });
    if (account.user_status !== "active" || account.tenant_status !== "active") {
      await loginFailed("account_disabled");
      return failed;
    }
    // Re-read under a row lock: concurrent failures must not lose counts.
    const [user] = await tx<
      { failed_login_count: number; failed_login_window_started_at: Date | null; locked_until: Date | null }[]
    >`select failed_login_count, failed_login_window_started_at, locked_until from medchr.users
      where id = ${userId} for update`;
    if (!user) return failed;
    const lockedUntil = user.locked_until ? new Date(user.locked_until) : null;
    if (lockedUntil && lockedUntil > now) {
      await loginFailed("account_locked");
      return failed;
    }
    if (!passwordOk) {
      const windowStart = user.failed_login_window_started_at
        ? new Date(user.failed_login_window_started_at)
        : null;
      const inWindow =
        windowStart !== null && now.getTime() - windowStart.getTime() < PASSWORD_FAILURE_WINDOW_MS;
      const failures = inWindow ? user.failed_login_count + 1 : 1;
      const lock = failures >= MAX_PASSWORD_FAILURES ? new Date(now.getTime() + PASSWORD_LOCKOUT_MS) : null;
      await tx`update medchr.users set
          failed_login_count = ${lock ? 0 : failures},
          failed_login_window_started_at = ${lock ? null : inWindow ? windowStart : now},
          locked_until = ${lock}
        where id = ${userId}`;
      await loginFailed("bad_password");
      if (lock) {
        await recordAudit(tx, context, {
          action: "user.lockout",
          outcome: "SUCCESS",
          resource: { type: "user", id: userId },
          details: { failures, lockedSeconds: PASSWORD_LOCKOUT_MS / 1000 },
        });
      }
      return failed;
    }
    if (lockedUntil || user.failed_login_count > 0) {
      await tx`update medchr.users set failed_login_count = 0, failed_login_window_started_at = null,
        locked_until = null where id = ${userId}`;
      if (lockedUntil) {
        await recordAudit(tx, context, {
          action: "user.lockout_clear",
          outcome: "SUCCESS",
          resource: { type: "user", id: userId },
        });
      }
    }
    if (rehash) await tx`update medchr.users set password_hash = ${rehash} where id = ${userId}`;
    const started = await beginSignIn(
      tx,
      {
        tenantId,
        userId,
        method: "password",
        strict: input.strict,
        now,
        timeouts: input.timeouts,
        ip: input.ip,
        userAgent: input.userAgent,
        previousSessionId: input.previousSessionId ?? null,
      },
      context,
    );
    return ok({ ...started, tenantId, userId });
  });
}
