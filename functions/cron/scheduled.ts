import { loadConfig } from "../../shared/config/load-config";

/**
 * Scheduled work. Jobs come with their issues (audit chain verification, retention,
 * stuck-job sweeper); each logs ids and counts only.
 */
export async function runScheduledJobs(cron: string, env: Record<string, unknown>): Promise<void> {
  const config = loadConfig("cron", env);
  if (!config.ok) {
    console.error(config.error.message);
    return;
  }
  console.info(JSON.stringify({ level: "info", event: "cron.tick", cron }));
}
