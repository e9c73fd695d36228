/**
 * One report with its draft, current content, provenance and the source text of every cited
 * chunk (so a citation opens its text and page), audited as report.read with ids only. Another
 * clinic's report is not found, like one that never existed. A finalized report is shown from
 * its frozen snapshot.
 */
import { type AuditContext, recordAudit } from "../audit/audit-context";
import { err, ok, type Result } from "../core/result";
import type { Tx } from "../db/database";
import { parseClaimMarkdown } from "./claim-markdown";
import { type ReportError, reportErrors } from "./report-errors";
import { NARRATIVE_SECTIONS, type ReportContent } from "./report-schema";
import { citedChunkIds, loadChunksById } from "./report-sources";
import {
  type RenderedNarrative,
  type ReportRow,
  type ReportSourceView,
  type ReportView,
  readReportRow,
  toReportSummary,
} from "./report-view";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Each narrative claim's text as markdown segments, for display (claim-markdown.ts). */
function renderNarrative(content: ReportContent | null): RenderedNarrative | null {
  if (!content) return null;
  const out = {} as RenderedNarrative;
  for (const section of NARRATIVE_SECTIONS)
    out[section] = content[section].map((c) => parseClaimMarkdown(c.text));
  return out;
}

export async function getReport(
  tx: Tx,
  input: { reportId: string },
  audit: AuditContext,
): Promise<Result<ReportView, ReportError>> {
  if (!UUID.test(input.reportId)) return err(reportErrors.reportNotFound());
  const row = await readReportRow(tx, input.reportId.toLowerCase());
  if (!row) return err(reportErrors.reportNotFound());
  const ids = citedChunkIds(row.draft, row.content);
  const sources: Record<string, ReportSourceView> = {};
  const frozen =
    row.status === "finalized" ? (row.snapshot?.sources as ReportSourceView[] | undefined) : undefined;
  if (frozen) {
    // What was signed: the source text as it was at finalization, even if re-processed since.
    for (const s of frozen) sources[s.chunkId] = s;
  } else {
    for (const { versionId: _, id, ...chunk } of (await loadChunksById(tx, row.patient_id, ids)).values()) {
      sources[id] = { chunkId: id, ...chunk };
    }
  }
  await recordAudit(tx, audit, {
    action: "report.read",
    outcome: "SUCCESS",
    resource: { type: "report", id: row.id },
    details: { patientId: row.patient_id, history: false },
  });
  return ok({
    ...toReportSummary(row),
    rendered: { draft: renderNarrative(row.draft), content: renderNarrative(row.content) },
    draft: row.draft,
    content: row.content,
    provenance: row.provenance,
    sources,
    signature:
      row.status === "finalized" && row.content_hash && row.signature && row.signature_kid
        ? {
            contentHash: row.content_hash,
            kid: row.signature_kid,
            signature: row.signature,
            signedBy: row.finalized_by!,
            signedByName: signerNameOf(row),
            signedAt: new Date(row.finalized_at!).toISOString(),
          }
        : null,
  });
}

/** Who signed, by name as frozen in the snapshot (snapshots before version 2 have only the id). */
function signerNameOf(row: ReportRow): string | null {
  const name = row.snapshot?.finalizedByName;
  return typeof name === "string" ? name : null;
}
