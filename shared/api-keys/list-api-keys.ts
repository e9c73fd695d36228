import { err, ok, type Result } from "../core/result";
import type { Tx } from "../db/database";
import { type InvalidFieldsError, invalidFields } from "../users/invalid-fields";
import { decodePageCursor, type Page, PageInput, toPage } from "../users/page-cursor";
import { type ApiKeyView, readApiKeyRows, toApiKeyView } from "./api-key-view";

export const ListApiKeysInput = PageInput;
export type ListApiKeysInput = PageInput;

/** The tenant's keys (revoked and expired included, for the record), oldest first. */
export async function listApiKeys(
  tx: Tx,
  input: ListApiKeysInput,
  options: { now: Date },
): Promise<Result<Page<ApiKeyView>, InvalidFieldsError>> {
  const parsed = ListApiKeysInput.safeParse(input);
  if (!parsed.success) return err(invalidFields(parsed.error.issues));
  const { limit, cursor } = parsed.data;
  const after = cursor === undefined ? null : decodePageCursor(cursor);
  if (cursor !== undefined && !after) {
    return err(invalidFields([{ path: ["cursor"], message: "is not a cursor from a previous page" }]));
  }
  const rows = await readApiKeyRows(tx, { after, limit });
  return ok(toPage(rows, limit, (row) => toApiKeyView(row, options.now)));
}
