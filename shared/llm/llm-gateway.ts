/**
 * The contract of the LLM gateway: the one path by which any model (on-box or external) is
 * asked anything. Pipeline steps, report drafting and questions call an `LlmGateway`; they never
 * call a provider, and no file outside shared/llm/ imports a model SDK (`npm run check:llm-gateway`).
 *
 * On every call, before anything is sent, the gateway decides with the deployment allowlist
 * (PHI_PROCESSORS), the tenant's AI policy and the call's purpose which provider answers:
 *  - an external processor (OpenAI) only when the deployment lists it (it has a BAA), the tenant
 *    allows external processing and that processor, with redaction when either requires it;
 *  - otherwise the on-box provider, which sends nothing anywhere, and the result says why
 *    (`fallback`), so the UI can tell the clinician;
 *  - or nothing at all (`GatewayRefusal`) when the tenant turned AI processing off for a purpose
 *    that has no non-AI answer, or the caller asked to stop rather than fall back.
 * Every attempt, allowed or refused, leaves an egress event (ids, counts, enums; never content).
 *
 * Domain code builds a `StructuredTask` (one zod schema that both providers fill, the on-box
 * answer, and a grounding check) and hands it to `runStructured`. Nothing here knows HTTP.
 */
import type { z } from "zod";
import type { DomainError, Result } from "../core/result";

/** Why a model is asked; recorded on every egress event. */
export const LLM_PURPOSES = ["extraction", "embedding", "draft", "question"] as const;
export type LlmPurpose = (typeof LLM_PURPOSES)[number];

/** Which provider answered. "on-box" never leaves the deployment. */
export const LLM_PROVIDER_KINDS = ["on-box", "openai"] as const;
export type LlmProviderKind = (typeof LLM_PROVIDER_KINDS)[number];

/** Who asks and about whom (ids only): goes onto the egress event, never content. */
export interface LlmCallScope {
  tenantId: string;
  actor: { type: "user"; id: string } | { type: "api_key"; id: string } | { type: "system"; id: string };
  patientId: string | null;
  documentId: string | null;
  requestId: string;
}

/**
 * A unit of structured work that an external model and the on-box provider answer with the same
 * schema. The document text is data, never instructions: `sourceText` is sent in its own message,
 * fenced and labelled as untrusted, after `instructions`.
 */
export interface StructuredTask<Input, Output> {
  /** Stable name, e.g. "clinical-extraction", "chr-draft". */
  readonly name: string;
  readonly purpose: Exclude<LlmPurpose, "embedding">;
  /** Recorded with every result: a change of instructions or schema must change it. */
  readonly promptVersion: string;
  /** The one schema both providers' answers are validated with (JSON Schema for the model is generated from it). */
  readonly schema: z.ZodType<Output>;
  /** System instructions. Never contains patient data. */
  readonly instructions: string;
  /** The source material the model reads (document pages, record, retrieved chunks) as plain text. */
  sourceText(input: Input): string;
  /** The on-box answer: deterministic, sends nothing anywhere. */
  onBox(input: Input): Output | Promise<Output>;
  /** The on-box provider's versioned name, recorded as the model (e.g. "on-box-rules@3"). */
  readonly onBoxModel: string;
  /**
   * Keeps only what can be found in the source (a value the model invented, a citation that does
   * not resolve) and counts what it dropped. Applied to every provider's answer.
   */
  ground(output: Output, input: Input): { output: Output; dropped: number };
}

export const GATEWAY_REFUSAL_CODES = [
  /** The tenant turned AI processing off (for purposes that have no non-AI answer). */
  "ai_disabled",
  /** The tenant allows on-box processing only. */
  "external_not_allowed",
  /** The tenant does not allow this processor. */
  "processor_not_allowed",
  /** The deployment has no BAA with this processor (not in PHI_PROCESSORS). */
  "processor_not_in_allowlist",
  /** No external provider is configured (no key). */
  "no_external_provider",
  /** Redaction is required but could not be applied. */
  "redaction_unavailable",
  /** The external provider failed (timeouts, 5xx, circuit open, invalid answers). */
  "provider_unavailable",
] as const;
export type GatewayRefusalCode = (typeof GATEWAY_REFUSAL_CODES)[number];

/** A decision not to send (or not to answer): a typed value the caller and the UI can explain. */
export interface GatewayRefusal extends DomainError {
  readonly code: "forbidden" | "unavailable";
  readonly reason: GatewayRefusalCode;
}

export interface StructuredResult<Output> {
  output: Output;
  provider: LlmProviderKind;
  /** Model name as sent to the provider, or the on-box provider's versioned name. */
  model: string;
  promptVersion: string;
  redacted: boolean;
  /** Set when an external provider was wanted or tried but the on-box one answered: why. */
  fallback: GatewayRefusalCode | null;
  /** What `ground` removed from the answer. */
  droppedUngrounded: number;
}

export interface EmbeddingResult {
  vectors: number[][];
  provider: LlmProviderKind;
  model: string;
  dimensions: number;
  fallback: GatewayRefusalCode | null;
}

export interface RunOptions {
  /** What to do when external processing is refused or fails: answer on-box (default) or stop. */
  onRefusal?: "on-box" | "stop";
}

export interface LlmGateway {
  runStructured<Input, Output>(
    scope: LlmCallScope,
    task: StructuredTask<Input, Output>,
    input: Input,
    options?: RunOptions,
  ): Promise<Result<StructuredResult<Output>, GatewayRefusal | DomainError>>;

  embed(
    scope: LlmCallScope,
    texts: readonly string[],
    options?: RunOptions,
  ): Promise<Result<EmbeddingResult, GatewayRefusal | DomainError>>;
}
