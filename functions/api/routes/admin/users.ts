import { z } from "@hono/zod-openapi";
import { auditContextOf } from "../../../../shared/http/audit-context";
import type { FunctionApp } from "../../../../shared/http/create-app";
import { protectedRoute } from "../../../../shared/http/define-route";
import { tenantScopeOf } from "../../../../shared/http/tenant-scope";
import { CreateUserInput, createUser } from "../../../../shared/users/create-user";
import { getUser } from "../../../../shared/users/get-user";
import { listUsers } from "../../../../shared/users/list-users";
import { UpdateUserInput, updateUser } from "../../../../shared/users/update-user";
import {
  ADMIN_BASE,
  commonErrors,
  errorResponse,
  fail,
  jsonBody,
  jsonContent,
  pepperKeysOf,
} from "./admin-http";
import { NextCursor, PageQuery, UserSchema } from "./schemas";

const UserIdParams = z.object({ userId: z.uuid() });

export const createUserRoute = protectedRoute({
  method: "post",
  path: `${ADMIN_BASE}/users`,
  audit: { actions: ["user.create"] },
  tags: ["admin"],
  summary: "Add a user to my clinic",
  description:
    "Without `password` a random one is generated and returned once in `generatedPassword`; it is never stored in clear or shown again.",
  permission: "user.manage",
  request: jsonBody(CreateUserInput.openapi("CreateUserRequest")),
  responses: {
    201: jsonContent(
      z.object({ user: UserSchema, generatedPassword: z.string().nullable() }).openapi("CreatedUser"),
      "Created",
    ),
    ...commonErrors,
    409: errorResponse("The email is already in use"),
  },
});

export const listUsersRoute = protectedRoute({
  method: "get",
  path: `${ADMIN_BASE}/users`,
  audit: { none: "staff directory read by an admin; no patient data" },
  tags: ["admin"],
  summary: "My clinic's users, oldest first",
  permission: "user.manage",
  request: { query: PageQuery },
  responses: {
    200: jsonContent(z.object({ users: z.array(UserSchema), nextCursor: NextCursor }), "One page"),
    ...commonErrors,
  },
});

export const getUserRoute = protectedRoute({
  method: "get",
  path: `${ADMIN_BASE}/users/{userId}`,
  audit: { none: "staff directory read by an admin; no patient data" },
  tags: ["admin"],
  summary: "One user of my clinic",
  permission: "user.manage",
  request: { params: UserIdParams },
  responses: {
    200: jsonContent(z.object({ user: UserSchema }), "The user"),
    ...commonErrors,
    404: errorResponse("No such user in this clinic"),
  },
});

export const updateUserRoute = protectedRoute({
  method: "patch",
  path: `${ADMIN_BASE}/users/{userId}`,
  audit: { actions: ["user.update", "user.disable", "user.sessions_revoke"] },
  tags: ["admin"],
  summary: "Change a user's display name, role or status",
  description:
    "Disabling ends all the user's sessions; a role change ends them too so the new permissions apply at once. The clinic's last active admin cannot be demoted or disabled (409).",
  permission: "user.manage",
  request: { params: UserIdParams, ...jsonBody(UpdateUserInput.openapi("UpdateUserRequest")) },
  responses: {
    200: jsonContent(
      z.object({ user: UserSchema, sessionsRevoked: z.number().int() }).openapi("UpdatedUser"),
      "Updated",
    ),
    ...commonErrors,
    404: errorResponse("No such user in this clinic"),
    409: errorResponse("The change would leave the clinic without an active admin"),
  },
});

export function registerAdminUserRoutes(app: FunctionApp) {
  app.openapi(createUserRoute, async (c) => {
    const body = c.req.valid("json");
    const pepperKeys = pepperKeysOf(c.var.config);
    const result = await c.var.db.withTenant(tenantScopeOf(c), (tx) =>
      createUser(tx, body, { pepperKeys }, auditContextOf(c)),
    );
    if (!result.ok) fail(result.error);
    return c.json(result.value, 201);
  });

  app.openapi(listUsersRoute, async (c) => {
    const query = c.req.valid("query");
    const result = await c.var.db.withTenant(tenantScopeOf(c), (tx) => listUsers(tx, query));
    if (!result.ok) fail(result.error);
    return c.json({ users: result.value.items, nextCursor: result.value.nextCursor }, 200);
  });

  app.openapi(getUserRoute, async (c) => {
    const { userId } = c.req.valid("param");
    const result = await c.var.db.withTenant(tenantScopeOf(c), (tx) => getUser(tx, { userId }));
    if (!result.ok) fail(result.error);
    return c.json({ user: result.value }, 200);
  });

  app.openapi(updateUserRoute, async (c) => {
    const { userId } = c.req.valid("param");
    const changes = c.req.valid("json");
    const result = await c.var.db.withTenant(tenantScopeOf(c), (tx) =>
      updateUser(tx, { userId, changes, now: new Date() }, auditContextOf(c)),
    );
    if (!result.ok) fail(result.error);
    return c.json(result.value, 200);
  });
}
