import { readMigrations } from "../../scripts/lib/migrations-dir";
import { startLocalPostgres } from "../../scripts/local/pglite-server";
import { connect, type Database, databaseFromSql, type Sql } from "../../shared/db/database";
import { applyMigrations } from "../../shared/db/migrate";

export interface TestDatabase {
  /** Operator connection (superuser on PGlite): seeding and tamper tests only. */
  owner: Sql;
  /** What request code gets: transactions switch to the application role. */
  db: Database;
  url: string;
  ownerUrl: string;
  stop(): Promise<void>;
}

/** A fresh PGlite database with every real migration applied. One per test file. */
export async function startTestDatabase(): Promise<TestDatabase> {
  const pg = await startLocalPostgres();
  const owner = connect(pg.ownerUrl, { max: 4 });
  await applyMigrations(owner, await readMigrations());
  const appSql = connect(pg.url, { max: 8 });
  return {
    owner,
    db: databaseFromSql(appSql),
    url: pg.url,
    ownerUrl: pg.ownerUrl,
    async stop() {
      await appSql.end({ timeout: 1 });
      await owner.end({ timeout: 1 });
      await pg.stop();
    },
  };
}

export async function createTenant(owner: Sql, slug: string, name = `Clinic ${slug}`): Promise<string> {
  const [row] = await owner<{ id: string }[]>`
    insert into medchr.tenants (name, slug) values (${name}, ${slug}) returning id`;
  return row!.id;
}
