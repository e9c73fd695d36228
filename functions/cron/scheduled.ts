import { recordAuditVerification } from "../../shared/audit/record-audit-verification";
import { loadConfig, requireKeyRing, requireSecret } from "../../shared/config/load-config";
import { createDatabase } from "../../shared/db/database";
import { sweepDocumentStorage } from "../../shared/documents/sweep-document-storage";
import {
  createStorageServiceClient,
  type StorageFetcher,
} from "../../shared/storage/create-storage-service-client";
import { stuckJobSweep } from "./sweep-stuck-jobs";

/** The daily trigger (wrangler.toml [env.cron] triggers). */
export const DAILY_CRON = "17 3 * * *";
/** Every 15 minutes: stuck pipeline jobs, and sweepers that keep PHI from lingering (storage removals, abandoned uploads). */
export const SWEEP_CRON = "*/15 * * * *";

/**
 * Scheduled work. Each job logs ids and counts only, and one failing job does not stop
 * the others. Today: verify every tenant's audit chain (verdict recorded in the tenant's
 * own log), purge expired rate-limit windows, and purge ended sessions and stale MFA setup
 * tokens. Retention and the stuck-job sweeper join with their issues.
 */
export async function runScheduledJobs(cron: string, env: Record<string, unknown>): Promise<void> {
  const loaded = loadConfig("cron", env);
  if (!loaded.ok) {
    console.error(loaded.error.message);
    return;
  }
  const config = loaded.value;
  const db = createDatabase(requireSecret(config, "DATABASE_URL"));
  const requestId = `cron-${crypto.randomUUID()}`;
  type Job = () => Promise<{ failed?: number; [count: string]: number | undefined }>;
  const daily: Record<string, Job> = {
    "audit.verify": async () => {
      const { summary } = await recordAuditVerification(db, requireKeyRing(config, "AUDIT_KEYS"), {
        systemId: "cron.audit_verify",
        requestId,
      });
      return { ...summary };
    },
    "ratelimit.purge": async () => {
      const [row] = await db.withoutTenant(
        { requestId },
        (tx) => tx<{ removed: number }[]>`select medchr_ops.purge_expired_rate_limit_buckets() as removed`,
      );
      return { removed: row?.removed ?? 0 };
    },
    "auth_state.purge": async () => {
      const [row] = await db.withoutTenant(
        { requestId },
        (tx) =>
          tx<{ sessions_removed: number; setup_tokens_removed: number }[]>`
          select * from medchr.purge_expired_auth_state(${new Date()})`,
      );
      return {
        sessionsRemoved: row?.sessions_removed ?? 0,
        setupTokensRemoved: row?.setup_tokens_removed ?? 0,
      };
    },
  };
  const sweeps: Record<string, Job> = {
    "jobs.sweep": stuckJobSweep(config, db, requestId),
    "storage.sweep": async () => {
      const fetcher = env.STORAGE as StorageFetcher | undefined;
      const internalToken = config.secrets.STORAGE_INTERNAL_TOKEN;
      if (!fetcher || !internalToken) return { skipped: 1 };
      const storage = createStorageServiceClient({ fetcher, internalToken });
      return { ...(await sweepDocumentStorage(db, storage, { now: new Date(), limit: 1000, requestId })) };
    },
  };
  // A trigger added in wrangler.toml but not named here runs everything rather than nothing.
  const jobs = cron === SWEEP_CRON ? sweeps : cron === DAILY_CRON ? daily : { ...daily, ...sweeps };
  try {
    for (const [event, job] of Object.entries(jobs)) {
      try {
        const summary = await job();
        const failed = (summary.failed ?? 0) > 0;
        const line = JSON.stringify({ level: failed ? "error" : "info", event, cron, requestId, ...summary });
        if (failed) console.error(line);
        else console.info(line);
      } catch (error) {
        // Name only: driver messages can quote SQL parameters.
        const kind = error instanceof Error ? error.name : typeof error;
        console.error(JSON.stringify({ level: "error", event, cron, requestId, error: kind }));
      }
    }
  } finally {
    await db.close();
  }
}
