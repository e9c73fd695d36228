/**
 * Which settings each deployable function needs. Least privilege: a function gets only
 * the secrets its routes use (brief section 2), so a compromise of one Worker does not
 * hand over the keys of another. wrangler.toml, the local stack and config checks all
 * read this table.
 */
export const FUNCTION_NAMES = ["web", "auth", "api", "storage", "pipeline", "cron"] as const;
export type FunctionName = (typeof FUNCTION_NAMES)[number];

/** Key rings: one purpose each, so one leaked key cannot forge another purpose's data. */
export const KEY_RING_SETTINGS = [
  "AUDIT_KEYS",
  "SESSION_KEYS",
  "PASSWORD_PEPPER_KEYS",
  "MFA_ENCRYPTION_KEYS",
  "API_KEY_HMAC_KEYS",
  "SHARE_LINK_KEYS",
  // Ed25519 seeds that sign finalized reports (shared/reports/sign-report.ts).
  "REPORT_SIGNING_KEYS",
  // HMAC for rate-limit keys, so raw IPs and emails never reach Redis (create-rate-limit-key.ts).
  "RATE_LIMIT_KEYS",
] as const;
export type KeyRingSetting = (typeof KEY_RING_SETTINGS)[number];

/** Plain secrets (tokens issued by a managed service). */
export const SECRET_SETTINGS = [
  "DATABASE_URL",
  "SUPABASE_SERVICE_ROLE_KEY",
  "QSTASH_TOKEN",
  "QSTASH_CURRENT_SIGNING_KEY",
  "QSTASH_NEXT_SIGNING_KEY",
  "UPSTASH_REDIS_REST_TOKEN",
  "OPENAI_API_KEY",
  // Partner keys from the environment: "<tenant_uuid>:<mk_ key>[:<scope+scope>],..."
  "API_KEYS",
  "OIDC_CLIENT_SECRET",
  "AZURE_CLIENT_SECRET",
  "GOOGLE_CLIENT_SECRET",
  // Shared between api/pipeline and the storage function's internal routes (service binding).
  "STORAGE_INTERNAL_TOKEN",
] as const;
export type SecretSetting = (typeof SECRET_SETTINGS)[number];

export interface FunctionRequirements {
  keyRings: readonly KeyRingSetting[];
  secrets: readonly SecretSetting[];
  /** Secrets required only in prod/HIPAA mode (dev and tests may run without them). */
  strictSecrets: readonly SecretSetting[];
  /** Secrets read when present, never required (optional integrations). */
  optionalSecrets?: readonly SecretSetting[];
  /** Whether the function can send PHI to an outside processor (needs PHI_PROCESSORS). */
  handlesPhi: boolean;
}

export const FUNCTION_REQUIREMENTS: Record<FunctionName, FunctionRequirements> = {
  web: { keyRings: [], secrets: [], strictSecrets: [], handlesPhi: false },
  auth: {
    keyRings: [
      "AUDIT_KEYS",
      "SESSION_KEYS",
      "PASSWORD_PEPPER_KEYS",
      "MFA_ENCRYPTION_KEYS",
      "RATE_LIMIT_KEYS",
    ],
    secrets: ["DATABASE_URL"],
    strictSecrets: ["UPSTASH_REDIS_REST_TOKEN"],
    optionalSecrets: ["OIDC_CLIENT_SECRET", "AZURE_CLIENT_SECRET", "GOOGLE_CLIENT_SECRET"],
    handlesPhi: true,
  },
  api: {
    keyRings: [
      "AUDIT_KEYS",
      "SESSION_KEYS",
      "API_KEY_HMAC_KEYS",
      "SHARE_LINK_KEYS",
      "REPORT_SIGNING_KEYS",
      "RATE_LIMIT_KEYS",
      // Admins create users with passwords through the api.
      "PASSWORD_PEPPER_KEYS",
    ],
    secrets: ["DATABASE_URL"],
    strictSecrets: ["QSTASH_TOKEN", "UPSTASH_REDIS_REST_TOKEN", "STORAGE_INTERNAL_TOKEN"],
    optionalSecrets: ["API_KEYS"],
    handlesPhi: true,
  },
  storage: {
    keyRings: [],
    secrets: [],
    strictSecrets: ["SUPABASE_SERVICE_ROLE_KEY", "STORAGE_INTERNAL_TOKEN"],
    handlesPhi: true,
  },
  pipeline: {
    keyRings: ["AUDIT_KEYS"],
    secrets: ["DATABASE_URL"],
    strictSecrets: [
      "QSTASH_TOKEN",
      "QSTASH_CURRENT_SIGNING_KEY",
      "QSTASH_NEXT_SIGNING_KEY",
      "STORAGE_INTERNAL_TOKEN",
    ],
    // The only function that may hold a model provider's key (ADR 0009): without it every
    // gateway call answers on-box.
    optionalSecrets: ["OPENAI_API_KEY"],
    handlesPhi: true,
  },
  cron: {
    keyRings: ["AUDIT_KEYS"],
    secrets: ["DATABASE_URL"],
    // The sweepers reach the storage function (deletions) through the STORAGE binding and
    // re-publish stuck pipeline steps to QStash.
    strictSecrets: ["STORAGE_INTERNAL_TOKEN", "QSTASH_TOKEN"],
    handlesPhi: true,
  },
};
