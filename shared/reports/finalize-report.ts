/**
 * Finalizes a report (report.finalize; the route asks for step-up MFA): freezes what was
 * reviewed into a snapshot (the content with its citations, the source text of every cited
 * chunk, the record tables it shows, the AI draft's provenance, who and when), hashes it
 * (SHA-256 over RFC 8785 canonical JSON), signs hash, signer and time with the report-signing
 * key, and stores all of it in one transaction with report.finalize. The database refuses any
 * change to a finalized report afterwards (reports_guard); an amendment is a new report.
 *
 * The request names the revision the clinician reviewed: finalizing a revision someone else has
 * since changed is refused (409 stale_revision), so what is signed is what was read.
 */
import { type AuditContext, recordAudit } from "../audit/audit-context";
import type { KeyRing } from "../config/key-ring";
import { err, ok, type Result } from "../core/result";
import type { Tx } from "../db/database";
import { describeActors } from "../users/describe-actors";
import { type ReportError, reportErrors } from "./report-errors";
import { citedChunkIds, loadChunksById } from "./report-sources";
import { type ReportSummaryView, readReportRow, toReportSummary } from "./report-view";
import { hashSnapshot, signReport } from "./sign-report";

/** 2: the signer's display name is frozen with the report (finalizedByName). */
export const SNAPSHOT_VERSION = 2;

export async function finalizeReport(
  tx: Tx,
  input: { reportId: string; revision: number; signedBy: string; now: Date },
  deps: { signingKeys: KeyRing; audit: AuditContext },
): Promise<Result<ReportSummaryView & { contentHash: string; kid: string }, ReportError>> {
  const row = await readReportRow(tx, input.reportId, { forUpdate: true });
  if (!row) return err(reportErrors.reportNotFound());
  if (row.status === "finalized") return err(reportErrors.finalized());
  if (row.status !== "draft" || !row.content || !row.provenance) return err(reportErrors.notDraft());
  if (row.revision !== input.revision) return err(reportErrors.staleRevision(row.revision));

  const sources = await loadChunksById(tx, row.patient_id, citedChunkIds(row.content), {
    currentOnly: false,
  });
  const signedAt = input.now.toISOString();
  // The name as it is at signing: a later rename must not change who a signed report says signed it.
  const signerName = (await describeActors(tx, [input.signedBy])).get(input.signedBy) ?? null;
  const snapshot = {
    snapshotVersion: SNAPSHOT_VERSION,
    reportId: row.id,
    patientId: row.patient_id,
    reportVersion: row.report_version,
    amendsReportId: row.amends_report_id,
    revision: row.revision,
    content: row.content,
    sources: [...sources.values()].map(({ versionId: _, id, ...chunk }) => ({ chunkId: id, ...chunk })),
    provenance: row.provenance,
    finalizedBy: input.signedBy,
    finalizedByName: signerName,
    finalizedAt: signedAt,
  };
  const contentHash = await hashSnapshot(snapshot);
  const signature = await signReport(deps.signingKeys, {
    reportId: row.id,
    contentHash,
    signedBy: input.signedBy,
    signedAt,
  });
  const revision = row.revision + 1;
  await tx`
    update medchr.reports set status = 'finalized', revision = ${revision}, snapshot = ${tx.json(snapshot as never)},
      content_hash = ${contentHash}, signature = ${signature.signature}, signature_kid = ${signature.kid},
      finalized_at = ${input.now}, finalized_by = ${input.signedBy}
    where id = ${row.id}`;
  await recordAudit(tx, deps.audit, {
    action: "report.finalize",
    outcome: "SUCCESS",
    resource: { type: "report", id: row.id },
    details: { patientId: row.patient_id, revision },
  });
  return ok({
    ...toReportSummary({
      ...row,
      status: "finalized",
      revision,
      finalized_at: input.now,
      finalized_by: input.signedBy,
    }),
    contentHash,
    kid: signature.kid,
  });
}
