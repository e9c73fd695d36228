import {
  decodeKeysetCursor,
  encodeKeysetCursor,
  type KeysetCursor,
  MAX_CURSOR_CHARS,
} from "../core/keyset-cursor";

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
export type PatientCursor = KeysetCursor;
export { MAX_CURSOR_CHARS };

export const encodePatientCursor = (cursor: PatientCursor): string => encodeKeysetCursor(cursor);
export const decodePatientCursor = (text: string): PatientCursor | null => decodeKeysetCursor(text);
