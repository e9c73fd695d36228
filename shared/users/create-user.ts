import { z } from "zod";
import { type AuditContext, recordAudit } from "../audit/audit-context";
import { BCRYPT_COST, hashPassword } from "../auth/password-hash";
import { checkPassword } from "../auth/password-policy";
import { ROLES } from "../auth/permissions";
import type { KeyRing } from "../config/key-ring";
import { err, ok, type Result } from "../core/result";
import type { Tx } from "../db/database";
import { generatePassword } from "../tenancy/bootstrap-tenant";
import {
  hasNoControlCharacters,
  type InvalidFieldsError,
  invalidFields,
  NO_CONTROL_CHARACTERS_MESSAGE,
} from "./invalid-fields";
import { readUserRows, toUserView, type UserView } from "./user-view";

export const CreateUserInput = z.strictObject({
  // Stored lower-cased: sign-in looks accounts up by email before the tenant is known.
  email: z.string().trim().toLowerCase().max(320).email(),
  displayName: z
    .string()
    .trim()
    .min(1)
    .max(200)
    .refine(hasNoControlCharacters, NO_CONTROL_CHARACTERS_MESSAGE),
  role: z.enum(ROLES),
  /**
   * Optional: without it a random one is generated and returned once. The policy (length,
   * common passwords, context words) is checked by checkPassword, which reports every
   * reason; the cap here only bounds the work before that.
   */
  password: z.string().max(1024).optional(),
});
export type CreateUserInput = z.input<typeof CreateUserInput>;

export interface CreatedUser {
  user: UserView;
  /** The generated password, to hand to the user once; null when the admin chose one. Never stored. */
  generatedPassword: string | null;
}

export type CreateUserError = InvalidFieldsError | { readonly code: "conflict"; readonly message: string };

/**
 * An administrator adds an account to the current tenant (RLS scope of `tx`). Emails are
 * unique across all tenants (sign-in finds the tenant by email), so an address used
 * anywhere is a conflict. Audited: user.create with createdBy "admin", in `tx`.
 */
export async function createUser(
  tx: Tx,
  input: CreateUserInput,
  options: { pepperKeys: KeyRing; bcryptCost?: number },
  audit: AuditContext,
): Promise<Result<CreatedUser, CreateUserError>> {
  const parsed = CreateUserInput.safeParse(input);
  if (!parsed.success) return err(invalidFields(parsed.error.issues));
  const { email, displayName, role, password } = parsed.data;

  if (password !== undefined) {
    const policy = checkPassword(password, { email, displayName });
    if (!policy.ok) {
      return err(
        invalidFields([{ path: ["password"], message: policy.error.message }], {
          reasons: policy.error.reasons,
        }),
      );
    }
  }
  const plaintext = password ?? generatePassword();
  const passwordHash = await hashPassword(plaintext, options.pepperKeys, options.bcryptCost ?? BCRYPT_COST);

  // ON CONFLICT DO NOTHING: a duplicate must not abort the caller's transaction.
  const [inserted] = await tx<{ id: string }[]>`
    insert into medchr.users (tenant_id, email, display_name, role, password_hash)
    values ((select medchr.current_tenant_id()), ${email}, ${displayName}, ${role}, ${passwordHash})
    on conflict (email) do nothing
    returning id`;
  if (!inserted) return err({ code: "conflict", message: "A user with this email already exists." });

  await recordAudit(tx, audit, {
    action: "user.create",
    outcome: "SUCCESS",
    resource: { type: "user", id: inserted.id },
    details: { role, createdBy: "admin" },
  });
  const [row] = await readUserRows(tx, { id: inserted.id });
  return ok({ user: toUserView(row!), generatedPassword: password === undefined ? plaintext : null });
}
