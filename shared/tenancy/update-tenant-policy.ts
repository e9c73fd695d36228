import { z } from "zod";
import { type AuditContext, recordAudit } from "../audit/audit-context";
import { err, ok, type Result } from "../core/result";
import type { Tx } from "../db/database";
import { createCidrSet } from "../net/create-cidr-set";
import { IP_ALLOWLIST_MAX_ENTRIES, isIpAllowed, validateIpAllowlist } from "../net/ip-allowlist";
import { type InvalidFieldsError, invalidFields } from "../users/invalid-fields";
import { getTenantPolicy, type TenantPolicy } from "./get-tenant-policy";

/** The column's range (tenant_policies check): at least a minute, at most the L3 idle timeout of 60. */
export const STEP_UP_WINDOW_MINUTES_MIN = 1;
export const STEP_UP_WINDOW_MINUTES_MAX = 60;

export const UpdateTenantPolicyInput = z
  .strictObject({
    /** IPs or CIDR blocks; [] removes the restriction. Checked and normalised by validateIpAllowlist. */
    ipAllowlist: z.array(z.string()).max(IP_ALLOWLIST_MAX_ENTRIES).optional(),
    stepUpWindowMinutes: z
      .number()
      .int()
      .min(STEP_UP_WINDOW_MINUTES_MIN)
      .max(STEP_UP_WINDOW_MINUTES_MAX)
      .optional(),
    mfaRequired: z.boolean().optional(),
    /** Save an allowlist that does not contain the caller's own address (it locks the caller out). */
    confirmLockout: z.boolean().optional(),
  })
  .refine(
    (v) => v.ipAllowlist !== undefined || v.stepUpWindowMinutes !== undefined || v.mfaRequired !== undefined,
    { message: "give at least one of ipAllowlist, stepUpWindowMinutes, mfaRequired" },
  );
export type UpdateTenantPolicyInput = z.input<typeof UpdateTenantPolicyInput>;

type PolicyField = "ip_allowlist" | "step_up_window_minutes" | "mfa_required";

export type UpdateTenantPolicyError =
  | InvalidFieldsError
  | { readonly code: "conflict"; readonly message: string };

/**
 * Changes the current tenant's security policy; fields left out keep their value. The
 * allowlist is validated and normalised (canonical CIDR, duplicates dropped).
 *
 * Lockout guard: an allowlist is enforced on every session and API-key request, so a list
 * that does not contain the address the admin is calling from would cut the admin off the
 * moment it is saved. Such a list (including any non-empty list when the caller's
 * address is unknown, because the check fails closed) is refused as a conflict unless the
 * caller confirms with `confirmLockout: true` (e.g. configuring from outside the office).
 *
 * Audited in `tx`: tenant.policy_update naming the changed fields (never their values).
 * Nothing changed: nothing written, nothing audited.
 */
export async function updateTenantPolicy(
  tx: Tx,
  input: UpdateTenantPolicyInput,
  options: { clientIp: string | null },
  audit: AuditContext,
): Promise<Result<{ policy: TenantPolicy; changedFields: PolicyField[] }, UpdateTenantPolicyError>> {
  const parsed = UpdateTenantPolicyInput.safeParse(input);
  if (!parsed.success) return err(invalidFields(parsed.error.issues));
  const changes = parsed.data;
  let allowlist: string[] | undefined;
  if (changes.ipAllowlist !== undefined) {
    const validated = validateIpAllowlist(changes.ipAllowlist, "ipAllowlist");
    if (!validated.ok) return err(invalidFields(validated.error.fields.map(toIssue)));
    allowlist = validated.value;
  }

  const current = await getTenantPolicy(tx, { forUpdate: true });
  const next = {
    ipAllowlist: allowlist ?? current.ipAllowlist,
    stepUpWindowMinutes: changes.stepUpWindowMinutes ?? current.stepUpWindowMinutes,
    mfaRequired: changes.mfaRequired ?? current.mfaRequired,
  };
  const changedFields: PolicyField[] = [];
  if (!sameList(next.ipAllowlist, current.ipAllowlist)) changedFields.push("ip_allowlist");
  if (next.stepUpWindowMinutes !== current.stepUpWindowMinutes) changedFields.push("step_up_window_minutes");
  if (next.mfaRequired !== current.mfaRequired) changedFields.push("mfa_required");
  if (changedFields.length === 0) return ok({ policy: current, changedFields });

  if (changedFields.includes("ip_allowlist") && next.ipAllowlist.length > 0 && !changes.confirmLockout) {
    const set = createCidrSet(next.ipAllowlist);
    if (!set.ok || !isIpAllowed(set.value, options.clientIp)) {
      return err({
        code: "conflict",
        message: options.clientIp
          ? `The new IP allowlist does not include the address you are calling from (${options.clientIp}): saving it would lock you out. Add your address, or send confirmLockout: true to save it anyway.`
          : "Your address could not be determined, so any IP allowlist would lock you out. Send confirmLockout: true to save it anyway.",
      });
    }
  }

  const updatedBy = audit.actor.type === "user" ? audit.actor.id : null;
  const [row] = await tx<{ tenant_id: string }[]>`
    insert into medchr.tenant_policies (tenant_id, ip_allowlist, step_up_window_minutes, mfa_required, updated_by)
    values ((select medchr.current_tenant_id()), ${tx.json(next.ipAllowlist)}, ${next.stepUpWindowMinutes},
      ${next.mfaRequired}, ${updatedBy})
    on conflict (tenant_id) do update set ip_allowlist = excluded.ip_allowlist,
      step_up_window_minutes = excluded.step_up_window_minutes, mfa_required = excluded.mfa_required,
      updated_by = excluded.updated_by
    returning tenant_id`;
  await recordAudit(tx, audit, {
    action: "tenant.policy_update",
    outcome: "SUCCESS",
    resource: { type: "tenant", id: row!.tenant_id },
    details: { fields: changedFields },
  });
  return ok({ policy: await getTenantPolicy(tx), changedFields });
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((value, i) => value === b[i]);
}

/** validateIpAllowlist names fields "ipAllowlist.3"; keep that as the path. */
function toIssue(field: { field: string; message: string }) {
  return { path: [field.field], message: field.message };
}
