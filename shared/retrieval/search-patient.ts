/**
 * Search one patient's current documents (issue 10 §1): the query is embedded through the LLM
 * gateway (its policy decides the embedder; in the api function only the on-box one exists,
 * ADR 0010), then hybrid retrieval over the patient's chunks, audited as patient.search with
 * counts only: the query text is PHI-adjacent and never stored, logged or audited.
 */
import { type AuditContext, recordAudit } from "../audit/audit-context";
import { err, ok, type Result } from "../core/result";
import type { Database, RequestScope } from "../db/database";
import type { LlmCallScope, LlmGateway } from "../llm/llm-gateway";
import { type ChunkHit, searchPatientChunks } from "./search-patient-chunks";

export interface PatientNotFound {
  code: "not_found";
  message: string;
}

export interface PatientSearchResult {
  hits: ChunkHit[];
  /** Which legs ran: the vector leg needs a query vector of the chunks' model. */
  legs: { vector: boolean; text: true };
  /** The model the query was embedded with, null when the vector leg did not run. */
  embeddingModel: string | null;
}

export async function searchPatient(
  deps: { db: Database; llm: LlmGateway },
  scope: RequestScope,
  audit: AuditContext,
  input: { patientId: string; q: string; k: number },
): Promise<Result<PatientSearchResult, PatientNotFound>> {
  const exists = await deps.db.withTenant(scope, async (tx) => {
    const [row] = await tx<{ id: string }[]>`select id from medchr.patients where id = ${input.patientId}`;
    return row !== undefined;
  });
  if (!exists) return err({ code: "not_found", message: "No such patient." });

  const llmScope: LlmCallScope = {
    tenantId: scope.tenantId,
    actor:
      audit.actor.type === "anonymous"
        ? { type: "system", id: "search" }
        : (audit.actor as LlmCallScope["actor"]),
    patientId: input.patientId,
    documentId: null,
    requestId: scope.requestId,
  };
  // A refused or failed embedding leaves the text leg: search still answers.
  const embedded = await deps.llm.embed(llmScope, [input.q]);
  const queryVector = embedded.ok
    ? { model: embedded.value.model, vector: embedded.value.vectors[0]! }
    : null;

  const hits = await deps.db.withTenant(scope, async (tx) => {
    const found = await searchPatientChunks(tx, {
      patientId: input.patientId,
      query: input.q,
      k: input.k,
      queryVector,
    });
    await recordAudit(tx, audit, {
      action: "patient.search",
      outcome: "SUCCESS",
      resource: { type: "patient", id: input.patientId },
      details: { k: input.k, results: found.length, vector: queryVector !== null },
    });
    return found;
  });
  return ok({
    hits,
    legs: { vector: queryVector !== null, text: true },
    embeddingModel: queryVector?.model ?? null,
  });
}
