import { FUNCTION_REQUIREMENTS } from "../../shared/config/functions";

/**
 * Environment for functions under test: test mode, fixed throwaway keys (never used
 * outside tests), and the test database. Key material is 32 random-looking bytes.
 */
const TEST_KEY = (label: string) =>
  `${label}:${btoa(Array.from({ length: 32 }, (_, i) => String.fromCharCode((i * 37 + label.length * 11) % 256)).join("")).replace(/=+$/, "")}`;

export function testEnv(
  databaseUrl: string,
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    APP_ENV: "test",
    HIPAA_MODE: "false",
    DATABASE_URL: databaseUrl,
    AUDIT_KEYS: TEST_KEY("audit1"),
    SESSION_KEYS: TEST_KEY("sess1"),
    PASSWORD_PEPPER_KEYS: TEST_KEY("pep1"),
    MFA_ENCRYPTION_KEYS: TEST_KEY("mfa1"),
    API_KEY_HMAC_KEYS: TEST_KEY("apik1"),
    SHARE_LINK_KEYS: TEST_KEY("share1"),
    REPORT_SIGNING_KEYS: TEST_KEY("reportsign1"),
    RATE_LIMIT_KEYS: TEST_KEY("rl1"),
    STORAGE_INTERNAL_TOKEN: "test-storage-internal-token-0123456789abcdef",
    ...overrides,
  };
}

/**
 * The api function's environment in HIPAA mode, as loadConfig demands it in strict mode, with
 * dummy values: the test key rings are strong enough, and every strict-only secret gets a
 * 40-character dummy read from the requirements table (a secret added there later does not
 * silently turn tests into 503s). No UPSTASH_REDIS_REST_URL: rate limits stay on Postgres.
 */
export function strictApiTestEnv(
  databaseUrl: string,
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  const dummies = Object.fromEntries(
    FUNCTION_REQUIREMENTS.api.strictSecrets.map((name) => [
      name,
      `dummy-${name.toLowerCase()}`.padEnd(40, "x"),
    ]),
  );
  return testEnv(databaseUrl, {
    HIPAA_MODE: "true",
    PHI_PROCESSORS: "none",
    PUBLIC_ORIGIN: "https://medchr.example.org",
    ...dummies,
    ...overrides,
  });
}
