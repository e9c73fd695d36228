/**
 * A patient's documents with their status, newest first, one page at a time; audited as a
 * list (ids and the count only).
 */

import { recordAudit } from "../audit/audit-context";
import { err, ok, type Result } from "../core/result";
import { decodeDocumentCursor, encodeDocumentCursor } from "./document-cursor";
import { type DocumentError, documentErrors } from "./document-errors";
import { DOCUMENT_PAGE } from "./document-limits";
import { type DocumentServices, isUuid } from "./document-services";
import {
  DOCUMENT_STATUSES,
  type DocumentStatus,
  type DocumentView,
  readDocumentRows,
  toDocumentView,
} from "./document-view";
import { patientExists } from "./upload-intents";

export interface ListDocumentsInput {
  patientId: string;
  limit?: number;
  cursor?: string;
  status?: DocumentStatus;
}

export interface DocumentPage {
  documents: DocumentView[];
  /** null on the last page. */
  nextCursor: string | null;
}

export async function listDocuments(
  services: Pick<DocumentServices, "db" | "scope" | "audit">,
  input: ListDocumentsInput,
): Promise<Result<DocumentPage, DocumentError>> {
  const patientId = typeof input.patientId === "string" ? input.patientId.toLowerCase() : "";
  if (!isUuid(patientId)) return err(documentErrors.patientNotFound());
  const limit = input.limit ?? DOCUMENT_PAGE.default;
  const fields: Array<{ field: string; message: string }> = [];
  if (!Number.isInteger(limit) || limit < 1 || limit > DOCUMENT_PAGE.max) {
    fields.push({ field: "limit", message: `must be 1 to ${DOCUMENT_PAGE.max}` });
  }
  const after = input.cursor === undefined ? null : decodeDocumentCursor(input.cursor);
  if (input.cursor !== undefined && !after) {
    fields.push({ field: "cursor", message: "is not a cursor from a previous page" });
  }
  if (input.status !== undefined && !DOCUMENT_STATUSES.includes(input.status)) {
    fields.push({ field: "status", message: `must be one of ${DOCUMENT_STATUSES.join(", ")}` });
  }
  if (fields.length > 0) return err(documentErrors.invalidFields(fields));

  return services.db.withTenant(services.scope, async (tx) => {
    if (!(await patientExists(tx, patientId))) return err(documentErrors.patientNotFound());
    const rows = await readDocumentRows(tx, {
      patientId,
      after,
      limit,
      ...(input.status ? { status: input.status } : {}),
    });
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    await recordAudit(tx, services.audit, {
      action: "document.list",
      outcome: "SUCCESS",
      resource: { type: "document", id: null },
      details: { patientId, count: page.length },
    });
    return ok({
      documents: page.map(toDocumentView),
      nextCursor:
        rows.length > limit && last
          ? encodeDocumentCursor({ createdAt: last.cursor_created_at, id: last.id })
          : null,
    });
  });
}
