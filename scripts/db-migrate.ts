/**
 * npm run db:migrate [-- --database-url URL] [--env-file FILE]
 * Applies supabase/migrations to any Postgres (a Supabase project included) with a
 * ledger of versions and SHA-256; an edited historical migration is refused.
 * Connects as an owner (MIGRATION_DATABASE_URL, else DATABASE_URL): migrations create
 * roles and tables, which the request role can never do.
 */
import { parseArgs } from "node:util";
import { connect } from "../shared/db/database";
import { applyMigrations, MigrationError } from "../shared/db/migrate";
import { loadEnvFile, runCli, UsageError } from "./lib/cli";
import { readMigrations } from "./lib/migrations-dir";

await runCli(async () => {
  const { values } = parseArgs({
    options: { "database-url": { type: "string" }, "env-file": { type: "string" } },
  });
  loadEnvFile(values["env-file"]);
  const url = values["database-url"] ?? process.env.MIGRATION_DATABASE_URL ?? process.env.DATABASE_URL;
  if (!url) throw new UsageError("set MIGRATION_DATABASE_URL (or DATABASE_URL, or --database-url)");
  const sql = connect(url, { max: 1 });
  try {
    const migrations = await readMigrations();
    const result = await applyMigrations(sql, migrations, (event) => {
      const label = `${event.migration.version}_${event.migration.name}`;
      if (event.type === "applied") console.info(`applied  ${label} (${event.ms} ms)`);
    });
    console.info(`migrations: ${result.applied} applied, ${result.skipped} already applied`);
    return 0;
  } catch (error) {
    if (error instanceof MigrationError) {
      console.error(`refused: ${error.message}`);
      return 1;
    }
    throw error;
  } finally {
    await sql.end({ timeout: 5 });
  }
});
