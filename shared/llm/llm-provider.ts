/**
 * What the gateway asks of an external model provider (OpenAI today). Only the gateway
 * (shared/llm/) holds a provider; domain code and pipeline steps hold an `LlmGateway`.
 *
 * A provider does transport only: it sends what the gateway already decided may be sent
 * (policy checked, text redacted when required) and returns raw answers. Schema validation,
 * grounding, un-redaction and the egress event are the gateway's job, so that they are the same
 * for every provider. Errors are values (`ProviderFailure`), never thrown.
 */
import type { Result } from "../core/result";

/** Processor names as they appear in PHI_PROCESSORS and in tenant policies. */
export const EXTERNAL_PROCESSORS = ["openai"] as const;
export type ExternalProcessor = (typeof EXTERNAL_PROCESSORS)[number];

export interface ProviderUsage {
  inputTokens: number;
  outputTokens: number;
}

/** Why a provider call failed; all are safe to record (no content). */
export const PROVIDER_FAILURE_KINDS = [
  "timeout",
  "rate_limited",
  "server_error",
  "circuit_open",
  "invalid_response",
  "refused_by_model",
  "bad_request",
  "auth",
] as const;
export type ProviderFailureKind = (typeof PROVIDER_FAILURE_KINDS)[number];

export interface ProviderFailure {
  readonly code: "unavailable";
  readonly kind: ProviderFailureKind;
  readonly message: string;
  /** Attempts made, including retries. */
  readonly attempts: number;
}

export interface StructuredRequest {
  /** The task name (used as the json_schema name). */
  name: string;
  /** JSON Schema generated from the task's zod schema (strict mode compatible). */
  jsonSchema: Record<string, unknown>;
  /** System instructions; never contain patient data. */
  instructions: string;
  /** Untrusted document/record text, already redacted when required; sent as data. */
  sourceText: string;
}

export interface StructuredResponse {
  /** Parsed JSON from the model; the gateway validates it with the task's zod schema. */
  json: unknown;
  model: string;
  usage: ProviderUsage;
  attempts: number;
}

export interface EmbeddingsResponse {
  vectors: number[][];
  model: string;
  dimensions: number;
  usage: ProviderUsage;
  attempts: number;
}

export interface ExternalLlmProvider {
  readonly processor: ExternalProcessor;
  /** Chat model used for structured output, e.g. "gpt-4o-mini". */
  readonly chatModel: string;
  /** Embedding model and its dimensions, e.g. "text-embedding-3-small", 1536. */
  readonly embeddingModel: string;
  readonly embeddingDimensions: number;
  runStructured(request: StructuredRequest): Promise<Result<StructuredResponse, ProviderFailure>>;
  embed(texts: readonly string[]): Promise<Result<EmbeddingsResponse, ProviderFailure>>;
}
