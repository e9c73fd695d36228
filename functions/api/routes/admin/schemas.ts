import { z } from "@hono/zod-openapi";
import { API_KEY_SCOPES } from "../../../../shared/auth/api-key-token";
import { ROLES } from "../../../../shared/auth/permissions";
import { PageInput } from "../../../../shared/users/page-cursor";
import { USER_STATUSES } from "../../../../shared/users/user-view";

/** Response shapes of the admin API (camelCase; no secrets or hashes in any of them). */
export const UserSchema = z
  .object({
    id: z.uuid(),
    email: z.string(),
    displayName: z.string(),
    role: z.enum(ROLES),
    status: z.enum(USER_STATUSES),
    mfaEnrolled: z.boolean(),
    lockedUntil: z.string().nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi("AdminUser");

export const ApiKeySchema = z
  .object({
    id: z.uuid(),
    keyId: z.string().describe("Public key id: the token is mk_<keyId>_<secret>"),
    name: z.string(),
    scopes: z.array(z.enum(API_KEY_SCOPES)),
    rateLimitPerMinute: z.number().int(),
    status: z.enum(["active", "revoked", "expired"]),
    createdAt: z.string(),
    createdBy: z.uuid().nullable(),
    expiresAt: z.string().nullable(),
    lastUsedAt: z.string().nullable(),
    revokedAt: z.string().nullable(),
    revokedBy: z.uuid().nullable(),
  })
  .openapi("AdminApiKey");

export const TenantPolicySchema = z
  .object({
    ipAllowlist: z.array(z.string()).describe("Canonical CIDR blocks; empty: no restriction"),
    stepUpWindowMinutes: z.number().int(),
    mfaRequired: z.boolean().describe("In prod/HIPAA mode MFA is required whatever this says"),
    updatedAt: z.string().nullable(),
    updatedBy: z.uuid().nullable(),
  })
  .openapi("TenantPolicy");

export const PageQuery = PageInput.openapi("PageQuery");
export const NextCursor = z
  .string()
  .nullable()
  .describe("Pass as ?cursor= for the next page; null at the end");
