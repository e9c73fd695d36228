/**
 * The cron's stuck-job sweep (shared/jobs/sweep-stuck-jobs.ts) with the cron's own settings:
 * QSTASH_TOKEN and QSTASH_URL to re-publish steps, PUBLIC_ORIGIN to address them, AUDIT_KEYS.
 * For runScheduledJobs (scheduled.ts):
 *
 *   "jobs.sweep": stuckJobSweep(config, db, requestId),
 *
 * Counts only in its summary: { tenants, requeued, jobsFailed, failed }. Without a queue it
 * does not run: in dev that is a skip, in prod/HIPAA mode a failure (the log line is an error),
 * since stuck jobs would then go unnoticed.
 */
import { type AppConfig, requireKeyRing } from "../../shared/config/load-config";
import type { Database } from "../../shared/db/database";
import { sweepStuckJobs } from "../../shared/jobs/sweep-stuck-jobs";
import { createQStashJobQueue, qstashBaseUrlFromEnv } from "../../shared/queue/create-qstash-job-queue";
import type { JobQueue } from "../../shared/queue/job-queue";

export interface StuckJobSweepSettings {
  queue: JobQueue;
  publicOrigin: string;
}

function setting(config: AppConfig, name: string): string | undefined {
  const fromSecrets = (config.secrets as Readonly<Record<string, string | undefined>>)[name];
  const raw = fromSecrets ?? config.env[name];
  return typeof raw === "string" && raw.trim() !== "" ? raw.trim() : undefined;
}

/** The queue and origin from the cron's config, or the names of what is missing. */
export function readStuckJobSweepSettings(
  config: AppConfig,
): { ok: true; value: StuckJobSweepSettings } | { ok: false; problems: string[] } {
  const problems: string[] = [];
  const token = setting(config, "QSTASH_TOKEN");
  if (!token) problems.push("QSTASH_TOKEN is missing");
  const publicOrigin = config.publicOrigin;
  if (!publicOrigin) problems.push("PUBLIC_ORIGIN is missing");
  if (!token || !publicOrigin) return { ok: false, problems };
  try {
    return {
      ok: true,
      value: {
        queue: createQStashJobQueue({ token, baseUrl: qstashBaseUrlFromEnv(config.env) }),
        publicOrigin,
      },
    };
  } catch {
    return { ok: false, problems: ["QSTASH_URL must be https (http only on loopback)"] };
  }
}

export function stuckJobSweep(
  config: AppConfig,
  db: Database,
  requestId: string,
  options: { now?: () => Date; settings?: StuckJobSweepSettings } = {},
): () => Promise<Record<string, number>> {
  return async (): Promise<Record<string, number>> => {
    const settings = options.settings
      ? { ok: true as const, value: options.settings }
      : readStuckJobSweepSettings(config);
    if (!settings.ok) {
      const line = JSON.stringify({
        event: "jobs.sweep_not_configured",
        problems: settings.problems,
        requestId,
      });
      if (config.strict) {
        console.error(line);
        return { failed: 1 };
      }
      console.warn(line);
      return { skipped: 1 };
    }
    const summary = await sweepStuckJobs(db, settings.value.queue, {
      now: options.now?.() ?? new Date(),
      publicOrigin: settings.value.publicOrigin,
      auditKeys: requireKeyRing(config, "AUDIT_KEYS"),
      requestId,
    });
    return { ...summary };
  };
}
