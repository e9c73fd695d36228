import type { Tx } from "../../db/database";
import { LAST_SEEN_GRANULARITY_MS } from "./session-timeouts";

/** Records activity for the idle timeout, at most once per LAST_SEEN_GRANULARITY_MS. */
export function sessionNeedsTouch(lastSeenAt: Date, now: Date): boolean {
  return now.getTime() - lastSeenAt.getTime() >= LAST_SEEN_GRANULARITY_MS;
}

export async function touchSession(tx: Tx, sessionId: string, now: Date): Promise<void> {
  await tx`update medchr.ui_sessions set last_seen_at = ${now}
    where id = ${sessionId} and revoked_at is null and last_seen_at < ${now}`;
}
