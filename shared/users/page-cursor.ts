import { z } from "zod";
import { decodeBase64Url, encodeBase64Url } from "../config/key-ring";

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

export interface PageCursor {
  /** "YYYY-MM-DDTHH:MM:SS.ffffffZ", as produced by CURSOR_TIMESTAMP_SQL_FORMAT. */
  createdAt: string;
  id: string;
}

/** to_char format giving the UTC timestamp with microseconds. */
export const CURSOR_TIMESTAMP_FORMAT = 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"';

const CURSOR_PATTERN =
  /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z)\|([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;

export function encodePageCursor(cursor: PageCursor): string {
  return encodeBase64Url(new TextEncoder().encode(`${cursor.createdAt}|${cursor.id}`));
}

/** null for anything that is not a cursor this code produced. */
export function decodePageCursor(text: string): PageCursor | null {
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
