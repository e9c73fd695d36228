import type { Tx } from "../../db/database";
import { MFA_FAILURE_WINDOW_MS, MFA_LOCKOUT_MS, MFA_MAX_FAILURES, type MfaFlow } from "./mfa-policy";

/** medchr.mfa_lockouts: failure counting and lockout, per account and flow. */
export interface MfaLockoutState {
  failures: number;
  windowStartedAt: Date | null;
  lockedUntil: Date | null;
}

interface LockoutRow {
  failures: number;
  window_started_at: Date | null;
  locked_until: Date | null;
}

const fromRow = (row: LockoutRow): MfaLockoutState => ({
  failures: row.failures,
  windowStartedAt: row.window_started_at,
  lockedUntil: row.locked_until,
});

/**
 * Reads the account's counter for `flow` and locks its row until the transaction ends,
 * creating it on first use. Concurrent verifications of one account and flow therefore
 * queue here: each sees the failures of the one before, so parallel guesses cannot slip
 * past the limit.
 */
export async function lockMfaLockoutState(
  tx: Tx,
  key: { tenantId: string; userId: string; flow: MfaFlow },
): Promise<MfaLockoutState> {
  await tx`
    insert into medchr.mfa_lockouts (tenant_id, user_id, flow)
    values (${key.tenantId}, ${key.userId}, ${key.flow})
    on conflict (user_id, flow) do nothing`;
  const [row] = await tx<LockoutRow[]>`
    select failures, window_started_at, locked_until from medchr.mfa_lockouts
     where user_id = ${key.userId} and flow = ${key.flow}
       for update`;
  if (!row) throw new Error("mfa_lockouts row missing after insert (tenant mismatch?)");
  return fromRow(row);
}

/**
 * Counts one failure in the fixed window (see MFA_FAILURE_WINDOW_MS) and locks the flow
 * when it reaches MFA_MAX_FAILURES. Returns the new state.
 */
export async function recordMfaFailure(
  tx: Tx,
  key: { userId: string; flow: MfaFlow },
  state: MfaLockoutState,
  now: Date,
): Promise<MfaLockoutState> {
  const windowOpen =
    state.windowStartedAt !== null && now.getTime() - state.windowStartedAt.getTime() < MFA_FAILURE_WINDOW_MS;
  const failures = windowOpen ? state.failures + 1 : 1;
  const windowStartedAt = windowOpen ? state.windowStartedAt : now;
  const lockedUntil = failures >= MFA_MAX_FAILURES ? new Date(now.getTime() + MFA_LOCKOUT_MS) : null;
  await tx`
    update medchr.mfa_lockouts
       set failures = ${failures}, window_started_at = ${windowStartedAt}, locked_until = ${lockedUntil}
     where user_id = ${key.userId} and flow = ${key.flow}`;
  return { failures, windowStartedAt, lockedUntil };
}

/** Back to zero: after a success, or when an expired lock is lifted. */
export async function resetMfaLockout(tx: Tx, key: { userId: string; flow: MfaFlow }): Promise<void> {
  await tx`
    update medchr.mfa_lockouts set failures = 0, window_started_at = null, locked_until = null
     where user_id = ${key.userId} and flow = ${key.flow}
       and (failures <> 0 or window_started_at is not null or locked_until is not null)`;
}
