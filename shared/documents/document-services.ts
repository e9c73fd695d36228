/**
 * What the document flows need from their caller. The HTTP edge builds it per request
 * (functions/api/routes/documents); tests and benchmarks build it directly. Storage is
 * resolved lazily, only once a flow has passed its tenant checks: a request about another
 * tenant's patient is answered 404 without touching storage.
 */
import type { AuditContext } from "../audit/audit-context";
import type { Result } from "../core/result";
import type { Database, RequestScope } from "../db/database";
import type { ObjectStorage } from "../storage/object-storage";
import type { DocumentError } from "./document-errors";
import type { DocumentView } from "./document-view";

/**
 * Called after a document is registered with status "uploaded" (both upload flows), once
 * its transaction committed: where processing starts (issue 5 enqueues the pipeline job
 * here). A failing hook does not undo the upload; the document stays "uploaded", which is
 * what a recovery sweep for unprocessed documents looks for.
 */
export type DocumentRegisteredHook = (
  document: DocumentView,
  context: { tenantId: string; requestId: string },
) => Promise<void>;

export interface DocumentServices {
  db: Database;
  scope: RequestScope;
  audit: AuditContext;
  storage: () => Result<ObjectStorage, DocumentError>;
  now?: () => Date;
  onRegistered?: DocumentRegisteredHook;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Lower-case canonical UUIDs only: ids reach SQL typed, and storage paths are built from them. */
export function isUuid(value: unknown): value is string {
  return typeof value === "string" && UUID.test(value);
}

export const nowOf = (services: Pick<DocumentServices, "now">): Date => services.now?.() ?? new Date();

/** Runs the registered hook without letting it fail the request; logs ids only. */
export async function notifyRegistered(services: DocumentServices, document: DocumentView): Promise<void> {
  if (!services.onRegistered || document.status !== "uploaded") return;
  try {
    await services.onRegistered(document, {
      tenantId: services.scope.tenantId,
      requestId: services.scope.requestId,
    });
  } catch (error) {
    console.error(
      JSON.stringify({
        level: "error",
        event: "document.registered_hook_failed",
        documentId: document.id,
        requestId: services.scope.requestId,
        name: (error as Error | undefined)?.name ?? "Error",
      }),
    );
  }
}
