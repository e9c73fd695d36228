import { z } from "zod";
import { err, ok, type Result } from "../../core/result";
import type { Tx } from "../../db/database";
import { SSO_PROVIDERS } from "./sso-settings";

export const LinkSsoIdentityInput = z.strictObject({
  userId: z.uuid(),
  provider: z.enum(SSO_PROVIDERS),
  /** The configured provider's issuer (SsoProviderSettings.issuer), never one a client typed. */
  issuer: z.string().min(1).max(512),
  /** The provider's stable `sub` for the person (not their email). */
  subject: z.string().min(1).max(255),
});
export type LinkSsoIdentityInput = z.input<typeof LinkSsoIdentityInput>;

export type LinkSsoIdentityError =
  | { code: "invalid_input"; message: string }
  | { code: "not_found"; message: string }
  | { code: "conflict"; message: string };

/**
 * Admin path: attach a provider identity to an existing account (typically one that
 * signs in with a password today). SSO never does this on its own by matching emails
 * (signInWithSso refuses instead), because an email claim from a provider is weaker
 * evidence than the account's own credentials (ASVS 6.8.1).
 *
 * Runs in the admin's tenant transaction: row-level security makes a user of another
 * tenant invisible, so it cannot be linked. One identity maps to one user: an identity
 * already linked anywhere is a conflict, left to the admin to unlink first.
 * The caller (the admin route) audits the change once the catalogue has an event for it.
 */
export async function linkSsoIdentity(
  tx: Tx,
  input: LinkSsoIdentityInput,
): Promise<Result<{ identityId: string; tenantId: string }, LinkSsoIdentityError>> {
  const parsed = LinkSsoIdentityInput.safeParse(input);
  if (!parsed.success) {
    return err({
      code: "invalid_input",
      message: `Invalid ${parsed.error.issues.map((i) => i.path.join(".")).join(", ")}.`,
    });
  }
  const { userId, provider, issuer, subject } = parsed.data;
  const [user] = await tx<{ tenant_id: string; status: string }[]>`
    select tenant_id, status from medchr.users where id = ${userId}`;
  if (!user) return err({ code: "not_found", message: "No such user." });
  try {
    // A savepoint keeps the admin's transaction usable after a unique violation.
    const [row] = await tx.savepoint(
      (sp) => sp<{ id: string }[]>`
        insert into medchr.sso_identities (tenant_id, user_id, provider, issuer, subject)
        values (${user.tenant_id}, ${userId}, ${provider}, ${issuer}, ${subject})
        returning id`,
    );
    return ok({ identityId: row!.id, tenantId: user.tenant_id });
  } catch (error) {
    if ((error as { code?: unknown }).code === "23505") {
      return err({ code: "conflict", message: "This sign-in identity is already linked to an account." });
    }
    throw error;
  }
}
