import type { FunctionApp } from "../../../../shared/http/create-app";
import { registerAdminAiPolicyRoutes } from "./ai-policy";
import { registerAdminApiKeyRoutes } from "./api-keys";
import { registerAdminEgressRoutes } from "./egress-events";
import { registerAdminPolicyRoutes } from "./policy";
import { registerAdminUserSessionRoutes } from "./user-sessions";
import { registerAdminUserRoutes } from "./users";

/**
 * The clinic administration API under /api/v1/admin: users, API keys, security policy, AI
 * policy and the PHI egress log (audit.read, so auditors see it too).
 * Every route is a protectedRoute naming one permission (user.manage, apikey.manage,
 * tenant.policy.manage): sessions of admins and keys with the admin scope, with step-up in
 * prod/HIPAA mode. Tenant isolation is RLS: another clinic's ids are simply not found.
 */
export function registerAdminRoutes(app: FunctionApp) {
  registerAdminUserRoutes(app);
  registerAdminUserSessionRoutes(app);
  registerAdminApiKeyRoutes(app);
  registerAdminPolicyRoutes(app);
  registerAdminAiPolicyRoutes(app);
  registerAdminEgressRoutes(app);
}
