import { z } from "zod";
import { type AuditContext, recordAudit } from "../../audit/audit-context";
import { err, ok, type Result } from "../../core/result";
import type { Tx } from "../../db/database";
import { GATEWAY_REFUSAL_CODES, LLM_PROVIDER_KINDS, LLM_PURPOSES } from "../llm-gateway";
import { EGRESS_OUTCOMES, type EgressEvent } from "./egress-event";

export const EGRESS_PAGE_DEFAULT = 50;
export const EGRESS_PAGE_MAX = 200;

/** Query parameters; strict, so a misspelt filter is refused rather than ignored. */
export const ListEgressEventsInput = z
  .strictObject({
    limit: z.coerce.number().int().min(1).max(EGRESS_PAGE_MAX).default(EGRESS_PAGE_DEFAULT),
    cursor: z
      .string()
      .regex(/^[1-9][0-9]{0,17}$/)
      .optional()
      .describe("nextCursor of the previous page"),
    patientId: z.uuid().optional(),
    documentId: z.uuid().optional(),
    processor: z.enum(LLM_PROVIDER_KINDS).optional(),
    purpose: z.enum(LLM_PURPOSES).optional(),
    outcome: z.enum(EGRESS_OUTCOMES).optional(),
    reason: z.enum(GATEWAY_REFUSAL_CODES).optional(),
    from: z.iso.datetime({ offset: true }).optional(),
    to: z.iso.datetime({ offset: true }).optional(),
  })
  .refine((q) => !q.from || !q.to || Date.parse(q.from) <= Date.parse(q.to), {
    message: "from must not be after to",
    path: ["from"],
  });
export type ListEgressEventsInput = z.input<typeof ListEgressEventsInput>;

export interface EgressEventPage {
  events: EgressEvent[];
  nextCursor: string | null;
}

export interface InvalidEgressQuery {
  readonly code: "invalid_input";
  readonly message: string;
  readonly issues: readonly { path: PropertyKey[]; message: string }[];
}

interface Row {
  seq_text: string;
  id: string;
  occurred_at: Date;
  actor_type: EgressEvent["actorType"];
  actor_id: string;
  patient_id: string | null;
  document_id: string | null;
  processor: EgressEvent["processor"];
  model: string;
  purpose: EgressEvent["purpose"];
  allowed: boolean;
  reason: EgressEvent["reason"];
  outcome: EgressEvent["outcome"];
  redaction_applied: boolean;
  chars_sent: number;
  identifiers_removed: number;
  dropped_ungrounded: number;
  input_tokens: number;
  output_tokens: number;
  attempts: number;
  latency_ms: number;
  request_id: string;
}

/**
 * One page of the current tenant's egress log, newest first (keyset on seq). Reading it is
 * audited (llm.egress_read) in the same transaction: who looked at which patients' egress is
 * itself a disclosure record.
 */
export async function listEgressEvents(
  tx: Tx,
  input: ListEgressEventsInput,
  audit: AuditContext,
): Promise<Result<EgressEventPage, InvalidEgressQuery>> {
  const parsed = ListEgressEventsInput.safeParse(input);
  if (!parsed.success)
    return err({
      code: "invalid_input",
      message: "The egress query is not valid.",
      issues: parsed.error.issues.map((i) => ({ path: i.path, message: i.message })),
    });
  const q = parsed.data;
  const rows = await tx<Row[]>`
    select seq::text as seq_text, id, occurred_at, actor_type, actor_id, patient_id, document_id, processor,
      model, purpose, allowed, reason, outcome, redaction_applied, chars_sent, identifiers_removed,
      dropped_ungrounded, input_tokens, output_tokens, attempts, latency_ms, request_id
    from medchr.llm_egress_events
    where true
      ${q.cursor ? tx`and seq < ${q.cursor}::bigint` : tx``}
      ${q.patientId ? tx`and patient_id = ${q.patientId}` : tx``}
      ${q.documentId ? tx`and document_id = ${q.documentId}` : tx``}
      ${q.processor ? tx`and processor = ${q.processor}` : tx``}
      ${q.purpose ? tx`and purpose = ${q.purpose}` : tx``}
      ${q.outcome ? tx`and outcome = ${q.outcome}` : tx``}
      ${q.reason ? tx`and reason = ${q.reason}` : tx``}
      ${q.from ? tx`and occurred_at >= ${q.from}::timestamptz` : tx``}
      ${q.to ? tx`and occurred_at <= ${q.to}::timestamptz` : tx``}
    order by medchr.llm_egress_events.seq desc
    limit ${q.limit + 1}`;
  const items = rows.slice(0, q.limit);
  const events: EgressEvent[] = items.map((r) => ({
    id: r.id,
    occurredAt: r.occurred_at.toISOString(),
    actorType: r.actor_type,
    actorId: r.actor_id,
    patientId: r.patient_id,
    documentId: r.document_id,
    processor: r.processor,
    model: r.model,
    purpose: r.purpose,
    allowed: r.allowed,
    reason: r.reason,
    outcome: r.outcome,
    redactionApplied: r.redaction_applied,
    charsSent: r.chars_sent,
    identifiersRemoved: r.identifiers_removed,
    droppedUngrounded: r.dropped_ungrounded,
    inputTokens: r.input_tokens,
    outputTokens: r.output_tokens,
    attempts: r.attempts,
    latencyMs: r.latency_ms,
    requestId: r.request_id,
  }));
  const filtered = [
    q.patientId,
    q.documentId,
    q.processor,
    q.purpose,
    q.outcome,
    q.reason,
    q.from,
    q.to,
  ].some((v) => v !== undefined);
  await recordAudit(tx, audit, {
    action: "llm.egress_read",
    outcome: "SUCCESS",
    resource: { type: "llm_egress", id: null },
    details: { count: events.length, filtered },
  });
  return ok({
    events,
    nextCursor: rows.length > q.limit && items.length > 0 ? items.at(-1)!.seq_text : null,
  });
}
