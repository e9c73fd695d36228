import { z } from "zod";
import { appendAuditEvent } from "../audit/append-audit-event";
import { hashPassword } from "../auth/password-hash";
import type { KeyRing } from "../config/key-ring";
import { err, ok, type Result } from "../core/result";
import { APP_ROLE, type Sql } from "../db/database";

export const BootstrapTenantInput = z.object({
  tenantName: z.string().trim().min(1).max(200),
  slug: z.string().regex(/^[a-z0-9][a-z0-9-]{1,62}$/),
  adminEmail: z.string().trim().toLowerCase().email().max(320),
  adminName: z.string().trim().min(1).max(200),
  emailDomains: z.array(z.string().toLowerCase()).default([]),
});
export type BootstrapTenantInput = z.input<typeof BootstrapTenantInput>;

export interface BootstrappedTenant {
  tenantId: string;
  adminUserId: string;
  /** Shown once to the operator, never stored or logged. */
  adminPassword: string;
}

/** 20 characters from a 56-symbol alphabet without look-alikes: ~116 bits. */
const PASSWORD_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
export function generatePassword(length = 20): string {
  const out: string[] = [];
  const bytes = new Uint8Array(length * 2);
  while (out.length < length) {
    crypto.getRandomValues(bytes);
    for (const b of bytes) {
      // Rejection sampling: no modulo bias.
      if (b < 256 - (256 % PASSWORD_ALPHABET.length) && out.length < length)
        out.push(PASSWORD_ALPHABET[b % PASSWORD_ALPHABET.length]!);
    }
  }
  return out.join("");
}

/**
 * Operator action (CLI, local seed): creates a tenant and its first admin. Runs on the
 * operator connection because only the owner may create tenants; everything after the
 * tenant row is written as the application role under the new tenant's RLS scope.
 */
export async function bootstrapTenant(
  owner: Sql,
  input: BootstrapTenantInput,
  keys: { pepperKeys: KeyRing; auditKeys: KeyRing },
  actor: { systemId: string; requestId: string } = { systemId: "cli.bootstrap", requestId: "bootstrap" },
): Promise<Result<BootstrappedTenant>> {
  const parsed = BootstrapTenantInput.safeParse(input);
  if (!parsed.success) {
    return err({
      code: "invalid_input",
      message: `Invalid ${parsed.error.issues.map((i) => i.path.join(".")).join(", ")}.`,
    });
  }
  const data = parsed.data;
  const adminPassword = generatePassword();
  const passwordHash = await hashPassword(adminPassword, keys.pepperKeys);
  try {
    const result = await owner.begin(async (tx) => {
      const [tenant] = await tx<{ id: string }[]>`
        insert into medchr.tenants (name, slug, email_domains)
        values (${data.tenantName}, ${data.slug},
          array(select jsonb_array_elements_text(${tx.json(data.emailDomains)}::jsonb)))
        returning id`;
      const tenantId = tenant!.id;
      await tx`select set_config('role', ${APP_ROLE}, true), set_config('app.tenant_id', ${tenantId}, true),
        set_config('app.actor_id', ${actor.systemId}, true), set_config('app.request_id', ${actor.requestId}, true)`;
      const [user] = await tx<{ id: string }[]>`
        insert into medchr.users (tenant_id, email, display_name, role, password_hash)
        values (${tenantId}, ${data.adminEmail}, ${data.adminName}, 'admin', ${passwordHash}) returning id`;
      const audit = {
        outcome: "SUCCESS",
        actor: { type: "system", id: actor.systemId },
        ip: null,
        userAgent: null,
        requestId: actor.requestId,
      } as const;
      await appendAuditEvent(tx, keys.auditKeys, {
        ...audit,
        action: "tenant.create",
        resource: { type: "tenant", id: tenantId },
        details: {},
      });
      await appendAuditEvent(tx, keys.auditKeys, {
        ...audit,
        action: "user.create",
        resource: { type: "user", id: user!.id },
        details: { role: "admin", createdBy: "bootstrap" },
      });
      return { tenantId, adminUserId: user!.id };
    });
    return ok({ ...result, adminPassword });
  } catch (error) {
    if ((error as { code?: string }).code === "23505") {
      return err({ code: "conflict", message: "A tenant with this slug or a user with this e-mail exists." });
    }
    throw error;
  }
}
