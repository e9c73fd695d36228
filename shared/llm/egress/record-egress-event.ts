import { appendAuditEvent } from "../../audit/append-audit-event";
import type { KeyRing } from "../../config/key-ring";
import type { Tx } from "../../db/database";
import type { LlmCallScope } from "../llm-gateway";
import type { EgressEvent } from "./egress-event";

export type NewEgressEvent = Omit<EgressEvent, "id" | "occurredAt" | "actorType" | "actorId" | "requestId">;

/**
 * Writes one egress event and, in the same transaction, its llm.egress audit event, so the
 * egress log is covered by the tamper-evident audit chain (ADR 0004): deleting or changing an
 * egress row leaves an audit event without its row, and the audit events themselves are
 * chained. Both or neither.
 */
export async function recordEgressEvent(
  tx: Tx,
  auditKeys: KeyRing,
  scope: LlmCallScope,
  event: NewEgressEvent,
): Promise<string> {
  const [row] = await tx<{ id: string }[]>`
    insert into medchr.llm_egress_events
      (tenant_id, actor_type, actor_id, patient_id, document_id, processor, model, purpose, allowed,
       reason, outcome, redaction_applied, chars_sent, identifiers_removed, dropped_ungrounded,
       input_tokens, output_tokens, attempts, latency_ms, request_id)
    values ((select medchr.current_tenant_id()), ${scope.actor.type}, ${scope.actor.id}, ${event.patientId},
      ${event.documentId}, ${event.processor}, ${event.model}, ${event.purpose}, ${event.allowed},
      ${event.reason}, ${event.outcome}, ${event.redactionApplied}, ${event.charsSent},
      ${event.identifiersRemoved}, ${event.droppedUngrounded}, ${event.inputTokens}, ${event.outputTokens},
      ${event.attempts}, ${event.latencyMs}, ${scope.requestId})
    returning id`;
  const id = row!.id;
  await appendAuditEvent(tx, auditKeys, {
    actor: scope.actor,
    requestId: scope.requestId,
    action: "llm.egress",
    outcome: event.outcome === "refused" || event.outcome === "failed" ? "FAILURE" : "SUCCESS",
    resource: { type: "llm_egress", id },
    details: {
      processor: event.processor,
      purpose: event.purpose,
      outcome: event.outcome,
      allowed: event.allowed,
      redacted: event.redactionApplied,
      identifiersRemoved: event.identifiersRemoved,
      charsSent: event.charsSent,
      ...(event.reason ? { reason: event.reason } : {}),
      ...(event.patientId ? { patientId: event.patientId } : {}),
      ...(event.documentId ? { documentId: event.documentId } : {}),
    },
  });
  return id;
}
