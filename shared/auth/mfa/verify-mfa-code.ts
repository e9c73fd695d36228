import { z } from "zod";
import type { KeyRing } from "../../config/key-ring";
import { err, ok, type Result } from "../../core/result";
import type { Tx } from "../../db/database";
import { type MfaAuditContext, recordMfaAudit } from "./mfa-audit";
import { lockMfaLockoutState, recordMfaFailure, resetMfaLockout } from "./mfa-lockout";
import { MFA_FLOWS, MFA_LOCKOUT_MS } from "./mfa-policy";
import { consumeRecoveryCode, countRemainingRecoveryCodes, normalizeRecoveryCode } from "./recovery-codes";
import { matchTotpStep } from "./totp";
import { decryptTotpSecret } from "./totp-secret-cipher";

export const VerifyMfaCodeInput = z.object({
  tenantId: z.uuid(),
  userId: z.uuid(),
  /** Whatever the user typed: a 6-digit TOTP code or a recovery code, spaces and dashes allowed. */
  code: z.string(),
  flow: z.enum(MFA_FLOWS),
  now: z.date(),
});
export type VerifyMfaCodeInput = z.input<typeof VerifyMfaCodeInput>;

export interface VerifyMfaCodeKeys {
  mfaKeys: KeyRing;
  recoveryCodeKeys: KeyRing;
}

export type MfaFactorKind = "totp" | "recovery_code";

export interface VerifiedMfaCode {
  factor: MfaFactorKind;
  /** After a recovery code: how many are left, so the UI can urge regenerating them. */
  recoveryCodesRemaining?: number;
}

export interface VerifyMfaCodeError {
  /**
   * unauthorized: wrong, replayed or unusable code (or no factor); rate_limited: the
   * account is locked for this flow; unavailable: the stored secret cannot be decrypted
   * (missing key or tampered row: an operator problem, not counted against the user);
   * invalid_input: ids or flow malformed (a programming error in the caller).
   */
  code: "unauthorized" | "rate_limited" | "unavailable" | "invalid_input";
  message: string;
  retryAfterSeconds?: number;
}

const SIX_DIGITS = /^\d{6}$/;
/** Longer than any code we issue, with generous room for spaces: anything more is garbage. */
const MAX_CODE_CHARS = 100;
const WRONG_CODE: VerifyMfaCodeError = { code: "unauthorized", message: "The code is not valid." };

const lockedError = (lockedUntil: Date, now: Date): VerifyMfaCodeError => ({
  code: "rate_limited",
  message: "Too many failed codes. Try again later.",
  retryAfterSeconds: Math.max(1, Math.ceil((lockedUntil.getTime() - now.getTime()) / 1000)),
});

type Check =
  | { accepted: true; factor: MfaFactorKind }
  | { accepted: false; factor: MfaFactorKind; replay: boolean }
  | { unavailable: true; message: string };

/**
 * Checks a second-factor code for login or step-up (ASVS 6.5.1, 6.5.2, 6.5.5):
 *  - while the account is locked for `flow`, refuses without looking at the code;
 *  - a 6-digit code must match the TOTP secret within one step of drift, and its step
 *    must be later than the last one used: the check-and-set is one UPDATE, so a code
 *    can log in once even under concurrent requests; a replay is refused and audited;
 *  - a recovery code must be one of the user's unused codes, and is spent atomically;
 *  - wrong and replayed codes count towards the lockout (5 in 15 minutes -> 5 minutes).
 *
 * The refusals are written (counter, audit) in `tx`, so the caller must COMMIT the
 * transaction whatever the result: return the Result out of withTenant and turn it into
 * an HTTP error afterwards, never throw inside.
 *
 * Audited: mfa.verify (SUCCESS / DENIED / FAILURE, with factor, stepUp, replay),
 * mfa.lockout, mfa.lockout_clear, and access.denied (rate_limited) while locked.
 */
