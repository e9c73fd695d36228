import type { ApiKeyScope } from "./api-key-token";

/**
 * Role-based access control by permission, not by role name: every route names the one
 * permission it needs, and roles and API-key scopes map to permission sets here (ASVS
 * 8.2.1, least privilege). Adding a route never means editing role checks.
 */
export const PERMISSIONS = [
  "patient.read",
  "patient.write",
  "report.finalize",
  "report.share",
  "report.export",
  "user.manage",
  "apikey.manage",
  "tenant.policy.manage",
  "audit.read",
] as const;
export type Permission = (typeof PERMISSIONS)[number];

export const ROLES = ["admin", "clinician", "auditor"] as const;
export type Role = (typeof ROLES)[number];

export { API_KEY_SCOPES, type ApiKeyScope } from "./api-key-token";

const CLINICAL: readonly Permission[] = [
  "patient.read",
  "patient.write",
  "report.finalize",
  "report.share",
  "report.export",
];

/**
 * admin: the clinic's administrator also works clinically (small clinics), so clinical
 * permissions plus administration. auditor: read-only access to audit data and nothing
 * clinical (HIPAA 164.308(a)(4) minimum necessary).
 */
export const ROLE_PERMISSIONS: Readonly<Record<Role, ReadonlySet<Permission>>> = {
  admin: new Set<Permission>(PERMISSIONS),
  clinician: new Set<Permission>(CLINICAL),
  auditor: new Set<Permission>(["audit.read"]),
};

/**
 * Scopes for partner systems. read: look at records; write: also change them and act on
 * reports; admin: also manage users, keys and policy. Scopes are additive only through
 * this table, so a key's power is visible in one place.
 */
export const SCOPE_PERMISSIONS: Readonly<Record<ApiKeyScope, ReadonlySet<Permission>>> = {
  read: new Set<Permission>(["patient.read"]),
  write: new Set<Permission>(CLINICAL),
  admin: new Set<Permission>(PERMISSIONS),
};

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

export function permissionsForRole(role: Role): ReadonlySet<Permission> {
  return ROLE_PERMISSIONS[role];
}

export function permissionsForScopes(scopes: readonly ApiKeyScope[]): ReadonlySet<Permission> {
  const out = new Set<Permission>();
  for (const scope of scopes) for (const p of SCOPE_PERMISSIONS[scope]) out.add(p);
  return out;
}

/**
 * Actions that need a fresh MFA verification in prod/HIPAA mode (security-baseline
 * "step-up", ASVS 7.5.3). Keyed by permission: a route needing one of these asks for
 * step-up whatever its path.
 */
export const STEP_UP_PERMISSIONS: ReadonlySet<Permission> = new Set<Permission>([
  "report.finalize",
  "report.share",
  "report.export",
  "apikey.manage",
  "user.manage",
  "tenant.policy.manage",
]);
