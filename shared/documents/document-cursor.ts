/**
 * Keyset pagination over a patient's documents, newest first by (created_at, id): stable
 * while documents are added and cheap at any depth, unlike OFFSET. The cursor is opaque to
 * clients; inside it is the last row's created_at at microsecond precision (a millisecond
 * Date would skip or repeat rows created within one millisecond) and its id.
 */
import {
  CURSOR_TIMESTAMP_FORMAT,
  decodeKeysetCursor,
  encodeKeysetCursor,
  type KeysetCursor,
} from "../core/keyset-cursor";

export type DocumentCursor = KeysetCursor;
export { CURSOR_TIMESTAMP_FORMAT };

/** "d1": a document cursor of this format, so a cursor of another list is refused, not misread. */
const TAG = "d1";

export const encodeDocumentCursor = (cursor: DocumentCursor): string => encodeKeysetCursor(cursor, TAG);
export const decodeDocumentCursor = (text: string): DocumentCursor | null => decodeKeysetCursor(text, TAG);
