/**
 * A patient's lab trends (build-lab-trends.ts) from the current record, audited as record.read
 * with counts only. Another clinic's patient is not found.
 */
import { type AuditContext, recordAudit } from "../audit/audit-context";
import { err, ok, type Result } from "../core/result";
import type { Tx } from "../db/database";
import { buildLabTrends, type LabTrend } from "./build-lab-trends";
import { buildPatientRecord } from "./build-patient-record";
import type { RecordNotFoundError } from "./get-patient-record";

export async function getPatientLabTrends(
  tx: Tx,
  input: { patientId: string },
  audit: AuditContext,
): Promise<Result<LabTrend[], RecordNotFoundError>> {
  const record = await buildPatientRecord(tx, input.patientId);
  if (!record.ok) return err(record.error);
  const trends = buildLabTrends(record.value);
  await recordAudit(tx, audit, {
    action: "record.read",
    outcome: "SUCCESS",
    resource: { type: "patient", id: record.value.patientId },
    details: {
      documents: record.value.documents.length,
      items: trends.reduce((n, t) => n + t.points.length, 0),
    },
  });
  return ok(trends);
}
