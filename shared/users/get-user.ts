import { z } from "zod";
import { err, ok, type Result } from "../core/result";
import type { Tx } from "../db/database";
import { readUserRows, toUserView, type UserView } from "./user-view";

export const GetUserInput = z.object({ userId: z.uuid() });
export type GetUserInput = z.input<typeof GetUserInput>;

/**
 * One account of the current tenant. Another tenant's id is "not found", exactly like an
 * id that never existed: RLS hides the row, and the answer must not reveal it exists.
 */
export async function getUser(
  tx: Tx,
  input: GetUserInput,
): Promise<Result<UserView, { code: "not_found"; message: string }>> {
  const parsed = GetUserInput.safeParse(input);
  const [row] = parsed.success ? await readUserRows(tx, { id: parsed.data.userId }) : [];
  return row ? ok(toUserView(row)) : err({ code: "not_found", message: "No such user." });
}
