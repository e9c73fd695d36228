/**
 * What clients see of a report, and the one column list every read goes through.
 */
import type { Tx } from "../db/database";
import type { ClaimSegment } from "./claim-markdown";
import type { NarrativeSection, ReportContent, ReportProvenance } from "./report-schema";

/** Narrative claims parsed for display, section by section, claim by claim. */
export type RenderedNarrative = Record<NarrativeSection, ClaimSegment[][]>;

export const REPORT_STATUSES = ["drafting", "draft", "failed", "finalized"] as const;
export type ReportStatus = (typeof REPORT_STATUSES)[number];

export interface ReportRow {
  id: string;
  tenant_id: string;
  patient_id: string;
  job_id: string | null;
  amends_report_id: string | null;
  report_version: number;
  status: ReportStatus;
  revision: number;
  draft: ReportContent | null;
  content: ReportContent | null;
  provenance: ReportProvenance | null;
  unsupported_count: number;
  error_code: string | null;
  created_by: string;
  created_at: Date;
  updated_at: Date;
  drafted_at: Date | null;
  finalized_at: Date | null;
  finalized_by: string | null;
  snapshot: Record<string, unknown> | null;
  content_hash: string | null;
  signature: string | null;
  signature_kid: string | null;
}

export async function readReportRow(
  tx: Tx,
  id: string,
  options: { forUpdate?: boolean } = {},
): Promise<ReportRow | undefined> {
  const [row] = await tx<ReportRow[]>`
    select id, tenant_id, patient_id, job_id, amends_report_id, report_version, status, revision, draft,
      content, provenance, unsupported_count, error_code, created_by, created_at, updated_at, drafted_at,
      finalized_at, finalized_by, snapshot, content_hash, signature, signature_kid
    from medchr.reports where id = ${id}
    ${options.forUpdate ? tx`for update` : tx``}`;
  return row;
}

const iso = (value: Date | string | null) => (value === null ? null : new Date(value).toISOString());

/** The summary of a report (lists): no content. */
export interface ReportSummaryView {
  id: string;
  patientId: string;
  jobId: string | null;
  status: ReportStatus;
  revision: number;
  reportVersion: number;
  amendsReportId: string | null;
  unsupportedCount: number;
  provider: string | null;
  error: { code: string } | null;
  createdAt: string;
  updatedAt: string;
  draftedAt: string | null;
  finalizedAt: string | null;
}

export function toReportSummary(row: ReportRow): ReportSummaryView {
  return {
    id: row.id,
    patientId: row.patient_id,
    jobId: row.job_id,
    status: row.status,
    revision: row.revision,
    reportVersion: row.report_version,
    amendsReportId: row.amends_report_id,
    unsupportedCount: row.unsupported_count,
    provider: row.provenance?.provider ?? null,
    error: row.error_code ? { code: row.error_code } : null,
    createdAt: iso(row.created_at)!,
    updatedAt: iso(row.updated_at)!,
    draftedAt: iso(row.drafted_at),
    finalizedAt: iso(row.finalized_at),
  };
}

export interface ReportSourceView {
  chunkId: string;
  documentId: string;
  page: number;
  charStart: number;
  charEnd: number;
  /** The chunk's text: the quote in its context. */
  text: string;
}

export interface ReportView extends ReportSummaryView {
  /** The narrative claims of draft and content as display segments (never HTML). */
  rendered: { draft: RenderedNarrative | null; content: RenderedNarrative | null };
  /** The AI draft as verified, never changed. */
  draft: ReportContent | null;
  /** The content as edited. */
  content: ReportContent | null;
  provenance: ReportProvenance | null;
  /** Every cited chunk that is still current, by id (a re-processed document's old chunks are gone). */
  sources: Record<string, ReportSourceView>;
  signature: {
    contentHash: string;
    kid: string;
    signature: string;
    signedBy: string;
    signedByName: string | null;
    signedAt: string;
  } | null;
}
