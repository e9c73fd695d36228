import { cronApp } from "./app";
import { runScheduledJobs } from "./scheduled";

export default {
  fetch: cronApp.fetch,
  scheduled(controller: ScheduledController, env: Record<string, unknown>, ctx: ExecutionContext) {
    ctx.waitUntil(runScheduledJobs(controller.cron, env));
  },
} satisfies ExportedHandler<Record<string, unknown>>;
