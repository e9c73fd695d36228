import { decodeBase64Url, encodeBase64Url } from "../config/key-ring";

/**
 * Keyset pagination over (created_at, id), oldest first. Both never change after insert,
 * so a client walking the pages sees every patient that existed when it started exactly
 * once, whatever is added, renamed or deleted meanwhile (OFFSET would skip or repeat), and
 * any page costs one index range scan (index patients_tenant_created_idx).
 *
 * Ordering by name would read better but put patients' names into every cursor, and
 * cursors travel in URLs (proxy and CDN logs); this one holds a timestamp and a uuid.
 * The encoding is opaque to clients (base64url) so the format can change.
 */
export interface PatientCursor {
  /** "YYYY-MM-DDTHH:MM:SS.ffffffZ": microseconds, or rows created in the same millisecond would be skipped. */
  createdAt: string;
  id: string;
}

/** A cursor is ~60 characters; the cap bounds the work on whatever a client sends. */
export const MAX_CURSOR_CHARS = 200;

const CURSOR_PATTERN =
  /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\.(\d{6})Z\|([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;

export function encodePatientCursor(cursor: PatientCursor): string {
  return encodeBase64Url(new TextEncoder().encode(`${cursor.createdAt}|${cursor.id}`));
}

/** null for anything this code did not produce (the caller answers 400 naming `cursor`). */
export function decodePatientCursor(text: string): PatientCursor | null {
  if (text.length > MAX_CURSOR_CHARS) return null;
  const bytes = decodeBase64Url(text);
  if (!bytes) return null;
  let decoded: string;
  try {
    decoded = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return null;
  }
  const match = CURSOR_PATTERN.exec(decoded);
  if (!match) return null;
  const [, seconds, micros, id] = match as unknown as [string, string, string, string];
  // Date rolls 2026-02-30 over to March; a round trip that changes the text is not a real instant.
  const ms = Date.parse(`${seconds}.${micros.slice(0, 3)}Z`);
  if (Number.isNaN(ms) || new Date(ms).toISOString() !== `${seconds}.${micros.slice(0, 3)}Z`) return null;
  return { createdAt: `${seconds}.${micros}Z`, id };
}
