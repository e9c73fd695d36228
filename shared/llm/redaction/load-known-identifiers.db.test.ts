import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTenant, startTestDatabase, type TestDatabase } from "../../../test/helpers/test-database";
import { loadKnownIdentifiers } from "./load-known-identifiers";
import { NO_KNOWN_IDENTIFIERS } from "./redaction";

let t: TestDatabase;
let tenantA: string;
let tenantB: string;
let patientId: string;

beforeAll(async () => {
  t = await startTestDatabase();
  tenantA = await createTenant(t.owner, "known-ids-a");
  tenantB = await createTenant(t.owner, "known-ids-b");
  const [row] = await t.owner<{ id: string }[]>`
    insert into medchr.patients (tenant_id, given_name, family_name, date_of_birth, mrn, contact)
    values (${tenantA}, 'Synthia', 'Testwell', '1961-03-05', 'ZZ-0001-0002',
      ${t.owner.json({ phone: "(555) 010-2030", email: "s.testwell@example.org", address: { line1: "12 Nowhere Lane", city: "Placeholder Falls", postalCode: "00000", country: "US" } })})
    returning id`;
  patientId = row!.id;
});
afterAll(async () => {
  await t?.stop();
});

describe("loadKnownIdentifiers", () => {
  it("reads the patient's stored identifiers in the clinic's scope", async () => {
    const known = await t.db.withTenant({ tenantId: tenantA, requestId: "test" }, (tx) =>
      loadKnownIdentifiers(tx, patientId),
    );
    expect(known).toEqual({
      names: [{ given: "Synthia", family: "Testwell" }],
      dateOfBirth: "1961-03-05",
      mrn: "ZZ-0001-0002",
      phones: ["(555) 010-2030"],
      emails: ["s.testwell@example.org"],
      addresses: ["12 Nowhere Lane", "Placeholder Falls", "00000"],
      otherIds: [],
    });
  });

  it("another clinic, or an unknown patient, gets nothing", async () => {
    expect(
      await t.db.withTenant({ tenantId: tenantB, requestId: "test" }, (tx) =>
        loadKnownIdentifiers(tx, patientId),
      ),
    ).toEqual(NO_KNOWN_IDENTIFIERS);
    expect(
      await t.db.withTenant({ tenantId: tenantA, requestId: "test" }, (tx) =>
        loadKnownIdentifiers(tx, "00000000-0000-4000-8000-000000000000"),
      ),
    ).toEqual(NO_KNOWN_IDENTIFIERS);
  });
});
