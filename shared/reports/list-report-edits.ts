/** A report's edit history, oldest first: who, when, which section, before and after. */
import { type AuditContext, recordAudit } from "../audit/audit-context";
import { err, ok, type Result } from "../core/result";
import type { Tx } from "../db/database";
import { describeActors } from "../users/describe-actors";
import { type ReportError, reportErrors } from "./report-errors";
import type { ReportSection } from "./report-schema";
import { readReportRow } from "./report-view";

export interface ReportEditView {
  revision: number;
  section: ReportSection;
  before: unknown;
  after: unknown;
  editedBy: string;
  /** The editor's name now (a user's display name or an API key's name; null if gone). */
  editedByName: string | null;
  editedAt: string;
}

/** Edits shown at most: a report edited more than this has a problem worth seeing as such. */
export const MAX_EDITS_LISTED = 1000;

export async function listReportEdits(
  tx: Tx,
  input: { reportId: string },
  audit: AuditContext,
): Promise<Result<ReportEditView[], ReportError>> {
  const row = await readReportRow(tx, input.reportId);
  if (!row) return err(reportErrors.reportNotFound());
  const edits = await tx<
    {
      revision: number;
      section: ReportSection;
      before: unknown;
      after: unknown;
      edited_by: string;
      edited_at: Date;
    }[]
  >`
    select revision, section, before, after, edited_by, edited_at
    from medchr.report_edits where report_id = ${row.id}
    order by revision limit ${MAX_EDITS_LISTED}`;
  const names = await describeActors(
    tx,
    edits.map((e) => e.edited_by),
  );
  await recordAudit(tx, audit, {
    action: "report.read",
    outcome: "SUCCESS",
    resource: { type: "report", id: row.id },
    details: { patientId: row.patient_id, history: true },
  });
  return ok(
    edits.map((e) => ({
      revision: e.revision,
      section: e.section,
      before: e.before,
      after: e.after,
      editedBy: e.edited_by,
      editedByName: names.get(e.edited_by) ?? null,
      editedAt: new Date(e.edited_at).toISOString(),
    })),
  );
}
