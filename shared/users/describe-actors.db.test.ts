import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiKey, createUser } from "../../test/helpers/identity";
import { createTenant, startTestDatabase, type TestDatabase } from "../../test/helpers/test-database";
import { describeActors } from "./describe-actors";

let database: TestDatabase;
let tenantA: string;
let tenantB: string;

beforeAll(async () => {
  database = await startTestDatabase();
  tenantA = await createTenant(database.owner, "describe-actors-a");
  tenantB = await createTenant(database.owner, "describe-actors-b");
});
afterAll(async () => {
  await database?.stop();
});

const inTenant = <T>(tenantId: string, work: Parameters<TestDatabase["db"]["withTenant"]>[1]) =>
  database.db.withTenant({ tenantId, actorId: "test", requestId: "describe-actors" }, work) as Promise<T>;

describe("describeActors", () => {
  it("names users and API keys of the clinic; other clinics' actors, unknown and malformed ids stay unnamed", async () => {
    const user = await createUser(database.owner, tenantA);
    await database.owner`update medchr.users set display_name = 'Dr Synthetic Example' where id = ${user.id}`;
    const key = await createApiKey(database.owner, tenantA);
    const otherUser = await createUser(database.owner, tenantB);
    const otherKey = await createApiKey(database.owner, tenantB);
    const ids = [
      user.id.toUpperCase(),
      user.id,
      `api_key:${key.keyId}`,
      otherUser.id,
      `api_key:${otherKey.keyId}`,
      "00000000-0000-4000-8000-000000000000",
      "api_key:'; drop table medchr.users; --",
      "system",
    ];
    const names = await inTenant<Map<string, string>>(tenantA, (tx) => describeActors(tx, ids));
    expect(Object.fromEntries(names)).toEqual({
      [user.id]: "Dr Synthetic Example",
      [`api_key:${key.keyId}`]: 'API key "test key"',
    });
    const none = await inTenant<Map<string, string>>(tenantA, (tx) => describeActors(tx, []));
    expect(none.size).toBe(0);
  });
});
