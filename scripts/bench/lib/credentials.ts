/**
 * One credential per benchmark client, as that many partner integrations or people would
 * call: a shared key or session would put every client in one rate-limit bucket and one
 * session row, which no real load looks like.
 */
import type { Database, Sql } from "../../../shared/db/database";
import {
  createApiKey,
  createUser,
  signIn,
  type TestApiKey,
  type TestSession,
} from "../../../test/helpers/identity";

export async function apiKeysPerClient(
  owner: Sql,
  tenantId: string,
  clients: number,
  options: Parameters<typeof createApiKey>[2],
): Promise<TestApiKey[]> {
  const keys: TestApiKey[] = [];
  for (let i = 0; i < clients; i++) keys.push(await createApiKey(owner, tenantId, options));
  return keys;
}

/** A clinician (the fixture's default role) signed in, per client. */
export async function sessionsPerClient(
  owner: Sql,
  db: Database,
  tenantId: string,
  clients: number,
): Promise<TestSession[]> {
  const sessions: TestSession[] = [];
  for (let i = 0; i < clients; i++) sessions.push(await signIn(db, await createUser(owner, tenantId)));
  return sessions;
}
