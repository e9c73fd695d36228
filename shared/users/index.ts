export { type CreatedUser, type CreateUserError, CreateUserInput, createUser } from "./create-user";
export { GetUserInput, getUser } from "./get-user";
export { type InvalidFieldsError, invalidFields } from "./invalid-fields";
export { ListUsersInput, listUsers } from "./list-users";
export { PAGE_LIMIT_DEFAULT, PAGE_LIMIT_MAX, type Page, PageInput } from "./page-cursor";
export { RevokeUserSessionsByAdminInput, revokeUserSessionsByAdmin } from "./revoke-user-sessions-by-admin";
export { type UpdatedUser, type UpdateUserError, UpdateUserInput, updateUser } from "./update-user";
export { USER_STATUSES, type UserStatus, type UserView } from "./user-view";