export async function verifyMfaCode(
  tx: Tx,
  input: VerifyMfaCodeInput,
  keys: VerifyMfaCodeKeys,
  audit: MfaAuditContext,
): Promise<Result<VerifiedMfaCode, VerifyMfaCodeError>> {
  const parsed = VerifyMfaCodeInput.safeParse(input);
  if (!parsed.success) return err({ code: "invalid_input", message: "Invalid MFA verification request." });
  const { tenantId, userId, code, flow, now } = parsed.data;
  const stepUp = flow === "step_up";

  let state = await lockMfaLockoutState(tx, { tenantId, userId, flow });
  if (state.lockedUntil !== null && state.lockedUntil.getTime() > now.getTime()) {
    await recordMfaAudit(tx, audit, userId, {
      action: "access.denied",
      outcome: "DENIED",
      details: { reason: "rate_limited" },
    });
    return err(lockedError(state.lockedUntil, now));
  }
  if (state.lockedUntil !== null) {
    // The lock has run out: lift it (and say so in the audit log) before this attempt.
    await resetMfaLockout(tx, { userId, flow });
    await recordMfaAudit(tx, audit, userId, {
      action: "mfa.lockout_clear",
      outcome: "SUCCESS",
      details: { flow },
    });
    state = { failures: 0, windowStartedAt: null, lockedUntil: null };
  }

  const check = await checkCode(tx, { tenantId, userId, code, now }, keys);

  if ("unavailable" in check) {
    await recordMfaAudit(tx, audit, userId, {
      action: "mfa.verify",
      outcome: "FAILURE",
      details: { factor: "totp", stepUp, replay: false },
    });
    return err({ code: "unavailable", message: check.message });
  }

  if (!check.accepted) {
    const next = await recordMfaFailure(tx, { userId, flow }, state, now);
    await recordMfaAudit(tx, audit, userId, {
      action: "mfa.verify",
      outcome: "DENIED",
      details: { factor: check.factor, stepUp, replay: check.replay },
    });
    if (next.lockedUntil === null) return err(WRONG_CODE);
    await recordMfaAudit(tx, audit, userId, {
      action: "mfa.lockout",
      outcome: "SUCCESS",
      details: { failures: next.failures, lockedSeconds: MFA_LOCKOUT_MS / 1000, flow },
    });
    return err(lockedError(next.lockedUntil, now));
  }

  if (state.failures > 0 || state.windowStartedAt !== null) await resetMfaLockout(tx, { userId, flow });
  await recordMfaAudit(tx, audit, userId, {
    action: "mfa.verify",
    outcome: "SUCCESS",
    details: { factor: check.factor, stepUp, replay: false },
  });
  if (check.factor === "recovery_code") {
    return ok({
      factor: check.factor,
      recoveryCodesRemaining: await countRemainingRecoveryCodes(tx, userId),
    });
  }
  return ok({ factor: check.factor });
}

async function checkCode(
  tx: Tx,
  input: { tenantId: string; userId: string; code: string; now: Date },
  keys: VerifyMfaCodeKeys,
): Promise<Check> {
  const { tenantId, userId, now } = input;
  const compact = input.code.length <= MAX_CODE_CHARS ? input.code.replace(/[\s-]/g, "") : "";

  if (SIX_DIGITS.test(compact)) {
    const [factor] = await tx<{ secret_ciphertext: string }[]>`
      select secret_ciphertext from medchr.mfa_factors where user_id = ${userId}`;
    if (!factor) return { accepted: false, factor: "totp", replay: false };
    const secret = await decryptTotpSecret(factor.secret_ciphertext, { tenantId, userId }, keys.mfaKeys);
    if (!secret.ok) return { unavailable: true, message: secret.error.message };
    const step = await matchTotpStep(secret.value, compact, now);
    if (step === null) return { accepted: false, factor: "totp", replay: false };
    // Check-and-set in one statement: only a step later than the last used one passes.
    const claimed = await tx<{ id: string }[]>`
      update medchr.mfa_factors set last_used_step = ${step}
       where user_id = ${userId} and (last_used_step is null or last_used_step < ${step})
      returning id`;
    return claimed.length === 1
      ? { accepted: true, factor: "totp" }
      : { accepted: false, factor: "totp", replay: true };
  }

  const recoveryCode = input.code.length <= MAX_CODE_CHARS ? normalizeRecoveryCode(input.code) : null;
  if (recoveryCode !== null) {
    const outcome = await consumeRecoveryCode(
      tx,
      { userId, normalisedCode: recoveryCode, now },
      keys.recoveryCodeKeys,
    );
    return outcome === "accepted"
      ? { accepted: true, factor: "recovery_code" }
      : { accepted: false, factor: "recovery_code", replay: outcome === "already_used" };
  }

  // Neither format: still a failed attempt. Named after what it most resembles.
  return { accepted: false, factor: /^\d+$/.test(compact) ? "totp" : "recovery_code", replay: false };
}
