/**
 * Names for the actors recorded in `created_by`/`edited_by`/`finalized_by` columns
 * (actorIdOf: a user's id, or `api_key:<key id>`), for screens and documents that must say
 * who did something in words. Read within the tenant (RLS): an actor of another clinic, or one
 * whose account is gone, has no name here and stays shown by id.
 */
import type { Tx } from "../db/database";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const API_KEY_ACTOR = /^api_key:([a-z0-9]{16})$/;

/** Actor id -> display name ("Dr A. Example", or `API key "Lab partner"`); unknown ids absent. */
export async function describeActors(tx: Tx, actorIds: Iterable<string>): Promise<Map<string, string>> {
  const userIds = new Set<string>();
  const keyIds = new Set<string>();
  for (const id of actorIds) {
    if (UUID.test(id)) userIds.add(id.toLowerCase());
    else {
      const key = API_KEY_ACTOR.exec(id)?.[1];
      if (key) keyIds.add(key);
    }
  }
  const names = new Map<string, string>();
  if (userIds.size > 0) {
    const users = await tx<{ id: string; display_name: string }[]>`
      select id::text as id, display_name from medchr.users
      where id = any(select jsonb_array_elements_text(${tx.json([...userIds])})::uuid)`;
    for (const u of users) names.set(u.id, u.display_name);
  }
  if (keyIds.size > 0) {
    const keys = await tx<{ key_id: string; name: string }[]>`
      select key_id, name from medchr.api_keys
      where key_id = any(select jsonb_array_elements_text(${tx.json([...keyIds])}))`;
    for (const k of keys) names.set(`api_key:${k.key_id}`, `API key "${k.name}"`);
  }
  return names;
}
