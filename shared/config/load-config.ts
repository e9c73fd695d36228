import { z } from "zod";
import { indexEnvApiKeys } from "../auth/api-keys/env-api-keys";
import { parseSsoSettings } from "../auth/sso/sso-settings";
import { err, ok, type Result } from "../core/result";
import { createCidrSet } from "../net/create-cidr-set";
import {
  FUNCTION_REQUIREMENTS,
  type FunctionName,
  type KeyRingSetting,
  type SecretSetting,
} from "./functions";
import { type KeyRing, parseKeyRing } from "./key-ring";

/**
 * PHI processors a tenant policy may allow. "none" means nothing ever leaves the box
 * (the on-box AI provider does all work). HIPAA 164.308(b): each needs a BAA.
 */
export const KNOWN_PHI_PROCESSORS = ["openai"] as const;

/**
 * Secrets shorter than this are refused in prod/HIPAA. 32 characters of a random token
 * is roughly 190 bits for base64 alphabets, above the 128-bit floor of ASVS 11.2.
 */
const MIN_SECRET_CHARS = 32;

const booleanFlag = z
  .enum(["true", "false", "1", "0", "yes", "no", "on", "off", ""])
  .optional()
  .transform((v) => v === "true" || v === "1" || v === "yes" || v === "on");

const baseSchema = z.object({
  APP_ENV: z.enum(["dev", "test", "prod"]),
  HIPAA_MODE: booleanFlag,
  PHI_PROCESSORS: z.string().optional(),
  PHI_REDACTION_ENABLED: booleanFlag,
  TRUST_PROXY_HEADERS: booleanFlag,
  TRUSTED_PROXY_IPS: z.string().optional(),
  STEP_UP_WINDOW_MINUTES: z.coerce.number().int().min(1).max(60).optional(),
  MAX_UPLOAD_BYTES: z.coerce
    .number()
    .int()
    .min(1)
    .max(100 * 1024 * 1024)
    .optional(),
  PUBLIC_ORIGIN: z.string().url().optional(),
  SUPABASE_URL: z.string().url().optional(),
  SUPABASE_STORAGE_BUCKET: z
    .string()
    .regex(/^[a-z0-9][a-z0-9._-]{2,62}$/)
    .optional(),
});

export interface AppConfig {
  readonly functionName: FunctionName;
  readonly appEnv: "dev" | "test" | "prod";
  readonly hipaaMode: boolean;
  /** prod or HIPAA mode: every dev convenience off, every secret strong. */
  readonly strict: boolean;
  readonly phiProcessors: readonly string[];
  /** PHI_REDACTION_ENABLED: identifiers removed before every external AI call, whatever tenants say. */
  readonly phiRedactionEnabled: boolean;
  readonly trustProxyHeaders: boolean;
  readonly trustedProxyCidrs: readonly string[];
  readonly stepUpWindowMinutes: number;
  readonly maxUploadBytes: number;
  readonly publicOrigin: string | undefined;
  readonly keyRings: Partial<Record<KeyRingSetting, KeyRing>>;
  readonly secrets: Partial<Record<SecretSetting, string>>;
  /** Raw env for adapter settings that are not secrets (URLs, bucket names). */
  readonly env: Readonly<Record<string, unknown>>;
}

export interface ConfigProblems {
  readonly code: "invalid_input";
  readonly message: string;
  readonly problems: readonly string[];
}

/** Names of the dev conveniences; any of them on in prod/HIPAA mode refuses start. */
export const DEV_FLAG_PREFIX = "DEV_";

function isTruthy(value: unknown): boolean {
  return typeof value === "string" && ["true", "1", "yes", "on"].includes(value.trim().toLowerCase());
}

