import type { Context } from "hono";
import { actorIdOf } from "../auth/principal";
import type { RequestScope } from "../db/database";
import type { AppEnv } from "./context";

/** The RLS scope of an authenticated request: the principal's tenant, actor and request id. */
export function tenantScopeOf(c: Context<AppEnv>): RequestScope {
  const principal = c.var.principal;
  return { tenantId: principal.tenantId, actorId: actorIdOf(principal), requestId: c.var.requestId };
}
