import { z } from "zod";
import { EXTERNAL_PROCESSORS } from "../llm-provider";

/**
 * The clinic's decision on AI processing (tenant_ai_policies):
 *  - off:      no model is asked anything; deterministic on-box code still builds the record
 *              (text, rules extraction, hashing embeddings, extractive drafts), nothing leaves;
 *  - on_box:   only the on-box provider; nothing leaves the deployment;
 *  - external: the processors listed in `allowedProcessors` may receive the clinic's data when
 *              the deployment also lists them (PHI_PROCESSORS: a BAA is in place).
 */
export const AI_POLICY_MODES = ["off", "on_box", "external"] as const;
export type AiPolicyMode = (typeof AI_POLICY_MODES)[number];

export interface TenantAiPolicy {
  mode: AiPolicyMode;
  allowedProcessors: (typeof EXTERNAL_PROCESSORS)[number][];
  /** Identifiers are removed (HIPAA Safe Harbor) before anything is sent. */
  redactionRequired: boolean;
  /** Optimistic concurrency token: a change names the version it was made from. */
  version: number;
  /** null while the clinic runs on the defaults. */
  updatedAt: string | null;
  updatedBy: string | null;
}

/**
 * What a clinic without a row gets; must equal the column defaults of migration
 * 20261206100000_llm_gateway.sql. Secure by default: nothing external until an admin opts in
 * (HIPAA 164.502(b) minimum necessary), and redaction on when they do.
 */
export const TENANT_AI_POLICY_DEFAULTS: TenantAiPolicy = {
  mode: "on_box",
  allowedProcessors: [],
  redactionRequired: true,
  version: 1,
  updatedAt: null,
  updatedBy: null,
};

export const TenantAiPolicySchema = z.object({
  mode: z.enum(AI_POLICY_MODES),
  allowedProcessors: z.array(z.enum(EXTERNAL_PROCESSORS)),
  redactionRequired: z.boolean(),
  version: z.number().int().min(1),
  updatedAt: z.string().nullable(),
  updatedBy: z.string().nullable(),
});
