/**
 * Issues a database API key for a partner system of one tenant, e.g. at deployment or
 * when no administrator can sign in.
 *
 *   npm run apikey:create -- --tenant <uuid|slug> --name "Lab partner" --scopes read,write \
 *     [--rate-limit 600] [--expires-in-days 90] [--env-file <path>]
 *
 * Reads DATABASE_URL (an owner connection: the tenant is looked up by slug before any RLS
 * scope exists; the key itself is written as the application role under the tenant's
 * scope), API_KEY_HMAC_KEYS and AUDIT_KEYS; values already in the environment win over
 * --env-file. Same rules as the admin API (createApiKey): scopes from read, write, admin;
 * 1..10000 requests a minute (default 600); audited as api_key.create by the system actor
 * cli.apikey_create.
 *
 * Output: the key (mk_<key id>_<secret>) alone on stdout, once, so it can be piped into a
 * secret store; a description on stderr. Only its HMAC is stored: it cannot be shown again.
 *
 * Exit codes: 0 created; 1 unexpected failure; 2 usage, configuration, connection or an
 * invalid value (the message names the flag); 3 no such tenant, or it is suspended.
 */
import { parseArgs } from "node:util";
import { type CreateApiKeyInput, createApiKey } from "../shared/api-keys/create-api-key";
import { activeKey, isWeakKey, type KeyRing, parseKeyRing } from "../shared/config/key-ring";
import { connect, databaseFromSql } from "../shared/db/database";
import { loadEnvFile, requireEnv, runCli, UsageError } from "./lib/cli";

const ACTOR = "cli.apikey_create";
const EXIT_CREATED = 0;
const EXIT_NO_TENANT = 3;
/** Ten years: beyond that "expires" means "never", which is what leaving the flag out says. */
const MAX_EXPIRY_DAYS = 3650;
const DAY_MS = 86_400_000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const USAGE = `usage: npm run apikey:create -- --tenant <uuid|slug> --name <name> --scopes <read,write,admin>
         [--rate-limit <1..10000, default 600>] [--expires-in-days <1..${MAX_EXPIRY_DAYS}>] [--env-file <path>]

Issues an API key and prints it once on stdout. Reads DATABASE_URL (owner), API_KEY_HMAC_KEYS, AUDIT_KEYS.
Exit codes: 0 created; 1 failed; 2 usage, configuration, connection or invalid value;
3 no such tenant (or suspended).`;

/** Maps createApiKey's field names back to the flags an operator typed. */
const FLAG_OF: Record<string, string> = {
  name: "--name",
  scopes: "--scopes",
  rateLimitPerMinute: "--rate-limit",
  expiresAt: "--expires-in-days",
};

function readRing(name: "API_KEY_HMAC_KEYS" | "AUDIT_KEYS"): KeyRing {
  const { ring, problems } = parseKeyRing(name, requireEnv(name), { strict: false });
  if (!ring) throw new UsageError(problems.join("; "));
  if (isWeakKey(activeKey(ring).key)) {
    throw new UsageError(`${name} active key "${ring.activeKeyId}" is weak: it needs 32 random bytes`);
  }
  return ring;
}

function integerFlag(flag: string, text: string | undefined, min: number, max: number): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new UsageError(`${flag} must be a whole number from ${min} to ${max}`);
  }
  return value;
}

await runCli(async () => {
  let values: {
    tenant?: string;
    name?: string;
    scopes?: string;
    "rate-limit"?: string;
    "expires-in-days"?: string;
    "env-file"?: string;
    help?: boolean;
  };
  try {
    ({ values } = parseArgs({
      options: {
        tenant: { type: "string" },
        name: { type: "string" },
        scopes: { type: "string" },
        "rate-limit": { type: "string" },
        "expires-in-days": { type: "string" },
        "env-file": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n${USAGE}`);
  }
  if (values.help) {
    console.info(USAGE);
    return EXIT_CREATED;
  }
  for (const flag of ["tenant", "name", "scopes"] as const) {
    if (!values[flag]?.trim()) throw new UsageError(`--${flag} is required\n${USAGE}`);
  }
  // The domain validates range and scopes; this only turns text into numbers.
  const rateLimit = integerFlag("--rate-limit", values["rate-limit"], 0, Number.MAX_SAFE_INTEGER);
  const days = integerFlag("--expires-in-days", values["expires-in-days"], 1, MAX_EXPIRY_DAYS);
  loadEnvFile(values["env-file"]);
  const databaseUrl = requireEnv("DATABASE_URL");
  const hmacKeys = readRing("API_KEY_HMAC_KEYS");
  const auditKeys = readRing("AUDIT_KEYS");
  const tenantText = values.tenant!.trim();

  const owner = connect(databaseUrl, { max: 1 });
  try {
    let tenant: { id: string; status: string } | undefined;
    try {
      [tenant] = await owner<{ id: string; status: string }[]>`
        select id, status from medchr.tenants
        where ${UUID.test(tenantText) ? owner`id = ${tenantText.toLowerCase()}::uuid` : owner`slug = ${tenantText}`}`;
    } catch (error) {
      const code = (error as { code?: string }).code;
      throw new UsageError(
        `could not reach the database: ${(error as Error).message}${code ? ` (${code})` : ""}`,
      );
    }
    if (!tenant) {
      console.error(`refused: no tenant ${tenantText}`);
      return EXIT_NO_TENANT;
    }
    if (tenant.status !== "active") {
      console.error(`refused: tenant ${tenant.id} is ${tenant.status}; its keys would not authenticate`);
      return EXIT_NO_TENANT;
    }

    const now = new Date();
    const requestId = `${ACTOR}:${crypto.randomUUID()}`;
    const result = await databaseFromSql(owner).withTenant(
      { tenantId: tenant.id, actorId: ACTOR, requestId },
      (tx) =>
        createApiKey(
          tx,
          {
            name: values.name!,
            scopes: values
              .scopes!.split(",")
              .map((s) => s.trim())
              .filter(Boolean) as CreateApiKeyInput["scopes"],
            ...(rateLimit !== undefined ? { rateLimitPerMinute: rateLimit } : {}),
            ...(days !== undefined
              ? { expiresAt: new Date(now.getTime() + days * DAY_MS).toISOString() }
              : {}),
          },
          { hmacKeys, now },
          { auditKeys, actor: { type: "system", id: ACTOR }, ip: null, userAgent: null, requestId },
        ),
    );
    if (!result.ok) {
      const problems = result.error.fields.map((f) => {
        const [head, ...rest] = f.field.split(".");
        return `${FLAG_OF[head!] ?? head}${rest.length ? `[${rest.join(".")}]` : ""} ${f.message}`;
      });
      throw new UsageError(`${problems.join("; ")}\n${USAGE}`);
    }
    const { apiKey, token } = result.value;
    console.error(
      `API key ${apiKey.keyId} (id ${apiKey.id}) created for tenant ${tenant.id}: scopes ${apiKey.scopes.join(",")}, ` +
        `${apiKey.rateLimitPerMinute}/min, ${apiKey.expiresAt ? `expires ${apiKey.expiresAt}` : "no expiry"}. ` +
        "Store the key now: it is shown once and cannot be recovered.",
    );
    console.info(token);
    return EXIT_CREATED;
  } finally {
    await owner.end({ timeout: 5 });
  }
});
