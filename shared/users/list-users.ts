import { err, ok, type Result } from "../core/result";
import type { Tx } from "../db/database";
import { type InvalidFieldsError, invalidFields } from "./invalid-fields";
import { decodePageCursor, type Page, PageInput, toPage } from "./page-cursor";
import { readUserRows, toUserView, type UserView } from "./user-view";

export const ListUsersInput = PageInput;
export type ListUsersInput = PageInput;

/** The tenant's accounts, oldest first, one page at a time. */
export async function listUsers(
  tx: Tx,
  input: ListUsersInput,
): Promise<Result<Page<UserView>, InvalidFieldsError>> {
  const parsed = ListUsersInput.safeParse(input);
  if (!parsed.success) return err(invalidFields(parsed.error.issues));
  const { limit, cursor } = parsed.data;
  const after = cursor === undefined ? null : decodePageCursor(cursor);
  if (cursor !== undefined && !after) {
    return err(invalidFields([{ path: ["cursor"], message: "is not a cursor from a previous page" }]));
  }
  const rows = await readUserRows(tx, { after, limit });
  return ok(toPage(rows, limit, toUserView));
}
