import type { Redactor } from "../create-llm-gateway";
import { createRedactionSession } from "./create-redaction-session";
import { loadKnownIdentifiers } from "./load-known-identifiers";
import { NO_KNOWN_IDENTIFIERS } from "./redaction";

/** The gateway's redactor: the call's patient's identifiers from the database plus the general rules. */
export const databaseRedactor: Redactor = {
  async loadKnownIdentifiers(db, scope) {
    const patientId = scope.patientId;
    if (!patientId) return NO_KNOWN_IDENTIFIERS;
    return db.withTenant(
      { tenantId: scope.tenantId, requestId: scope.requestId, actorId: scope.actor.id },
      (tx) => loadKnownIdentifiers(tx, patientId),
    );
  },
  createSession: createRedactionSession,
};
