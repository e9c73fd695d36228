import type { KeyRing } from "../config/key-ring";
import type { Database } from "../db/database";
import { appendAuditEvent } from "./append-audit-event";
import { type AuditChainReport, verifyAllTenants } from "./verify-audit-chain";

export interface AuditVerificationSummary {
  tenants: number;
  failed: number;
  eventsChecked: number;
}

/**
 * Scheduled check (cron): verify every tenant's chain and record the verdict in that
 * tenant's own log (`audit.verify`), so a tamper found at night is itself on the record
 * and visible to the clinic's auditors. Ids and counts only.
 */
export async function recordAuditVerification(
  db: Database,
  auditKeys: KeyRing,
  context: { systemId: string; requestId: string },
): Promise<{ summary: AuditVerificationSummary; reports: AuditChainReport[] }> {
  const reports = await verifyAllTenants(db, auditKeys, { requestId: context.requestId });
  for (const report of reports) {
    await db.withTenant(
      { tenantId: report.tenantId, actorId: context.systemId, requestId: context.requestId },
      (tx) =>
        appendAuditEvent(tx, auditKeys, {
          action: "audit.verify",
          outcome: report.ok ? "SUCCESS" : "FAILURE",
          actor: { type: "system", id: context.systemId },
          resource: { type: "audit_chain", id: report.tenantId },
          ip: null,
          userAgent: null,
          requestId: context.requestId,
          details: report.failure
            ? {
                eventsChecked: report.eventsChecked,
                firstBadSeq: report.failure.seq,
                reason: report.failure.reason,
              }
            : { eventsChecked: report.eventsChecked },
        }),
    );
  }
  return {
    reports,
    summary: {
      tenants: reports.length,
      failed: reports.filter((r) => !r.ok).length,
      eventsChecked: reports.reduce((n, r) => n + r.eventsChecked, 0),
    },
  };
}
