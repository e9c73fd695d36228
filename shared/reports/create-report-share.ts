/**
 * Makes a share link of a finalized report (report.share; the route asks for step-up): a
 * random token, stored as its keyed hash, valid for `expiresInDays` (default 7, at most 30),
 * audited as report.share with counts only. The token is returned once; the link is built by
 * the caller from the configured public origin, never from request headers.
 */
import { type AuditContext, recordAudit } from "../audit/audit-context";
import type { KeyRing } from "../config/key-ring";
import { err, ok, type Result } from "../core/result";
import type { Tx } from "../db/database";
import { type ReportError, reportErrors } from "./report-errors";
import { readReportRow } from "./report-view";
import { hashShareToken, newShareToken } from "./share-token";

/** A week: long enough for a patient to open it, short enough to limit a forwarded link. */
export const DEFAULT_SHARE_DAYS = 7;
/** The upper bound the issue and the table's check both hold. */
export const MAX_SHARE_DAYS = 30;

export interface ReportShareView {
  id: string;
  reportId: string;
  expiresAt: string;
  revokedAt: string | null;
  viewCount: number;
  lastViewedAt: string | null;
  createdBy: string;
  createdAt: string;
}

export interface ShareRow {
  id: string;
  report_id: string;
  expires_at: Date;
  revoked_at: Date | null;
  view_count: number;
  last_viewed_at: Date | null;
  created_by: string;
  created_at: Date;
}

const iso = (d: Date | null) => (d === null ? null : new Date(d).toISOString());

export function toShareView(row: ShareRow): ReportShareView {
  return {
    id: row.id,
    reportId: row.report_id,
    expiresAt: iso(row.expires_at)!,
    revokedAt: iso(row.revoked_at),
    viewCount: row.view_count,
    lastViewedAt: iso(row.last_viewed_at),
    createdBy: row.created_by,
    createdAt: iso(row.created_at)!,
  };
}

export async function createReportShare(
  tx: Tx,
  input: { reportId: string; expiresInDays: number; now: Date },
  deps: { shareKeys: KeyRing; audit: AuditContext },
): Promise<Result<{ share: ReportShareView; token: string }, ReportError>> {
  const report = await readReportRow(tx, input.reportId);
  if (!report) return err(reportErrors.reportNotFound());
  if (report.status !== "finalized") return err(reportErrors.notFinalized());
  const token = newShareToken();
  const { keyId, hash } = await hashShareToken(token, deps.shareKeys);
  const expires = new Date(input.now.getTime() + input.expiresInDays * 86_400_000);
  const [row] = await tx<ShareRow[]>`
    insert into medchr.report_shares (tenant_id, report_id, token_hash, key_id, expires_at, created_at)
    values (medchr.current_tenant_id(), ${report.id}, ${hash}, ${keyId}, ${expires}, ${input.now})
    returning id, report_id, expires_at, revoked_at, view_count, last_viewed_at, created_by, created_at`;
  await recordAudit(tx, deps.audit, {
    action: "report.share",
    outcome: "SUCCESS",
    resource: { type: "report", id: report.id },
    details: { patientId: report.patient_id, shareId: row!.id, days: input.expiresInDays },
  });
  return ok({ share: toShareView(row!), token });
}
