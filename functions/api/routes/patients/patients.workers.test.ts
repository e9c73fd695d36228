import { env } from "cloudflare:workers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect } from "../../../../shared/db/database";
import { createFunctionApp } from "../../../../shared/http/create-app";
import { createApiKey, type TestApiKey } from "../../../../test/helpers/identity";
import { testEnv } from "../../../../test/helpers/test-env";
import { registerPatientRoutes } from "./index";

/**
 * The patients API inside workerd: Unicode normalisation and case folding, RFC 8785
 * comparison of JSON fields and postgres over TCP must behave there as in Node.
 */
const urls = env as unknown as { TEST_DATABASE_URL: string; TEST_OWNER_DATABASE_URL: string };
const owner = connect(urls.TEST_OWNER_DATABASE_URL);
const bindings = testEnv(urls.TEST_DATABASE_URL);
const app = createFunctionApp("api", { usesDatabase: true });
registerPatientRoutes(app);
let key: TestApiKey;
// biome-ignore lint/suspicious/noExplicitAny: response bodies are checked field by field
type Body = Record<string, any>;

beforeAll(async () => {
  const [row] = await owner<{ id: string }[]>`
    insert into medchr.tenants (name, slug) values ('Workerd Patients', ${`wd-patients-${Date.now()}`}) returning id`;
  key = await createApiKey(owner, row!.id, { scopes: ["read", "write"] });
});
afterAll(() => owner.end());

async function call(method: string, path: string, body?: unknown) {
  const res = await app.request(
    path,
    {
      method,
      headers: { "CF-Connecting-IP": "192.0.2.20", ...key.headers },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    },
    bindings,
  );
  return {
    status: res.status,
    json: res.status === 204 ? null : ((await res.json()) as Body),
  };
}

describe("patients API (workerd)", () => {
  it("creates, finds, reads, updates and deletes a patient", async () => {
    const created = await call("POST", "/api/v1/patients", {
      givenName: "Jose\u0301",
      familyName: "Ölmez",
      dateOfBirth: "1979-03-04",
      sex: "male",
      mrn: "WD-1",
      lifestyle: { exercise: "light" },
    });
    expect(created.status).toBe(201);
    const id = created.json!.patient.id as string;
    expect(created.json!.patient.givenName).toBe("Jos\u00e9");

    const found = await call("GET", `/api/v1/patients?q=${encodeURIComponent("öl")}`);
    expect(found.json!.patients.map((p: { id: string }) => p.id)).toEqual([id]);
    const byName = await call("GET", `/api/v1/patients?q=${encodeURIComponent("JOSÉ")}`);
    expect(byName.json!.patients).toHaveLength(1);

    const unchanged = await call("PATCH", `/patients/${id}`, { lifestyle: { exercise: "light" } });
    expect(unchanged.status).toBe(200);
    const updated = await call("PATCH", `/patients/${id}`, { mrn: null, dateOfBirth: "1979-03-05" });
    expect(updated.json!.patient).toMatchObject({ mrn: null, dateOfBirth: "1979-03-05" });

    expect((await call("GET", `/api/v1/patients/${id}`)).status).toBe(200);
    expect((await call("DELETE", `/api/v1/patients/${id}`)).status).toBe(204);
    expect((await call("GET", `/api/v1/patients/${id}`)).status).toBe(404);

    const fields = await owner<{ details: { fields?: string[] } }[]>`
      select details from medchr.audit_events where resource_id = ${id} and action = 'patient.update' order by seq`;
    expect(fields.map((r) => [...(r.details.fields ?? [])].sort())).toEqual([[], ["date_of_birth", "mrn"]]);
  });
});
