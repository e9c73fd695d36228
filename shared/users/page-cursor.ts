import { z } from "zod";
import {
  CURSOR_TIMESTAMP_FORMAT,
  decodeKeysetCursor,
  encodeKeysetCursor,
  type KeysetCursor,
} from "../core/keyset-cursor";

/**
 * Keyset pagination over (created_at, id), oldest first: stable while rows are added and
 * cheap at any depth, unlike OFFSET. The cursor is opaque to clients; inside it is the
 * last row's created_at at full microsecond precision (a millisecond Date would skip or
 * repeat rows created within the same millisecond) and its id.
 */
export const PAGE_LIMIT_DEFAULT = 50;
/** Bounds one response (and the work behind it); admins page through the rest. */
export const PAGE_LIMIT_MAX = 100;

export const PageInput = z.strictObject({
  limit: z.coerce.number().int().min(1).max(PAGE_LIMIT_MAX).default(PAGE_LIMIT_DEFAULT),
  cursor: z.string().max(200).optional(),
});
export type PageInput = z.input<typeof PageInput>;

export type PageCursor = KeysetCursor;
export { CURSOR_TIMESTAMP_FORMAT };

export const encodePageCursor = (cursor: PageCursor): string => encodeKeysetCursor(cursor);
export const decodePageCursor = (text: string): PageCursor | null => decodeKeysetCursor(text);

export interface Page<T> {
  items: T[];
  /** null on the last page. */
  nextCursor: string | null;
}

/** Rows fetched with limit + 1: the extra row only says whether another page exists. */
export function toPage<R extends { cursor_created_at: string; id: string }, T>(
  rows: readonly R[],
  limit: number,
  view: (row: R) => T,
): Page<T> {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return {
    items: items.map(view),
    nextCursor:
      rows.length > limit && last
        ? encodePageCursor({ createdAt: last.cursor_created_at, id: last.id })
        : null,
  };
}
