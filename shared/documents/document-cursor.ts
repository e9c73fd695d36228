/**
 * Keyset pagination over a patient's documents, newest first by (created_at, id): stable
 * while documents are added and cheap at any depth, unlike OFFSET. The cursor is opaque to
 * clients; inside it is the last row's created_at at microsecond precision (a millisecond
 * Date would skip or repeat rows created within one millisecond) and its id.
 */
import { decodeBase64Url, encodeBase64Url } from "../config/key-ring";

export interface DocumentCursor {
  /** "YYYY-MM-DDTHH:MM:SS.ffffffZ", as produced by CURSOR_TIMESTAMP_FORMAT. */
  createdAt: string;
  id: string;
}

/** to_char format giving the UTC timestamp with microseconds. */
export const CURSOR_TIMESTAMP_FORMAT = 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"';

const CURSOR_PATTERN =
  /^d1\|(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z)\|([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;

/** "d1": a document cursor of this format, so a cursor of another list is refused, not misread. */
export function encodeDocumentCursor(cursor: DocumentCursor): string {
  return encodeBase64Url(new TextEncoder().encode(`d1|${cursor.createdAt}|${cursor.id}`));
}

/** null for anything that is not a cursor this code produced. */
export function decodeDocumentCursor(text: string): DocumentCursor | null {
  const bytes = decodeBase64Url(text);
  if (!bytes) return null;
  let decoded: string;
  try {
    decoded = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return null;
  }
  const match = CURSOR_PATTERN.exec(decoded);
  if (!match || Number.isNaN(Date.parse(match[1]!))) return null;
  return { createdAt: match[1]!, id: match[2]! };
}
