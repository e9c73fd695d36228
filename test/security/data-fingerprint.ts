/**
 * A digest of every table's contents, for suites that must prove a refused request wrote
 * nothing: equal fingerprints before and after mean no row changed. Tables whose rows change
 * on every request by design (append-only logs, counters, last-used touches) are left out; the
 * caller checks those by count where it matters.
 */
import type { Sql } from "../../shared/db/database";

export const VOLATILE_TABLES: ReadonlySet<string> = new Set([
  "audit_events",
  "audit_chain_heads",
  "ui_sessions",
  "api_keys",
  "rate_limit_buckets",
  "login_attempts",
]);

/**
 * Columns touched by reading (a session's last_seen_at, a key's last_used_at). With
 * `includeTouched`, those tables are fingerprinted without them, so a revoke or a new session
 * still shows while a mere authenticated call does not.
 */
const TOUCH_COLUMNS: Readonly<Record<string, readonly string[]>> = {
  ui_sessions: ["last_seen_at"],
  api_keys: ["last_used_at"],
};

export async function dataFingerprint(
  owner: Sql,
  options: { includeTouched?: boolean } = {},
): Promise<Record<string, string>> {
  const tables = await owner<{ schema: string; name: string }[]>`
    select table_schema as schema, table_name as name from information_schema.tables
    where table_schema in ('medchr', 'medchr_ops') and table_type = 'BASE TABLE'
    order by 1, 2`;
  const out: Record<string, string> = {};
  for (const t of tables) {
    const touched = options.includeTouched ? TOUCH_COLUMNS[t.name] : undefined;
    if (VOLATILE_TABLES.has(t.name) && !touched) continue;
    const rowText = touched ? `(to_jsonb(x) - ${touched.map((c) => `'${c}'`).join(" - ")})::text` : "x::text";
    const [row] = await owner.unsafe<{ digest: string | null; n: number }[]>(
      `select md5(coalesce(string_agg(${rowText}, '|' order by ${rowText}), '')) as digest, count(*)::int as n
       from "${t.schema}"."${t.name}" x`,
    );
    out[`${t.schema}.${t.name}`] = `${row!.n}:${row!.digest}`;
  }
  return out;
}
