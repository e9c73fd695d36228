/**
 * Identity fixtures for tests: users with passwords, signed-in sessions (cookie + CSRF
 * token) and API keys, created through the same domain functions the routes use.
 */
import { generateApiKeyToken, hashApiKeySecret } from "../../shared/auth/api-key-token";
import { hashPassword } from "../../shared/auth/password-hash";
import type { ApiKeyScope, Role } from "../../shared/auth/permissions";
import type { SessionStage } from "../../shared/auth/principal";
import { deriveCsrfToken, SESSION_COOKIE } from "../../shared/auth/session-token";
import { createSession } from "../../shared/auth/sessions/create-session";
import { DEV_SESSION_TIMEOUTS } from "../../shared/auth/sessions/session-timeouts";
import { type KeyRing, parseKeyRing } from "../../shared/config/key-ring";
import type { Database, Sql } from "../../shared/db/database";
import { testEnv } from "./test-env";

const env = testEnv("postgres://unused");
export function testKeyRing(name: string): KeyRing {
  const { ring } = parseKeyRing(name, env[name] as string, { strict: false });
  if (!ring) throw new Error(`no test key ring ${name}`);
  return ring;
}

/** bcrypt cost 4 keeps fixtures fast; login rehashes to 12 as it would for an old hash. */
export const FIXTURE_BCRYPT_COST = 4;

let counter = 0;
export function uniqueEmail(prefix = "user"): string {
  counter += 1;
  return `${prefix}-${Date.now().toString(36)}-${counter}@clinic.example.org`;
}

export interface TestUser {
  id: string;
  tenantId: string;
  email: string;
  password: string;
  role: Role;
}

export async function createUser(
  owner: Sql,
  tenantId: string,
  options: { role?: Role; email?: string; password?: string; status?: "active" | "disabled" } = {},
): Promise<TestUser> {
  const email = options.email ?? uniqueEmail(options.role ?? "clinician");
  const password = options.password ?? "correct horse battery staple 42";
  const role = options.role ?? "clinician";
  const hash = await hashPassword(password, testKeyRing("PASSWORD_PEPPER_KEYS"), FIXTURE_BCRYPT_COST);
  const [row] = await owner<{ id: string }[]>`
    insert into medchr.users (tenant_id, email, display_name, role, status, password_hash)
    values (${tenantId}, ${email}, ${"Test User"}, ${role}, ${options.status ?? "active"}, ${hash}) returning id`;
  return { id: row!.id, tenantId, email, password, role };
}

export interface TestSession {
  sessionId: string;
  token: string;
  cookie: string;
  csrfToken: string;
  /** Headers for a same-origin JSON call with cookie and CSRF token. */
  headers: Record<string, string>;
}

/** A signed-in session for `user`, MFA verified now (step-up fresh) unless told otherwise. */
export async function signIn(
  db: Database,
  user: { id: string; tenantId: string },
  options: { stage?: SessionStage; mfaVerifiedAt?: Date | null; now?: Date } = {},
): Promise<TestSession> {
  const now = options.now ?? new Date();
  const created = await db.withTenant(
    { tenantId: user.tenantId, actorId: user.id, requestId: "test" },
    (tx) =>
      createSession(
        tx,
        {
          tenantId: user.tenantId,
          userId: user.id,
          stage: options.stage ?? "active",
          method: "password",
          mfaVerifiedAt: options.mfaVerifiedAt === undefined ? now : options.mfaVerifiedAt,
          now,
          timeouts: DEV_SESSION_TIMEOUTS,
          ip: null,
          userAgent: null,
        },
        {
          auditKeys: testKeyRing("AUDIT_KEYS"),
          actor: { type: "user", id: user.id },
          ip: null,
          userAgent: null,
          requestId: "test",
        },
      ),
  );
  const csrfToken = await deriveCsrfToken(testKeyRing("SESSION_KEYS"), created.tokenHash);
  const cookie = `${SESSION_COOKIE}=${created.token}`;
  return {
    sessionId: created.sessionId,
    token: created.token,
    cookie,
    csrfToken,
    headers: { Cookie: cookie, "X-CSRF-Token": csrfToken, "Content-Type": "application/json" },
  };
}

export interface TestApiKey {
  id: string;
  keyId: string;
  token: string;
  headers: Record<string, string>;
}

export async function createApiKey(
  owner: Sql,
  tenantId: string,
  options: { scopes?: ApiKeyScope[]; ratePerMinute?: number; revoked?: boolean; expiresAt?: Date } = {},
): Promise<TestApiKey> {
  const generated = generateApiKeyToken();
  const { keyId: hashKid, hash } = await hashApiKeySecret(generated.secret, testKeyRing("API_KEY_HMAC_KEYS"));
  const [row] = await owner<{ id: string }[]>`
    insert into medchr.api_keys (tenant_id, key_id, name, secret_hash, hash_key_id, scopes,
      rate_limit_per_minute, revoked_at, expires_at)
    values (${tenantId}, ${generated.keyId}, ${"test key"}, ${hash}, ${hashKid},
      ${owner.json(options.scopes ?? ["read", "write"])}, ${options.ratePerMinute ?? 600},
      ${options.revoked ? new Date() : null}, ${options.expiresAt ?? null})
    returning id`;
  return {
    id: row!.id,
    keyId: generated.keyId,
    token: generated.token,
    headers: { Authorization: `Bearer ${generated.token}`, "Content-Type": "application/json" },
  };
}
