// Words for the codes the API uses (roles, account and key states, key scopes).

export const ROLE_NAMES = { admin: "Clinic administrator", clinician: "Clinician", auditor: "Auditor" };

export const USER_STATUS_NAMES = { active: "Active", disabled: "Disabled" };

export const KEY_STATUS_NAMES = { active: "Active", revoked: "Revoked", expired: "Expired" };

export const SCOPE_NAMES = { read: "Read", write: "Write", admin: "Admin" };

/** A code the UI has no word for yet is shown as it is rather than hidden. */
export function nameFor(names, code) {
  return Object.hasOwn(names, code) ? names[code] : String(code);
}
