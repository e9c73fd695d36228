/**
 * The storage settings of a function's config. SUPABASE_URL and SUPABASE_STORAGE_BUCKET are
 * plain variables, SUPABASE_SERVICE_ROLE_KEY and STORAGE_INTERNAL_TOKEN are secrets. Read
 * from AppConfig as they are declared today (secrets when load-config knows them, the raw
 * env otherwise), checked here so a function never runs its storage routes half-configured.
 * Problems name settings, never values.
 */
import type { AppConfig } from "../config/load-config";
import { err, ok, type Result } from "../core/result";
import { MIN_INTERNAL_TOKEN_CHARS, STORAGE_INTERNAL_TOKEN_SETTING } from "./storage-internal-api";

export const DEFAULT_STORAGE_BUCKET = "medchr-documents";
/** Supabase bucket ids in the form we create them: lowercase, DNS-like. */
const BUCKET_PATTERN = /^[a-z0-9][a-z0-9._-]{2,62}$/;

export interface SupabaseStorageSettings {
  readonly url: string;
  readonly serviceRoleKey: string;
  readonly bucket: string;
}

export interface StorageSettingsProblem {
  readonly code: "unavailable";
  readonly message: string;
  /** Setting names only. */
  readonly problems: readonly string[];
}

function setting(config: AppConfig, name: string): string | undefined {
  const fromSecrets = (config.secrets as Readonly<Record<string, string | undefined>>)[name];
  const raw = fromSecrets ?? config.env[name];
  return typeof raw === "string" && raw.trim() !== "" ? raw.trim() : undefined;
}

export function readSupabaseStorageSettings(
  config: AppConfig,
): Result<SupabaseStorageSettings, StorageSettingsProblem> {
  const problems: string[] = [];
  const url = setting(config, "SUPABASE_URL");
  let parsed: URL | undefined;
  try {
    parsed = url ? new URL(url) : undefined;
  } catch {
    parsed = undefined;
  }
  if (!url) problems.push("SUPABASE_URL is missing");
  else if (!parsed || (parsed.protocol !== "https:" && parsed.protocol !== "http:")) {
    problems.push("SUPABASE_URL is not an http(s) URL");
  } else if (config.strict && parsed.protocol !== "https:") {
    // The service-role key travels in every request: TLS only outside dev (ASVS 12.2.1).
    problems.push("SUPABASE_URL must use https in prod/HIPAA mode");
  }
  const serviceRoleKey = setting(config, "SUPABASE_SERVICE_ROLE_KEY");
  if (!serviceRoleKey) problems.push("SUPABASE_SERVICE_ROLE_KEY is missing");
  const bucket = setting(config, "SUPABASE_STORAGE_BUCKET") ?? DEFAULT_STORAGE_BUCKET;
  if (!BUCKET_PATTERN.test(bucket)) problems.push("SUPABASE_STORAGE_BUCKET is not a valid bucket id");
  if (problems.length > 0 || !url || !serviceRoleKey) {
    return err({ code: "unavailable", message: "Object storage is not configured.", problems });
  }
  return ok({ url: url.replace(/\/+$/, ""), serviceRoleKey, bucket });
}

/** The shared token of the internal storage API, or a problem when it is missing or too short. */
export function readStorageInternalToken(config: AppConfig): Result<string, StorageSettingsProblem> {
  const token = setting(config, STORAGE_INTERNAL_TOKEN_SETTING);
  if (!token) {
    return err({
      code: "unavailable",
      message: "The internal storage token is not configured.",
      problems: [`${STORAGE_INTERNAL_TOKEN_SETTING} is missing`],
    });
  }
  if (token.length < MIN_INTERNAL_TOKEN_CHARS) {
    return err({
      code: "unavailable",
      message: "The internal storage token is not configured.",
      problems: [
        `${STORAGE_INTERNAL_TOKEN_SETTING} is weak: it needs at least ${MIN_INTERNAL_TOKEN_CHARS} characters`,
      ],
    });
  }
  return ok(token);
}

/**
 * Constant-time comparison of a presented token with the configured one: both are hashed
 * to 32 bytes first, so neither the time taken nor a length difference reveals how much of
 * a guess was right (ASVS 11.x side-channel guidance). WebCrypto only: runs in workerd and Node.
 */
export async function isInternalTokenValid(
  presented: string | null | undefined,
  expected: string,
): Promise<boolean> {
  const encoder = new TextEncoder();
  const [a, b] = await Promise.all([
    crypto.subtle.digest("SHA-256", encoder.encode(presented ?? "")),
    crypto.subtle.digest("SHA-256", encoder.encode(expected)),
  ]);
  const left = new Uint8Array(a);
  const right = new Uint8Array(b);
  let difference = 0;
  for (let i = 0; i < left.length; i++) difference |= left[i]! ^ right[i]!;
  return difference === 0 && typeof presented === "string" && presented.length > 0;
}
