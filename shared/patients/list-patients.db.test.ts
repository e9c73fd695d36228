import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTenant, startTestDatabase, type TestDatabase } from "../../test/helpers/test-database";
import { type PatientPageQuery, selectPatientPage } from "./list-patients";
import { CURSOR_TIMESTAMP_FORMAT } from "./patient-view";

/**
 * The list and search queries must stay index scans for the application role. Under RLS a
 * condition calling a function that is not LEAKPROOF (lower(), LIKE) cannot become an
 * index condition, so an innocent-looking rewrite turns a search into a full scan of the
 * clinic's patients; these plans catch that. 5,000 patients, statistics fresh.
 */
const PATIENTS = 5_000;
let database: TestDatabase;
let tenant: string;
let deepCursor: { createdAt: string; id: string };

interface PlanNode {
  "Node Type": string;
  "Relation Name"?: string;
  "Index Name"?: string;
  Plans?: PlanNode[];
}

beforeAll(async () => {
  database = await startTestDatabase();
  tenant = await createTenant(database.owner, "plans");
  const other = await createTenant(database.owner, "plans-other");
  for (const t of [tenant, other]) {
    await database.owner`
      insert into medchr.patients (tenant_id, mrn, given_name, family_name, date_of_birth, sex, created_at)
      select ${t}, 'P-' || g, 'Given' || g, 'Family' || g, date '1940-01-01' + g, 'unknown',
        now() - make_interval(secs => g)
      from generate_series(1, ${PATIENTS}) g`;
  }
  await database.owner`analyze medchr.patients`;
  const [row] = await database.owner<{ id: string; created_at: string }[]>`
    select id, to_char(created_at at time zone 'UTC', ${CURSOR_TIMESTAMP_FORMAT}) as created_at
    from medchr.patients where tenant_id = ${tenant} order by created_at, id offset 4500 limit 1`;
  deepCursor = { createdAt: row!.created_at, id: row!.id };
});
afterAll(async () => {
  await database?.stop();
});

async function planOf(page: PatientPageQuery): Promise<{ nodes: PlanNode[]; rows: number }> {
  return database.db.withTenant({ tenantId: tenant, requestId: "plans" }, async (tx) => {
    const [explained] = await tx<{ "QUERY PLAN": [{ Plan: PlanNode }] }[]>`
      explain (format json) ${selectPatientPage(tx, page)}`;
    const nodes: PlanNode[] = [];
    const walk = (node: PlanNode) => {
      nodes.push(node);
      for (const child of node.Plans ?? []) walk(child);
    };
    walk(explained!["QUERY PLAN"][0].Plan);
    const rows = await selectPatientPage(tx, page);
    return { nodes, rows: rows.length };
  });
}

const seqScansOfPatients = (nodes: PlanNode[]) =>
  nodes.filter((n) => n["Node Type"] === "Seq Scan" && n["Relation Name"] === "patients");
// Bitmap index scans name their index but not the table: every index here is on patients.
const indexesUsed = (nodes: PlanNode[]) => nodes.flatMap((n) => (n["Index Name"] ? [n["Index Name"]] : []));

describe("list and search plans for the application role", () => {
  it.each<[string, PatientPageQuery, string, number]>([
    ["first page", { after: null, limit: 26 }, "patients_tenant_created_idx", 26],
    ["deep page", { after: null, limit: 26 }, "patients_tenant_created_idx", 26],
    ["rare name prefix", { q: "family1234", after: null, limit: 26 }, "patients_tenant_search_", 1],
    ["MRN", { mrn: "P-4321", after: null, limit: 26 }, "patients_tenant_mrn_key", 1],
    ["date of birth", { dateOfBirth: "1941-01-01", after: null, limit: 26 }, "patients_tenant_dob_idx", 1],
  ])("%s uses an index, never a sequential scan", async (label, page, index, expectedRows) => {
    const query = label === "deep page" ? { ...page, after: deepCursor } : page;
    const { nodes, rows } = await planOf(query);
    expect(seqScansOfPatients(nodes), label).toEqual([]);
    expect(
      indexesUsed(nodes).some((name) => name.startsWith(index)),
      `${label}: ${indexesUsed(nodes).join(", ")}`,
    ).toBe(true);
    expect(rows).toBe(expectedRows);
  });

  it("the check goes red for a condition RLS keeps off the index (lower() in the query)", async () => {
    const nodes = await database.db.withTenant({ tenantId: tenant, requestId: "plans" }, async (tx) => {
      const [explained] = await tx<{ "QUERY PLAN": [{ Plan: PlanNode }] }[]>`
        explain (format json) select id from medchr.patients
        where starts_with(lower(family_name) collate "C", ${"family1234"}) order by created_at, id limit 26`;
      const out: PlanNode[] = [];
      const walk = (node: PlanNode) => {
        out.push(node);
        for (const child of node.Plans ?? []) walk(child);
      };
      walk(explained!["QUERY PLAN"][0].Plan);
      return out;
    });
    expect(indexesUsed(nodes).some((name) => name.startsWith("patients_tenant_search_"))).toBe(false);
    expect(seqScansOfPatients(nodes).length + indexesUsed(nodes).length).toBeGreaterThan(0);
  });
});
