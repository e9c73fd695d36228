import { recordAuditVerification } from "../../shared/audit/record-audit-verification";
import { loadConfig, requireKeyRing, requireSecret } from "../../shared/config/load-config";
import { createDatabase } from "../../shared/db/database";

/** The daily trigger (wrangler.toml [env.cron] triggers). */
export const DAILY_CRON = "17 3 * * *";

/**
 * Scheduled work. Each job logs ids and counts only. Today: verify every tenant's audit
 * chain and record the verdict in the tenant's own log. Retention and the stuck-job
 * sweeper join with their issues.
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
  try {
    const { summary } = await recordAuditVerification(db, requireKeyRing(config, "AUDIT_KEYS"), {
      systemId: "cron.audit_verify",
      requestId,
    });
    const level = summary.failed > 0 ? "error" : "info";
    const line = JSON.stringify({ level, event: "audit.verify", cron, requestId, ...summary });
    if (summary.failed > 0) console.error(line);
    else console.info(line);
  } finally {
    await db.close();
  }
}
