import { afterEach, describe, expect, it } from "vitest";
import { readMigrations } from "../../scripts/lib/migrations-dir";
import { startLocalPostgres } from "../../scripts/local/pglite-server";
import { connect } from "./database";
import { applyMigrations, MigrationError, parseMigration } from "./migrate";

const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

async function emptyDatabase() {
  const pg = await startLocalPostgres();
  const sql = connect(pg.ownerUrl, { max: 2 });
  stops.push(async () => {
    await sql.end({ timeout: 1 });
    await pg.stop();
  });
  return sql;
}

describe("applyMigrations", () => {
  it("applies every real migration to an empty database, then nothing on a second run", async () => {
    const sql = await emptyDatabase();
    const migrations = await readMigrations();
    const first = await applyMigrations(sql, migrations);
    expect(first).toEqual({ applied: migrations.length, skipped: 0 });
    const second = await applyMigrations(sql, migrations);
    expect(second).toEqual({ applied: 0, skipped: migrations.length });
    const ledger = await sql<{ version: string; sha256: string }[]>`
      select version, sha256 from medchr_meta.schema_migrations order by version`;
    expect(ledger).toEqual(migrations.map((m) => ({ version: m.version, sha256: m.sha256 })));
  });

  it("refuses a historical migration whose text changed, before applying anything new", async () => {
    const sql = await emptyDatabase();
    const migrations = await readMigrations();
    await applyMigrations(sql, migrations);
    const edited = [...migrations];
    edited[1] = await parseMigration(
      `${migrations[1]!.version}_${migrations[1]!.name}.sql`,
      `${migrations[1]!.sql}\n-- sneaky edit`,
    );
    const extra = await parseMigration("29990101000000_later.sql", "create table medchr_meta.later (x int);");
    await expect(applyMigrations(sql, [...edited, extra])).rejects.toThrow(/was edited after it was applied/);
    const [later] = await sql<
      { exists: boolean }[]
    >`select to_regclass('medchr_meta.later') is not null as exists`;
    expect(later!.exists).toBe(false);
  });

  it("refuses when the ledger names a migration whose file is gone", async () => {
    const sql = await emptyDatabase();
    const migrations = await readMigrations();
    await applyMigrations(sql, migrations);
    await expect(applyMigrations(sql, migrations.slice(0, -1))).rejects.toThrow(/file is missing/);
  });

  it("rolls back a failing migration completely and records nothing", async () => {
    const sql = await emptyDatabase();
    const broken = await parseMigration(
      "20000101000000_broken.sql",
      "create table medchr_meta.half (x int); select 1/0;",
    );
    await expect(applyMigrations(sql, [broken])).rejects.toThrow(MigrationError);
    const [row] = await sql<{ half: boolean; recorded: number }[]>`
      select to_regclass('medchr_meta.half') is not null as half,
             (select count(*)::int from medchr_meta.schema_migrations) as recorded`;
    expect(row).toEqual({ half: false, recorded: 0 });
  });

  it("rejects badly named files and duplicate versions", async () => {
    await expect(parseMigration("init.sql", "")).rejects.toThrow(/must look like/);
    const a = await parseMigration("20000101000000_a.sql", "select 1");
    const b = await parseMigration("20000101000000_b.sql", "select 2");
    const sql = await emptyDatabase();
    await expect(applyMigrations(sql, [a, b])).rejects.toThrow(/share version/);
  });
});
