/**
 * One document of the current tenant, audited as a read (HIPAA 164.312(b): every view of
 * PHI is on the record). Another tenant's id reads as absent through RLS, and the answer
 * is the same "not found" as for an id that never existed.
 */

import { recordAudit } from "../audit/audit-context";
import { err, ok, type Result } from "../core/result";
import { type DocumentError, documentErrors } from "./document-errors";
import { type DocumentServices, isUuid } from "./document-services";
import { type DocumentView, readDocumentRows, toDocumentView } from "./document-view";

export async function getDocument(
  services: Pick<DocumentServices, "db" | "scope" | "audit">,
  input: { documentId: string },
): Promise<Result<DocumentView, DocumentError>> {
  const documentId = typeof input.documentId === "string" ? input.documentId.toLowerCase() : "";
  if (!isUuid(documentId)) return err(documentErrors.documentNotFound());
  return services.db.withTenant(services.scope, async (tx) => {
    const [row] = await readDocumentRows(tx, { id: documentId });
    if (!row) return err(documentErrors.documentNotFound());
    await recordAudit(tx, services.audit, {
      action: "document.read",
      outcome: "SUCCESS",
      resource: { type: "document", id: row.id },
      details: { patientId: row.patient_id },
    });
    return ok(toDocumentView(row));
  });
}
