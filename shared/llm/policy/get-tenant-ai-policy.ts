import type { Tx } from "../../db/database";
import { EXTERNAL_PROCESSORS, type ExternalProcessor } from "../llm-provider";
import {
  AI_POLICY_MODES,
  type AiPolicyMode,
  TENANT_AI_POLICY_DEFAULTS,
  type TenantAiPolicy,
} from "./tenant-ai-policy";

interface AiPolicyRow {
  mode: string;
  allowed_processors: unknown;
  redaction_required: boolean;
  version: number;
  updated_at: Date;
  updated_by: string | null;
}

const isMode = (v: string): v is AiPolicyMode => (AI_POLICY_MODES as readonly string[]).includes(v);
const isProcessor = (v: string): boolean => (EXTERNAL_PROCESSORS as readonly string[]).includes(v);

/** The current tenant's AI policy (RLS scope of `tx`), defaults when never changed. */
export async function getTenantAiPolicy(
  tx: Tx,
  options: { forUpdate?: boolean } = {},
): Promise<TenantAiPolicy> {
  const [row] = await tx<AiPolicyRow[]>`
    select mode, allowed_processors, redaction_required, version, updated_at, updated_by
    from medchr.tenant_ai_policies ${options.forUpdate ? tx`for update` : tx``}`;
  if (!row) return { ...TENANT_AI_POLICY_DEFAULTS, allowedProcessors: [] };
  return {
    // The column checks make both filters no-ops; they keep a widened check from leaking through.
    mode: isMode(row.mode) ? row.mode : "off",
    allowedProcessors: Array.isArray(row.allowed_processors)
      ? row.allowed_processors.filter((p): p is ExternalProcessor => typeof p === "string" && isProcessor(p))
      : [],
    redactionRequired: row.redaction_required,
    version: row.version,
    updatedAt: new Date(row.updated_at).toISOString(),
    updatedBy: row.updated_by,
  };
}
