import { z } from "zod";
import { GATEWAY_REFUSAL_CODES, LLM_PROVIDER_KINDS, LLM_PURPOSES } from "../llm-gateway";

/**
 * One row of medchr.llm_egress_events: what the gateway decided and did on one call. Only
 * ids, enums and counts; the column checks refuse anything else, and there is no field a
 * prompt, a document or an answer could go into.
 */
export const EGRESS_OUTCOMES = ["sent", "failed", "on_box", "refused"] as const;
export type EgressOutcome = (typeof EGRESS_OUTCOMES)[number];

export const EgressEventSchema = z.object({
  id: z.uuid(),
  occurredAt: z.string(),
  actorType: z.enum(["user", "api_key", "system"]),
  actorId: z.string(),
  patientId: z.uuid().nullable(),
  documentId: z.uuid().nullable(),
  processor: z.enum(LLM_PROVIDER_KINDS),
  model: z.string(),
  purpose: z.enum(LLM_PURPOSES),
  allowed: z.boolean(),
  reason: z.enum(GATEWAY_REFUSAL_CODES).nullable(),
  outcome: z.enum(EGRESS_OUTCOMES),
  redactionApplied: z.boolean(),
  charsSent: z.number().int(),
  identifiersRemoved: z.number().int(),
  droppedUngrounded: z.number().int(),
  inputTokens: z.number().int(),
  outputTokens: z.number().int(),
  attempts: z.number().int(),
  latencyMs: z.number().int(),
  requestId: z.string(),
});
export type EgressEvent = z.infer<typeof EgressEventSchema>;
