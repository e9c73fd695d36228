/**
 * Errors of the reports domain: values, turned into HTTP errors at the edge. Messages are fixed
 * and safe to show (no report text, no PHI).
 */
import type { DomainError } from "../core/result";

export const REPORT_CONFLICT_REASONS = [
  /** The patient has no processed document to draft from. */
  "record_empty",
  /** A PATCH named a revision that is no longer the current one (someone else saved first). */
  "stale_revision",
  /** The report is still being drafted, or its draft failed: nothing to edit or finalize. */
  "not_draft",
  /** The report is finalized: no edits; amend it instead. */
  "finalized",
  /** Only a finalized report can be amended, shared or exported. */
  "not_finalized",
  /** The finalized report already has an amendment. */
  "already_amended",
] as const;
export type ReportConflictReason = (typeof REPORT_CONFLICT_REASONS)[number];

export type ReportError =
  | { code: "not_found"; message: string }
  | { code: "conflict"; reason: ReportConflictReason; message: string; currentRevision?: number }
  | { code: "invalid_input"; message: string; fields: string[] }
  | { code: "unavailable"; message: string };

export const reportErrors = {
  patientNotFound: (): ReportError => ({ code: "not_found", message: "No such patient." }),
  reportNotFound: (): ReportError => ({ code: "not_found", message: "No such report." }),
  recordEmpty: (): ReportError => ({
    code: "conflict",
    reason: "record_empty",
    message: "The patient has no processed documents yet: upload and process a document first.",
  }),
  staleRevision: (currentRevision: number): ReportError => ({
    code: "conflict",
    reason: "stale_revision",
    message: "The report was changed by someone else since you opened it. Reload to see their changes.",
    currentRevision,
  }),
  notDraft: (): ReportError => ({
    code: "conflict",
    reason: "not_draft",
    message: "The report has no draft to change yet (it is being drafted or drafting failed).",
  }),
  finalized: (): ReportError => ({
    code: "conflict",
    reason: "finalized",
    message: "The report is finalized and cannot change. Create an amendment instead.",
  }),
  notFinalized: (): ReportError => ({
    code: "conflict",
    reason: "not_finalized",
    message: "Only a finalized report can be used for this.",
  }),
  alreadyAmended: (): ReportError => ({
    code: "conflict",
    reason: "already_amended",
    message: "This report already has an amendment.",
  }),
  invalidSection: (fields: string[]): ReportError => ({
    code: "invalid_input",
    message: "The section content is not valid.",
    fields,
  }),
} as const satisfies Record<string, (...args: never[]) => DomainError>;
