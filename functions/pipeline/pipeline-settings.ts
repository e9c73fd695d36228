/**
 * The pipeline function's own settings, checked per config (once per isolate): the QStash
 * signing keys its deliveries are verified with, the token and URL it publishes next steps
 * with, the public origin steps are addressed at, and the storage binding. In prod/HIPAA mode
 * load-config already refuses to start without the secrets; in dev and tests they may be
 * absent, and then the step route answers 503 misconfigured (never an unverified delivery).
 * Problems name settings, never values.
 */
import type { AppConfig } from "../../shared/config/load-config";
import { err, ok, type Result } from "../../shared/core/result";
import { qstashBaseUrlFromEnv } from "../../shared/queue/create-qstash-job-queue";
import { isAllowedServiceUrl } from "../../shared/queue/job-queue";
import { MIN_SIGNING_KEY_CHARS, type QStashSigningKeys } from "../../shared/queue/verify-qstash-signature";

export interface PipelineSettings {
  signingKeys: QStashSigningKeys;
  qstashToken: string;
  qstashUrl: string;
  /** PUBLIC_ORIGIN without a trailing slash. */
  publicOrigin: string;
}

function secret(config: AppConfig, name: string): string | undefined {
  const fromSecrets = (config.secrets as Readonly<Record<string, string | undefined>>)[name];
  const raw = fromSecrets ?? config.env[name];
  return typeof raw === "string" && raw.trim() !== "" ? raw.trim() : undefined;
}

const cache = new WeakMap<AppConfig, Result<PipelineSettings, { code: "unavailable"; message: string }>>();

export function readPipelineSettings(
  config: AppConfig,
): Result<PipelineSettings, { code: "unavailable"; message: string }> {
  const cached = cache.get(config);
  if (cached) return cached;
  const problems: string[] = [];
  const current = secret(config, "QSTASH_CURRENT_SIGNING_KEY");
  const next = secret(config, "QSTASH_NEXT_SIGNING_KEY");
  for (const [name, value] of [
    ["QSTASH_CURRENT_SIGNING_KEY", current],
    ["QSTASH_NEXT_SIGNING_KEY", next],
  ] as const) {
    if (!value) problems.push(`${name} is missing`);
    else if (value.length < MIN_SIGNING_KEY_CHARS) problems.push(`${name} is too short`);
  }
  const token = secret(config, "QSTASH_TOKEN");
  if (!token) problems.push("QSTASH_TOKEN is missing");
  const qstashUrl = qstashBaseUrlFromEnv(config.env);
  if (!isServiceUrl(qstashUrl)) problems.push("QSTASH_URL must be https (http only on loopback)");
  const origin = config.publicOrigin?.replace(/\/+$/, "");
  if (!origin) problems.push("PUBLIC_ORIGIN is missing");
  else if (!isServiceUrl(origin)) problems.push("PUBLIC_ORIGIN must be https (http only on loopback)");

  let result: Result<PipelineSettings, { code: "unavailable"; message: string }>;
  if (problems.length > 0 || !current || !next || !token || !origin) {
    console.error(`medchr-pipeline cannot run steps: ${problems.join("; ")}`);
    result = err({ code: "unavailable", message: "The pipeline is not configured." });
  } else {
    result = ok({
      signingKeys: { currentSigningKey: current, nextSigningKey: next },
      qstashToken: token,
      qstashUrl,
      publicOrigin: origin,
    });
  }
  cache.set(config, result);
  return result;
}

function isServiceUrl(value: string): boolean {
  try {
    return isAllowedServiceUrl(new URL(value));
  } catch {
    return false;
  }
}
