import type { Sql } from "./database";

export interface Migration {
  /** Supabase CLI layout: <14-digit timestamp>_<name>.sql */
  readonly version: string;
  readonly name: string;
  readonly sql: string;
  readonly sha256: string;
}

export type MigrationEvent =
  | { type: "applied"; migration: Migration; ms: number }
  | { type: "skipped"; migration: Migration };

export class MigrationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MigrationError";
  }
}

const FILE_PATTERN = /^(\d{14})_([a-z0-9_]+)\.sql$/;

export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

export async function parseMigration(fileName: string, sql: string): Promise<Migration> {
  const match = FILE_PATTERN.exec(fileName);
  if (!match)
    throw new MigrationError(`migration file name "${fileName}" must look like 20260101120000_name.sql`);
  return { version: match[1]!, name: match[2]!, sql, sha256: await sha256Hex(sql) };
}

/**
 * Applies pending migrations in version order, each in its own transaction together
 * with its ledger row. A migration that was applied before but whose text changed is
 * refused: history is never rewritten (fix forward with a new migration).
 */
export async function applyMigrations(
  sql: Sql,
  migrations: readonly Migration[],
  onEvent: (event: MigrationEvent) => void = () => {},
): Promise<{ applied: number; skipped: number }> {
  const sorted = [...migrations].sort((a, b) => a.version.localeCompare(b.version));
  const versions = new Set<string>();
  for (const m of sorted) {
    if (versions.has(m.version)) throw new MigrationError(`two migrations share version ${m.version}`);
    versions.add(m.version);
  }
  // postgres.js 3.4: reserve() on a pool that has never connected waits forever;
  // one query first opens a connection for it to take.
  await sql`select 1`;
  const reserved = await sql.reserve();
  try {
    await reserved.unsafe(`
      create schema if not exists medchr_meta;
      revoke all on schema medchr_meta from public;
      create table if not exists medchr_meta.schema_migrations (
        version text primary key,
        name text not null,
        sha256 text not null,
        applied_at timestamptz not null default now()
      );`);
    const rows = await reserved<{ version: string; name: string; sha256: string }[]>`
      select version, name, sha256 from medchr_meta.schema_migrations`;
    const ledger = new Map(rows.map((r) => [r.version, r]));
    for (const m of sorted) {
      const previous = ledger.get(m.version);
      if (previous && previous.sha256 !== m.sha256) {
        throw new MigrationError(
          `migration ${m.version}_${m.name} was edited after it was applied ` +
            `(ledger sha256 ${previous.sha256.slice(0, 12)}..., file ${m.sha256.slice(0, 12)}...). ` +
            "Restore the original file and add a new migration instead.",
        );
      }
    }
    const known = new Set(sorted.map((m) => m.version));
    for (const version of ledger.keys()) {
      if (!known.has(version)) {
        throw new MigrationError(`migration ${version} is in the database ledger but its file is missing`);
      }
    }
    let applied = 0;
    let skipped = 0;
    for (const m of sorted) {
      if (ledger.has(m.version)) {
        skipped++;
        onEvent({ type: "skipped", migration: m });
        continue;
      }
      const started = Date.now();
      await reserved.unsafe("begin");
      try {
        // Two migrators at once (two deploys): the second waits here, then sees the
        // version in the ledger and skips it. (A table lock rather than an advisory
        // lock: PGlite, the local engine, blocks forever on advisory locks.)
        await reserved.unsafe("lock table medchr_meta.schema_migrations in exclusive mode");
        const [again] = await reserved<{ sha256: string }[]>`
          select sha256 from medchr_meta.schema_migrations where version = ${m.version}`;
        if (again) {
          await reserved.unsafe("rollback");
          if (again.sha256 !== m.sha256)
            throw new MigrationError(`migration ${m.version}_${m.name} changed underneath`);
          skipped++;
          onEvent({ type: "skipped", migration: m });
          continue;
        }
        await reserved.unsafe(m.sql);
        await reserved`insert into medchr_meta.schema_migrations (version, name, sha256)
          values (${m.version}, ${m.name}, ${m.sha256})`;
        await reserved.unsafe("commit");
      } catch (error) {
        if (error instanceof MigrationError) throw error;
        await reserved.unsafe("rollback");
        const reason = error instanceof Error ? error.message : String(error);
        throw new MigrationError(`migration ${m.version}_${m.name} failed and was rolled back: ${reason}`);
      }
      applied++;
      onEvent({ type: "applied", migration: m, ms: Date.now() - started });
    }
    return { applied, skipped };
  } finally {
    reserved.release();
  }
}