/** Validate one function's environment. Pure: no I/O, so it runs at the edge and in CLIs. */
export function loadConfig(
  functionName: FunctionName,
  env: Readonly<Record<string, unknown>>,
): Result<AppConfig, ConfigProblems> {
  const problems: string[] = [];
  const parsed = baseSchema.safeParse(env);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      problems.push(`${issue.path.join(".") || "env"}: ${issue.message}`);
    }
    return err({ code: "invalid_input", message: summary(functionName, problems), problems });
  }
  const base = parsed.data;
  const strict = base.APP_ENV === "prod" || base.HIPAA_MODE;
  const requirements = FUNCTION_REQUIREMENTS[functionName];

  const keyRings: Partial<Record<KeyRingSetting, KeyRing>> = {};
  for (const name of requirements.keyRings) {
    const raw = typeof env[name] === "string" ? (env[name] as string) : undefined;
    const { ring, problems: ringProblems } = parseKeyRing(name, raw, { strict });
    problems.push(...ringProblems);
    if (ring) keyRings[name] = ring;
  }

  const secrets: Partial<Record<SecretSetting, string>> = {};
  const wanted = strict ? [...requirements.secrets, ...requirements.strictSecrets] : requirements.secrets;
  for (const name of new Set<SecretSetting>(wanted)) {
    const value = typeof env[name] === "string" ? (env[name] as string).trim() : "";
    if (!value) {
      problems.push(`${name} is missing`);
      continue;
    }
    if (strict && name !== "DATABASE_URL" && value.length < MIN_SECRET_CHARS) {
      problems.push(`${name} is weak: it needs at least ${MIN_SECRET_CHARS} characters`);
      continue;
    }
    secrets[name] = value;
  }
  for (const name of requirements.strictSecrets) {
    if (!strict && typeof env[name] === "string" && env[name]) secrets[name] = env[name] as string;
  }
  for (const name of requirements.optionalSecrets ?? []) {
    const value = typeof env[name] === "string" ? (env[name] as string).trim() : "";
    if (value) secrets[name] = value;
  }

  if (functionName === "api") problems.push(...indexEnvApiKeys(secrets.API_KEYS, { strict }).problems);
  if (functionName === "auth") {
    const sso = parseSsoSettings(env, { strict });
    if (!sso.ok) problems.push(...sso.error.problems);
  }

  const trustedProxyCidrs = parseList(base.TRUSTED_PROXY_IPS);
  if (!createCidrSet(trustedProxyCidrs).ok)
    problems.push("TRUSTED_PROXY_IPS has an entry that is not an IP or CIDR");
  if (base.TRUST_PROXY_HEADERS && trustedProxyCidrs.length === 0) {
    problems.push("TRUST_PROXY_HEADERS is on but TRUSTED_PROXY_IPS is empty: no proxy could be trusted");
  }

  const phiProcessors = parseList(base.PHI_PROCESSORS).filter((p) => p !== "none");
  if (strict) {
    if (requirements.handlesPhi && base.PHI_PROCESSORS === undefined) {
      problems.push('PHI_PROCESSORS is missing: list the allowed processors, or "none"');
    }
    for (const processor of phiProcessors) {
      if (!(KNOWN_PHI_PROCESSORS as readonly string[]).includes(processor)) {
        problems.push(`PHI_PROCESSORS names an unknown processor "${processor}"`);
      }
    }
    for (const [name, value] of Object.entries(env)) {
      if (name.startsWith(DEV_FLAG_PREFIX) && isTruthy(value)) {
        problems.push(`${name} is a dev convenience and must be off in prod/HIPAA mode`);
      }
    }
    if (base.PUBLIC_ORIGIN !== undefined && !base.PUBLIC_ORIGIN.startsWith("https://")) {
      problems.push("PUBLIC_ORIGIN must use https in prod/HIPAA mode");
    }
    const dbUrl = secrets.DATABASE_URL;
    if (dbUrl && /[?&]sslmode=disable\b/.test(dbUrl)) {
      problems.push("DATABASE_URL disables TLS (sslmode=disable) in prod/HIPAA mode");
    }
  }

  if (problems.length > 0) {
    return err({ code: "invalid_input", message: summary(functionName, problems), problems });
  }
  return ok({
    functionName,
    appEnv: base.APP_ENV,
    hipaaMode: base.HIPAA_MODE,
    strict,
    phiProcessors,
    phiRedactionEnabled: base.PHI_REDACTION_ENABLED,
    trustProxyHeaders: base.TRUST_PROXY_HEADERS,
    trustedProxyCidrs,
    stepUpWindowMinutes: base.STEP_UP_WINDOW_MINUTES ?? 15,
    maxUploadBytes: base.MAX_UPLOAD_BYTES ?? 25 * 1024 * 1024,
    publicOrigin: base.PUBLIC_ORIGIN,
    keyRings,
    secrets,
    env,
  });
}

function parseList(value: string | undefined): string[] {
  return (value ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
}

function summary(functionName: FunctionName, problems: readonly string[]): string {
  return `medchr-${functionName} refuses to start:\n${problems.map((p) => `  - ${p}`).join("\n")}`;
}

/** The config-specific key ring, or an exception: a function asked for a ring it did not declare. */
export function requireKeyRing(config: AppConfig, name: KeyRingSetting): KeyRing {
  const ring = config.keyRings[name];
  if (!ring) throw new Error(`${config.functionName} did not declare key ring ${name}`);
  return ring;
}

export function requireSecret(config: AppConfig, name: SecretSetting): string {
  const value = config.secrets[name];
  if (!value) throw new Error(`${config.functionName} has no ${name}`);
  return value;
}
