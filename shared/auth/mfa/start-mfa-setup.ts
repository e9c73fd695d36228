import { z } from "zod";
import type { KeyRing } from "../../config/key-ring";
import { err, ok, type Result } from "../../core/result";
import type { Tx } from "../../db/database";
import { generateToken, hashToken } from "../session-token";
import { MFA_SETUP_TTL_MS } from "./mfa-policy";
import { buildOtpauthUri, encodeBase32, generateTotpSecret } from "./totp";
import { encryptTotpSecret } from "./totp-secret-cipher";

export const StartMfaSetupInput = z.object({
  tenantId: z.uuid(),
  userId: z.uuid(),
  now: z.date(),
});
export type StartMfaSetupInput = z.input<typeof StartMfaSetupInput>;

export interface StartedMfaSetup {
  /** 256-bit random token the client sends back to confirm; only its SHA-256 is stored. */
  setupToken: string;
  /** Base32 secret for manual entry. Shown once to the user, never logged. */
  secret: string;
  /** For the QR code; carries the secret and the user's email: never logged. */
  otpauthUri: string;
  expiresAt: Date;
}

/**
 * Begins TOTP enrolment (or replacement) for a user. The caller has already re-checked
 * the password or a current factor (ASVS 7.5.1). The new secret is kept encrypted in
 * mfa_setup_tokens, not in a cookie, and becomes the factor only when a code from it is
 * confirmed (confirmMfaSetup). Any earlier setup of the user is discarded, so at most one
 * pending secret exists per user.
 */
export async function startMfaSetup(
  tx: Tx,
  input: StartMfaSetupInput,
  mfaKeys: KeyRing,
): Promise<Result<StartedMfaSetup>> {
  const parsed = StartMfaSetupInput.safeParse(input);
  if (!parsed.success) return err({ code: "invalid_input", message: "Invalid MFA setup request." });
  const { tenantId, userId, now } = parsed.data;

  const [user] = await tx<{ email: string }[]>`
    select email from medchr.users where id = ${userId} and status = 'active'`;
  if (!user) return err({ code: "not_found", message: "User not found." });

  const secret = generateTotpSecret();
  const encrypted = await encryptTotpSecret(secret, { tenantId, userId }, mfaKeys);
  const setupToken = generateToken();
  const expiresAt = new Date(now.getTime() + MFA_SETUP_TTL_MS);

  await tx`delete from medchr.mfa_setup_tokens where user_id = ${userId}`;
  await tx`
    insert into medchr.mfa_setup_tokens
      (tenant_id, user_id, token_hash, secret_ciphertext, key_id, expires_at, created_at)
    values (${tenantId}, ${userId}, ${await hashToken(setupToken)}, ${encrypted.ciphertext},
      ${encrypted.keyId}, ${expiresAt}, ${now})`;

  const base32 = encodeBase32(secret);
  return ok({
    setupToken,
    secret: base32,
    otpauthUri: buildOtpauthUri({ secret: base32, accountName: user.email }),
    expiresAt,
  });
}
