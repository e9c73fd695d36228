import { z } from "zod";
import { type AuditContext, recordAudit } from "../../audit/audit-context";
import { type InvalidFieldsError, invalidFields } from "../../core/invalid-fields";
import { err, ok, type Result } from "../../core/result";
import type { Tx } from "../../db/database";
import { EXTERNAL_PROCESSORS } from "../llm-provider";
import { getTenantAiPolicy } from "./get-tenant-ai-policy";
import { AI_POLICY_MODES, type TenantAiPolicy } from "./tenant-ai-policy";

export const UpdateTenantAiPolicyInput = z.strictObject({
  mode: z.enum(AI_POLICY_MODES),
  allowedProcessors: z.array(z.enum(EXTERNAL_PROCESSORS)).max(EXTERNAL_PROCESSORS.length),
  redactionRequired: z.boolean(),
  /** The version the admin read (GET): a change made from a stale read is refused (409). */
  version: z.number().int().min(1),
});
export type UpdateTenantAiPolicyInput = z.input<typeof UpdateTenantAiPolicyInput>;

export const AI_POLICY_FIELDS = ["mode", "allowed_processors", "redaction_required"] as const;
type AiPolicyField = (typeof AI_POLICY_FIELDS)[number];

export type UpdateTenantAiPolicyError =
  | InvalidFieldsError
  | { readonly code: "conflict"; readonly message: string; readonly currentVersion: number };

/**
 * Replaces the current tenant's AI policy (the whole policy: an admin decides all three at
 * once, with the deployment's processors in view). Refused when:
 *  - `version` is not the stored one (someone changed it since it was read);
 *  - mode "external" names no processor, or names one the deployment has no BAA with
 *    (`deploymentProcessors`, PHI_PROCESSORS): saving it would promise what the gateway refuses.
 * Audited in `tx` as tenant.ai_policy_update naming the changed fields. No change: nothing
 * written, nothing audited, the version stays.
 */
export async function updateTenantAiPolicy(
  tx: Tx,
  input: UpdateTenantAiPolicyInput,
  options: { deploymentProcessors: readonly string[] },
  audit: AuditContext,
): Promise<Result<{ policy: TenantAiPolicy; changedFields: AiPolicyField[] }, UpdateTenantAiPolicyError>> {
  const parsed = UpdateTenantAiPolicyInput.safeParse(input);
  if (!parsed.success) return err(invalidFields(parsed.error.issues));
  const next = { ...parsed.data, allowedProcessors: [...new Set(parsed.data.allowedProcessors)].sort() };
  if (next.mode === "external") {
    if (next.allowedProcessors.length === 0) {
      return err(
        invalidFields([
          { path: ["allowedProcessors"], message: "external processing needs at least one processor" },
        ]),
      );
    }
    const missing = next.allowedProcessors.filter((p) => !options.deploymentProcessors.includes(p));
    if (missing.length > 0) {
      return err(
        invalidFields([
          {
            path: ["allowedProcessors"],
            message: `this deployment has no business associate agreement with: ${missing.join(", ")}`,
          },
        ]),
      );
    }
  }

  const current = await getTenantAiPolicy(tx, { forUpdate: true });
  if (current.version !== next.version) {
    return err({
      code: "conflict",
      message: "The AI policy was changed since you read it; reload it and try again.",
      currentVersion: current.version,
    });
  }
  const changedFields: AiPolicyField[] = [];
  if (next.mode !== current.mode) changedFields.push("mode");
  if (next.allowedProcessors.join(",") !== [...current.allowedProcessors].sort().join(","))
    changedFields.push("allowed_processors");
  if (next.redactionRequired !== current.redactionRequired) changedFields.push("redaction_required");
  if (changedFields.length === 0) return ok({ policy: current, changedFields });

  const updatedBy = audit.actor.type === "user" ? audit.actor.id : null;
  const [row] = await tx<{ tenant_id: string }[]>`
    insert into medchr.tenant_ai_policies (tenant_id, mode, allowed_processors, redaction_required, version, updated_by)
    values ((select medchr.current_tenant_id()), ${next.mode}, ${tx.json(next.allowedProcessors)}, ${next.redactionRequired},
      ${current.version + 1}, ${updatedBy})
    on conflict (tenant_id) do update set mode = excluded.mode, allowed_processors = excluded.allowed_processors,
      redaction_required = excluded.redaction_required, version = excluded.version, updated_by = excluded.updated_by
    returning tenant_id`;
  await recordAudit(tx, audit, {
    action: "tenant.ai_policy_update",
    outcome: "SUCCESS",
    resource: { type: "tenant", id: row!.tenant_id },
    details: { fields: changedFields, mode: next.mode, redactionRequired: next.redactionRequired },
  });
  return ok({ policy: await getTenantAiPolicy(tx), changedFields });
}
