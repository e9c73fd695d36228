import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

/**
 * Three projects, one `npm test`:
 *  - unit:    plain Node (domain logic, middleware via app.request(), scripts)
 *  - db:      Node against PGlite with the real migrations (*.db.test.ts)
 *  - workers: the functions inside workerd (*.workers.test.ts), DB over TCP
 *  - e2e:     the real `npm start` stack and Debian's Chromium (*.e2e.test.ts)
 */
/**
 * Unhandled rejections raised inside postgres.js's Workers socket polyfill
 * (node_modules/postgres/cf/polyfills.js), not by our code; matched exactly, nothing broader:
 *  - every sql.end() cancels the read stream (runtime-facts.md);
 *  - a refused connect rejects `writer.ready`, which the polyfill never handles (the
 *    query itself still rejects and our code answers 503).
 */
const POSTGRES_POLYFILL_NOISE = new Set([
  "Stream was cancelled.",
  "proxy request failed, cannot connect to the specified address",
]);

export default defineConfig({
  test: {
    onUnhandledError(error) {
      if (POSTGRES_POLYFILL_NOISE.has((error as Error | undefined)?.message ?? "")) return false;
    },
    projects: [
      {
        test: {
          name: "unit",
          environment: "node",
          include: [
            "shared/**/*.test.ts",
            "scripts/**/*.test.ts",
            "test/**/*.test.ts",
            "functions/**/*.test.ts",
          ],
          exclude: ["**/*.db.test.ts", "**/*.workers.test.ts", "**/*.e2e.test.ts", "**/node_modules/**"],
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: "db",
          environment: "node",
          include: ["**/*.db.test.ts"],
          exclude: ["**/node_modules/**"],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          // PGlite is single-threaded per instance; a file gets its own instance, and
          // two cores run at most two at a time.
          maxWorkers: 2,
          // Projects with different worker counts run as separate groups, in this order.
          sequence: { groupOrder: 1 },
        },
      },
      {
        plugins: [
          cloudflareTest(({ inject }) => ({
            // The cron env has the shared compatibility settings and no service bindings;
            // each test passes the bindings of the function it exercises.
            wrangler: { configPath: "./wrangler.toml", environment: "cron" },
            miniflare: {
              bindings: {
                TEST_DATABASE_URL: inject("databaseUrl"),
                TEST_OWNER_DATABASE_URL: inject("ownerDatabaseUrl"),
              },
              // The cron env binds STORAGE to the storage Worker, which does not run inside
              // the test pool; tests that need storage pass their own fetcher explicitly.
              serviceBindings: {
                STORAGE: () => new Response("no storage worker in the test pool", { status: 503 }),
              },
            },
          })),
        ],
        test: {
          name: "workers",
          include: ["**/*.workers.test.ts"],
          exclude: ["**/node_modules/**"],
          globalSetup: ["./test/helpers/workers-global-setup.ts"],
          sequence: { groupOrder: 2 },
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: "e2e",
          environment: "node",
          include: ["test/e2e/**/*.e2e.test.ts"],
          testTimeout: 300_000,
          hookTimeout: 300_000,
          // Each file starts a whole stack (wrangler + workerd + PGlite): one at a time.
          fileParallelism: false,
          sequence: { groupOrder: 3 },
        },
      },
    ],
  },
});
