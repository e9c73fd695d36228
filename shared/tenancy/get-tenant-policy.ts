import type { Tx } from "../db/database";

/**
 * What a tenant without a tenant_policies row gets. Must equal the column defaults in the
 * identity migration and the coalesce() in medchr.find_ui_session / find_api_key, which
 * enforce the policy per request: no IP restriction, step-up within 15 minutes
 * (security-baseline "step-up", ASVS 7.5.3), MFA required (ASVS 6.3.3 L2+).
 */
export const TENANT_POLICY_DEFAULTS = {
  ipAllowlist: [] as string[],
  stepUpWindowMinutes: 15,
  mfaRequired: true,
} as const;

export interface TenantPolicy {
  /** Canonical CIDR blocks; empty means no restriction. */
  ipAllowlist: string[];
  stepUpWindowMinutes: number;
  /** In prod/HIPAA mode MFA is required whatever this says. */
  mfaRequired: boolean;
  /** null while the clinic runs on the defaults. */
  updatedAt: string | null;
  updatedBy: string | null;
}

interface PolicyRow {
  ip_allowlist: unknown;
  step_up_window_minutes: number;
  mfa_required: boolean;
  updated_at: Date;
  updated_by: string | null;
}

/** The current tenant's security policy (RLS scope of `tx`), defaults filled in. */
export async function getTenantPolicy(tx: Tx, options: { forUpdate?: boolean } = {}): Promise<TenantPolicy> {
  const [row] = await tx<PolicyRow[]>`
    select ip_allowlist, step_up_window_minutes, mfa_required, updated_at, updated_by
    from medchr.tenant_policies ${options.forUpdate ? tx`for update` : tx``}`;
  if (!row) {
    return { ...TENANT_POLICY_DEFAULTS, ipAllowlist: [], updatedAt: null, updatedBy: null };
  }
  return {
    ipAllowlist: Array.isArray(row.ip_allowlist)
      ? row.ip_allowlist.filter((e): e is string => typeof e === "string")
      : [],
    stepUpWindowMinutes: row.step_up_window_minutes,
    mfaRequired: row.mfa_required,
    updatedAt: new Date(row.updated_at).toISOString(),
    updatedBy: row.updated_by,
  };
}
