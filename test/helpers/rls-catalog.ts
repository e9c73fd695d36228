import type { Sql } from "../../shared/db/database";

/** Schemas holding MedCHR data. Every table in them is checked. */
export const DATA_SCHEMAS = ["medchr"] as const;

/**
 * Tables without tenant_id and why. Anything else without tenant_id fails the check,
 * so a new global table is a deliberate, reviewed decision.
 */
export const GLOBAL_TABLES: Record<string, string> = {
  "medchr.tenants": "the tenant itself; RLS on id = current tenant",
};

export interface RlsViolation {
  table: string;
  problem: string;
}

/**
 * Walks the catalog (brief section 3): every tenant table has RLS enabled AND forced,
 * policies covering all commands with USING and WITH CHECK that read the tenant setting
 * once per statement (an InitPlan: `(select medchr.current_tenant_id())`), and an index
 * leading with tenant_id. Returns what is wrong; empty means compliant.
 */
export async function findRlsViolations(owner: Sql): Promise<RlsViolation[]> {
  const violations: RlsViolation[] = [];
  const tables = await owner<
    { schema: string; name: string; rls: boolean; forced: boolean; has_tenant: boolean; has_id: boolean }[]
  >`
    select n.nspname as schema, c.relname as name, c.relrowsecurity as rls, c.relforcerowsecurity as forced,
           exists (select 1 from pg_attribute a where a.attrelid = c.oid and a.attname = 'tenant_id' and not a.attisdropped) as has_tenant,
           exists (select 1 from pg_attribute a where a.attrelid = c.oid and a.attname = 'id' and not a.attisdropped) as has_id
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where c.relkind in ('r', 'p') and n.nspname in ${owner([...DATA_SCHEMAS])}
    order by 1, 2`;
  for (const t of tables) {
    const table = `${t.schema}.${t.name}`;
    const key = t.has_tenant ? "tenant_id" : GLOBAL_TABLES[table] && t.has_id ? "id" : null;
    if (!key) {
      violations.push({ table, problem: "has no tenant_id and is not a reviewed global table" });
      continue;
    }
    if (!t.rls) violations.push({ table, problem: "row level security is not enabled" });
    if (!t.forced) violations.push({ table, problem: "row level security is not forced" });
    const policies = await owner<
      { cmd: string; qual: string | null; with_check: string | null; permissive: string }[]
    >`
      select cmd, qual, with_check, permissive from pg_policies
      where schemaname = ${t.schema} and tablename = ${t.name}`;
    if (policies.length === 0) {
      violations.push({ table, problem: "has no policy" });
      continue;
    }
    const tenantExpr = new RegExp(
      `\\b${key}\\s*=\\s*\\(\\s*SELECT\\s+medchr\\.current_tenant_id\\(\\)|\\(\\s*SELECT\\s+medchr\\.current_tenant_id\\(\\)[^)]*\\)\\s*=\\s*${key}\\b`,
      "i",
    );
    const all = policies.filter((p) => p.cmd === "ALL" && p.permissive === "PERMISSIVE");
    if (all.length === 0) violations.push({ table, problem: "no permissive policy for ALL commands" });
    for (const p of all) {
      if (!p.qual || !tenantExpr.test(p.qual)) {
        violations.push({
          table,
          problem: `USING does not compare ${key} to (select medchr.current_tenant_id())`,
        });
      }
      if (!p.with_check || !tenantExpr.test(p.with_check)) {
        violations.push({
          table,
          problem: `WITH CHECK does not compare ${key} to (select medchr.current_tenant_id())`,
        });
      }
    }
    // Other permissive policies would be OR-ed in and could widen access.
    for (const p of policies.filter((p) => p.permissive === "PERMISSIVE" && p.cmd !== "ALL")) {
      if (!p.qual || !tenantExpr.test(p.qual)) {
        violations.push({ table, problem: `extra ${p.cmd} policy is not tenant-scoped` });
      }
    }
    if (t.has_tenant) {
      const [indexed] = await owner<{ ok: boolean }[]>`
        select exists (
          select 1 from pg_index i
          join pg_attribute a on a.attrelid = i.indrelid and a.attnum = i.indkey[0]
          where i.indrelid = ${table}::regclass and a.attname = 'tenant_id'
        ) as ok`;
      if (!indexed?.ok) violations.push({ table, problem: "no index leads with tenant_id" });
    }
  }
  return violations;
}

/** Roles request code may run as: never superuser, never BYPASSRLS. */
export async function findRoleViolations(owner: Sql): Promise<string[]> {
  const problems: string[] = [];
  const roles = await owner<
    { rolname: string; rolsuper: boolean; rolbypassrls: boolean; rolinherit: boolean; rolcanlogin: boolean }[]
  >`
    select rolname, rolsuper, rolbypassrls, rolinherit, rolcanlogin from pg_roles
    where rolname in ('medchr_app', 'medchr_login')`;
  const byName = new Map(roles.map((r) => [r.rolname, r]));
  for (const name of ["medchr_app", "medchr_login"]) {
    const role = byName.get(name);
    if (!role) {
      problems.push(`${name} does not exist`);
      continue;
    }
    if (role.rolsuper) problems.push(`${name} is a superuser`);
    if (role.rolbypassrls) problems.push(`${name} can bypass RLS`);
  }
  if (byName.get("medchr_app")?.rolcanlogin) problems.push("medchr_app can log in");
  if (byName.get("medchr_login")?.rolinherit)
    problems.push("medchr_login inherits privileges without SET ROLE");
  return problems;
}
