/**
 * Re-encrypts every TOTP secret (factors and pending setups) that is not under the active
 * MFA_ENCRYPTION_KEYS key, tenant by tenant, so a retired key can then be removed.
 *
 *   npm run mfa:rekey [-- --tenant <uuid>] [--env-file <path>]
 *
 * Rotation: put the new key FIRST in MFA_ENCRYPTION_KEYS (it becomes active) and keep the
 * old one after it; deploy; run this; when it reports failed=0 everywhere, drop the old
 * key. Reads DATABASE_URL, MFA_ENCRYPTION_KEYS and AUDIT_KEYS (values already in the
 * environment win over --env-file). Connects as the application role under RLS, one
 * transaction per tenant; idempotent, safe to re-run and to run while users log in.
 *
 * Exit codes: 0 done; 1 some secrets could not be decrypted (a key missing from the ring,
 * or a tampered row): do not remove any key yet; 2 usage, configuration or connection.
 *
 * Prints tenant ids, counts and reason codes only: never secrets or user data.
 */
import { parseArgs } from "node:util";
import { listTenantIds } from "../shared/audit/verify-audit-chain";
import { rekeyMfaSecrets } from "../shared/auth/mfa/rekey-mfa-secrets";
import { activeKey, isWeakKey, type KeyRing, parseKeyRing } from "../shared/config/key-ring";
import { createDatabase } from "../shared/db/database";
import { loadEnvFile, requireEnv, runCli, UsageError } from "./lib/cli";

const ACTOR = "cli.mfa_rekey";
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Not strict over the whole ring: the point of rotating may be to retire a weak or short
 * old key, which must still decrypt. The ACTIVE key, which everything is written with,
 * must be a strong 256-bit key.
 */
function readRing(name: "MFA_ENCRYPTION_KEYS" | "AUDIT_KEYS"): KeyRing {
  const { ring, problems } = parseKeyRing(name, requireEnv(name), { strict: false });
  if (!ring) throw new UsageError(problems.join("; "));
  if (isWeakKey(activeKey(ring).key)) {
    throw new UsageError(`${name} active key "${ring.activeKeyId}" is weak: it needs 32 random bytes`);
  }
  return ring;
}

await runCli(async () => {
  let values: { tenant?: string; "env-file"?: string };
  try {
    ({ values } = parseArgs({
      options: { tenant: { type: "string" }, "env-file": { type: "string" } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  loadEnvFile(values["env-file"]);
  if (values.tenant !== undefined && !UUID.test(values.tenant))
    throw new UsageError("--tenant must be a uuid");
  const databaseUrl = requireEnv("DATABASE_URL");
  const mfaKeys = readRing("MFA_ENCRYPTION_KEYS");
  const auditKeys = readRing("AUDIT_KEYS");

  const db = createDatabase(databaseUrl, { max: 1 });
  try {
    const tenantIds = await listTenantIds(db, ACTOR);
    const wanted = values.tenant?.toLowerCase();
    if (wanted !== undefined && !tenantIds.includes(wanted)) throw new UsageError(`no tenant ${wanted}`);
    const selected = wanted === undefined ? tenantIds : [wanted];

    const totals = { factors: 0, setupTokens: 0, failed: 0 };
    for (const tenantId of selected) {
      const now = new Date();
      const result = await db.withTenant({ tenantId, actorId: ACTOR, requestId: ACTOR }, (tx) =>
        rekeyMfaSecrets(tx, { tenantId, now }, mfaKeys, {
          auditKeys,
          actor: { type: "system", id: ACTOR },
          ip: null,
          userAgent: null,
          requestId: ACTOR,
        }),
      );
      if (!result.ok) throw new UsageError(result.error.message);
      const r = result.value;
      totals.factors += r.factors;
      totals.setupTokens += r.setupTokens;
      totals.failed += r.failed;
      const reasons = r.failureReasons.length > 0 ? ` reasons=${r.failureReasons.join(",")}` : "";
      console.info(
        `${r.failed === 0 ? "OK    " : "FAILED"}  ${tenantId}  factors=${r.factors} setup_tokens=${r.setupTokens} ` +
          `setup_tokens_deleted=${r.setupTokensDeleted} failed=${r.failed}${reasons}`,
      );
    }
    console.info(
      `${selected.length} tenant(s), active key ${mfaKeys.activeKeyId}: ${totals.factors} factor(s) and ` +
        `${totals.setupTokens} setup(s) re-encrypted, ${totals.failed} failed`,
    );
    return totals.failed === 0 ? 0 : 1;
  } catch (error) {
    if (error instanceof UsageError) throw error;
    // Connection and SQL errors: report without the query or its values.
    const code = (error as { code?: string }).code;
    throw new UsageError(`could not rekey: ${(error as Error).message}${code ? ` (${code})` : ""}`);
  } finally {
    await db.close();
  }
});
