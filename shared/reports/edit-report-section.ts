/**
 * A clinician's edit of one report section, with optimistic concurrency: the edit names the
 * revision it was made on; if the report has moved on (someone else saved), it is refused with
 * the current revision (409 stale_revision) and nothing is written. Otherwise, in one
 * transaction: the section replaced in `content` (the AI draft is untouched), the revision
 * incremented, the edit appended to report_edits (before and after), report.edit audited.
 *
 * Support is decided here, never taken from the client: each citation is re-verified against
 * the patient's current chunks (one that does not resolve is dropped); a claim whose text is
 * unchanged keeps the support it had; a new or reworded claim is the clinician's.
 */
import { type AuditContext, recordAudit } from "../audit/audit-context";
import { err, ok, type Result } from "../core/result";
import type { Tx } from "../db/database";
import { type ReportError, reportErrors } from "./report-errors";
import {
  NARRATIVE_SECTIONS,
  type NarrativeSection,
  REPORT_SECTION_SCHEMAS,
  type ReportCitation,
  type ReportClaim,
  type ReportContent,
  type ReportSection,
} from "./report-schema";
import { loadChunksById, type SourceChunks, verifyCitation } from "./report-sources";
import { type ReportSummaryView, readReportRow, toReportSummary } from "./report-view";

export interface EditReportSectionInput {
  reportId: string;
  /** The revision the edit was made on (GET's revision). */
  revision: number;
  section: ReportSection;
  /** The section's new value (claims for a narrative section, rows for a table). */
  value: unknown;
}

const isNarrative = (s: ReportSection): s is NarrativeSection =>
  (NARRATIVE_SECTIONS as readonly string[]).includes(s);

function reverify(chunks: SourceChunks, citations: readonly ReportCitation[]): ReportCitation[] {
  return citations.map((c) => verifyCitation(chunks, c)).filter((c): c is ReportCitation => c !== null);
}

export async function editReportSection(
  tx: Tx,
  input: EditReportSectionInput,
  audit: AuditContext,
): Promise<Result<ReportSummaryView, ReportError>> {
  const row = await readReportRow(tx, input.reportId, { forUpdate: true });
  if (!row) return err(reportErrors.reportNotFound());
  if (row.status === "finalized") return err(reportErrors.finalized());
  if (row.status !== "draft" || !row.content) return err(reportErrors.notDraft());
  if (row.revision !== input.revision) return err(reportErrors.staleRevision(row.revision));

  const parsed = REPORT_SECTION_SCHEMAS[input.section].safeParse(input.value);
  if (!parsed.success) {
    return err(reportErrors.invalidSection(parsed.error.issues.map((i) => ["value", ...i.path].join("."))));
  }
  // Only the chunks the new value cites: a patient may have thousands.
  const chunks = await loadChunksById(
    tx,
    row.patient_id,
    (parsed.data as { citations: { chunkId: string }[] }[]).flatMap((item) =>
      item.citations.map((c) => c.chunkId),
    ),
  );
  const before = row.content[input.section];
  let after: unknown;
  if (isNarrative(input.section)) {
    const previous = new Map((before as ReportClaim[]).map((c) => [c.text.trim(), c]));
    after = (parsed.data as ReportClaim[]).map((claim): ReportClaim => {
      const citations = reverify(chunks, claim.citations);
      const kept = previous.get(claim.text.trim());
      const support =
        kept && kept.support !== "clinician" && citations.length >= kept.citations.length
          ? kept.support
          : "clinician";
      return { text: claim.text, support, citations };
    });
  } else {
    after = (parsed.data as { citations: ReportCitation[] }[]).map((item) => ({
      ...item,
      citations: reverify(chunks, item.citations),
    }));
  }
  const content = { ...row.content, [input.section]: after } as ReportContent;
  const unsupported = NARRATIVE_SECTIONS.reduce(
    (n, s) => n + content[s].filter((c) => c.support === "unsupported").length,
    0,
  );
  const revision = row.revision + 1;
  const [updated] = await tx<{ updated_at: Date }[]>`
    update medchr.reports set content = ${tx.json(content as never)}, revision = ${revision},
      unsupported_count = ${unsupported}
    where id = ${row.id}
    returning updated_at`;
  await tx`
    insert into medchr.report_edits (tenant_id, report_id, revision, section, before, after)
    values (medchr.current_tenant_id(), ${row.id}, ${revision}, ${input.section},
      ${tx.json(before as never)}, ${tx.json(after as never)})`;
  await recordAudit(tx, audit, {
    action: "report.edit",
    outcome: "SUCCESS",
    resource: { type: "report", id: row.id },
    details: { patientId: row.patient_id, section: input.section, revision },
  });
  return ok(
    toReportSummary({
      ...row,
      content,
      revision,
      unsupported_count: unsupported,
      updated_at: updated!.updated_at,
    }),
  );
}
