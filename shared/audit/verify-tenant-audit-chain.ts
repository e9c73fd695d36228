import type { KeyRing } from "../config/key-ring";
import type { Database } from "../db/database";
import { type AuditContext, recordAudit } from "./audit-context";
import { type AuditChainReport, verifyAuditChain } from "./verify-audit-chain";

/**
 * An auditor's on-demand verification of the clinic's own chain (GET /api/v1/audit/verify):
 * the same verifier the cron and `npm run audit:verify` run, then the verdict recorded in the
 * tenant's log as audit.verify by the asking user. The report goes back only once the event is
 * stored, so every verification anyone saw is on the record.
 */
export async function verifyTenantAuditChain(
  db: Database,
  auditKeys: KeyRing,
  scope: { tenantId: string; actorId: string; requestId: string },
  audit: AuditContext,
): Promise<AuditChainReport> {
  const report = await verifyAuditChain(db, auditKeys, scope.tenantId, { requestId: scope.requestId });
  await db.withTenant(scope, (tx) =>
    recordAudit(tx, audit, {
      action: "audit.verify",
      outcome: report.ok ? "SUCCESS" : "FAILURE",
      resource: { type: "audit_chain", id: scope.tenantId },
      details: report.failure
        ? {
            eventsChecked: report.eventsChecked,
            firstBadSeq: report.failure.seq,
            reason: report.failure.reason,
          }
        : { eventsChecked: report.eventsChecked },
    }),
  );
  return report;
}
