/**
 * What an anonymous holder of a share link sees: the finalized snapshot of the report, if the
 * token's hash names a live link (not revoked, not expired). The token is found across tenants
 * by its hash only (medchr.find_report_share), then everything is read in that tenant's scope.
 * Each view is counted and audited (report.share_viewed, actor anonymous, ids only). Any
 * refusal is the same "not found" whatever the reason, so a link's state cannot be probed.
 */
import { type AuditContext, recordAudit } from "../audit/audit-context";
import type { KeyRing } from "../config/key-ring";
import { err, ok, type Result } from "../core/result";
import type { Database } from "../db/database";
import type { ReportContent } from "./report-schema";
import { SHARE_TOKEN_PATTERN, shareTokenHashes } from "./share-token";

export interface SharedReport {
  clinicName: string;
  finalizedAt: string;
  reportVersion: number;
  contentHash: string;
  content: ReportContent;
}

const notFound = {
  code: "not_found" as const,
  message: "This link is not valid. It may have expired or been withdrawn.",
};

export async function viewSharedReport(
  db: Database,
  input: { token: string; now: Date; requestId: string },
  deps: { shareKeys: KeyRing; audit: AuditContext },
): Promise<Result<SharedReport, typeof notFound>> {
  if (!SHARE_TOKEN_PATTERN.test(input.token)) return err(notFound);
  const hashes = await shareTokenHashes(input.token, deps.shareKeys);
  const [found] = await db.withoutTenant(
    { requestId: input.requestId },
    (tx) => tx<{ tenant_id: string; share_id: string }[]>`
      select tenant_id, share_id from medchr.find_report_share(${tx.json(hashes)})`,
  );
  if (!found) return err(notFound);
  return db.withTenant(
    { tenantId: found.tenant_id, actorId: "share.viewer", requestId: input.requestId },
    async (tx) => {
      const [row] = await tx<
        {
          report_id: string;
          patient_id: string;
          status: string;
          snapshot: { content: ReportContent } | null;
          content_hash: string | null;
          finalized_at: Date | null;
          report_version: number;
          clinic_name: string;
        }[]
      >`
      update medchr.report_shares s set view_count = s.view_count + 1, last_viewed_at = ${input.now}
      from medchr.reports r, medchr.tenants t
      where s.id = ${found.share_id} and r.id = s.report_id and t.id = s.tenant_id
        and s.revoked_at is null and s.expires_at > ${input.now} and r.status = 'finalized'
      returning r.id as report_id, r.patient_id, r.status, r.snapshot, r.content_hash, r.finalized_at,
        r.report_version, t.name as clinic_name`;
      if (!row?.snapshot || !row.content_hash || !row.finalized_at) return err(notFound);
      await recordAudit(tx, deps.audit, {
        action: "report.share_viewed",
        outcome: "SUCCESS",
        resource: { type: "report", id: row.report_id },
        details: { patientId: row.patient_id, shareId: found.share_id },
      });
      return ok({
        clinicName: row.clinic_name,
        finalizedAt: new Date(row.finalized_at).toISOString(),
        reportVersion: row.report_version,
        contentHash: row.content_hash,
        content: row.snapshot.content,
      });
    },
  );
}
