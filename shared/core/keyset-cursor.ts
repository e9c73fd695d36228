import { decodeBase64Url, encodeBase64Url } from "../config/key-ring";

/**
 * The opaque cursor of every keyset-paginated list (users, patients, documents): the last
 * row's created_at at microsecond precision (a millisecond Date would skip or repeat rows
 * created within one millisecond) and its id, base64url-encoded so clients treat it as
 * opaque and the format can change. A timestamp and a uuid only: cursors travel in URLs,
 * so they must never carry names or other PHI.
 */
export interface KeysetCursor {
  /** "YYYY-MM-DDTHH:MM:SS.ffffffZ", as produced by CURSOR_TIMESTAMP_FORMAT. */
  createdAt: string;
  id: string;
}

/** to_char format giving the UTC timestamp with microseconds. */
export const CURSOR_TIMESTAMP_FORMAT = 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"';

/** A cursor is ~60 characters; the cap bounds the work on whatever a client sends. */
export const MAX_CURSOR_CHARS = 200;

const BODY =
  /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\.(\d{6})Z\|([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;

/**
 * `tag` names the list ("d1" for documents) so a cursor of another list is refused, not
 * misread; lists without a tag keep their earlier, untagged cursors valid.
 */
export function encodeKeysetCursor(cursor: KeysetCursor, tag?: string): string {
  const body = `${cursor.createdAt}|${cursor.id}`;
  return encodeBase64Url(new TextEncoder().encode(tag ? `${tag}|${body}` : body));
}

/** null for anything this code did not produce (the caller answers 400 naming `cursor`). */
export function decodeKeysetCursor(text: string, tag?: string): KeysetCursor | null {
  if (text.length > MAX_CURSOR_CHARS) return null;
  const bytes = decodeBase64Url(text);
  if (!bytes) return null;
  let decoded: string;
  try {
    decoded = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return null;
  }
  if (tag) {
    if (!decoded.startsWith(`${tag}|`)) return null;
    decoded = decoded.slice(tag.length + 1);
  }
  const match = BODY.exec(decoded);
  if (!match) return null;
  const [, seconds, micros, id] = match as unknown as [string, string, string, string];
  // Date rolls 2026-02-30 over to March; a round trip that changes the text is not a real instant.
  const iso = `${seconds}.${micros.slice(0, 3)}Z`;
  const ms = Date.parse(iso);
  if (Number.isNaN(ms) || new Date(ms).toISOString() !== iso) return null;
  return { createdAt: `${seconds}.${micros}Z`, id };
}
