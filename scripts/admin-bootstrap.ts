/**
 * Creates a clinic (tenant) and its first administrator, for a new deployment.
 *
 *   npm run admin:bootstrap -- --tenant-name "Harbor Clinic" --slug harbor-clinic \
 *     --admin-email admin@harbor.example.org --admin-name "Ada Admin" \
 *     [--email-domains harbor.example.org,harbor.org] [--force] [--env-file <path>]
 *
 * Reads DATABASE_URL (an owner connection: only the owner may create tenants),
 * PASSWORD_PEPPER_KEYS and AUDIT_KEYS; values already in the environment win over
 * --env-file. Refuses when any tenant exists, so re-running a deployment script cannot
 * create a second clinic by accident; --force adds another one on purpose.
 *
 * Prints the administrator's generated one-time password once on stdout, and nothing else
 * secret. Hand it over out of band; the admin signs in, changes it and enrols MFA.
 *
 * Exit codes: 0 created; 1 refused by the database (slug or email already taken) or an
 * unexpected failure; 2 usage, configuration or connection problem; 3 a tenant already
 * exists and --force was not given.
 */
import { parseArgs } from "node:util";
import { activeKey, isWeakKey, type KeyRing, parseKeyRing } from "../shared/config/key-ring";
import { connect } from "../shared/db/database";
import { bootstrapTenant } from "../shared/tenancy/bootstrap-tenant";
import { loadEnvFile, requireEnv, runCli, UsageError } from "./lib/cli";

const ACTOR = "cli.bootstrap";
const EXIT_CREATED = 0;
const EXIT_REFUSED = 1;
const EXIT_TENANT_EXISTS = 3;
const USAGE = `usage: npm run admin:bootstrap -- --tenant-name <name> --slug <slug> --admin-email <email>
         --admin-name <name> [--email-domains <a.org,b.org>] [--force] [--env-file <path>]

Creates a tenant and its first admin; prints the admin's one-time password once.
Reads DATABASE_URL (owner), PASSWORD_PEPPER_KEYS, AUDIT_KEYS.
Exit codes: 0 created; 1 refused (slug or email taken) or failed; 2 usage, configuration
or connection problem; 3 a tenant already exists (pass --force to add another).`;

/** RFC 1035 host names, lower-cased, at least two labels: what SSO provisioning compares against. */
const DOMAIN = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

/** The whole ring is accepted (old keys still verify); the active key writes and must be strong. */
function readRing(name: "PASSWORD_PEPPER_KEYS" | "AUDIT_KEYS"): KeyRing {
  const { ring, problems } = parseKeyRing(name, requireEnv(name), { strict: false });
  if (!ring) throw new UsageError(problems.join("; "));
  if (isWeakKey(activeKey(ring).key)) {
    throw new UsageError(`${name} active key "${ring.activeKeyId}" is weak: it needs 32 random bytes`);
  }
  return ring;
}

await runCli(async () => {
  let values: {
    "tenant-name"?: string;
    slug?: string;
    "admin-email"?: string;
    "admin-name"?: string;
    "email-domains"?: string;
    force?: boolean;
    "env-file"?: string;
    help?: boolean;
  };
  try {
    ({ values } = parseArgs({
      options: {
        "tenant-name": { type: "string" },
        slug: { type: "string" },
        "admin-email": { type: "string" },
        "admin-name": { type: "string" },
        "email-domains": { type: "string" },
        force: { type: "boolean" },
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
  for (const flag of ["tenant-name", "slug", "admin-email", "admin-name"] as const) {
    if (!values[flag]?.trim()) throw new UsageError(`--${flag} is required\n${USAGE}`);
  }
  const emailDomains = (values["email-domains"] ?? "")
    .split(",")
    .map((d) => d.trim().toLowerCase())
    .filter(Boolean);
  for (const domain of emailDomains) {
    if (!DOMAIN.test(domain)) throw new UsageError(`--email-domains: "${domain}" is not a domain name`);
  }
  loadEnvFile(values["env-file"]);
  const databaseUrl = requireEnv("DATABASE_URL");
  const pepperKeys = readRing("PASSWORD_PEPPER_KEYS");
  const auditKeys = readRing("AUDIT_KEYS");

  const owner = connect(databaseUrl, { max: 1 });
  try {
    let existing: number;
    try {
      // Through the SECURITY DEFINER id list: counts every tenant whatever RLS the owner is under.
      const [row] = await owner<{ n: number }[]>`select count(*)::int as n from medchr.list_tenant_ids()`;
      existing = row?.n ?? 0;
    } catch (error) {
      const code = (error as { code?: string }).code;
      throw new UsageError(
        `could not reach the database: ${(error as Error).message}${code ? ` (${code})` : ""}`,
      );
    }
    if (existing > 0 && !values.force) {
      console.error(
        `refused: ${existing} tenant(s) already exist. This command sets up a new deployment; pass --force to add another tenant.`,
      );
      return EXIT_TENANT_EXISTS;
    }

    const result = await bootstrapTenant(
      owner,
      {
        tenantName: values["tenant-name"]!,
        slug: values.slug!,
        adminEmail: values["admin-email"]!,
        adminName: values["admin-name"]!,
        emailDomains,
      },
      { pepperKeys, auditKeys },
      { systemId: ACTOR, requestId: `${ACTOR}:${crypto.randomUUID()}` },
    );
    if (!result.ok) {
      if (result.error.code === "invalid_input") throw new UsageError(`${result.error.message}\n${USAGE}`);
      console.error(`refused: ${result.error.message}`);
      return EXIT_REFUSED;
    }
    const { tenantId, adminUserId, adminPassword } = result.value;
    const email = values["admin-email"]!.trim().toLowerCase();
    console.info(`tenant ${tenantId} (${values.slug}) created; administrator ${adminUserId} <${email}>`);
    console.info("one-time password (shown once; sign in, change it and enrol MFA):");
    console.info(adminPassword);
    return EXIT_CREATED;
  } finally {
    await owner.end({ timeout: 5 });
  }
});
