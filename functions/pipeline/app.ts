import { createOnBoxEmbeddingProvider } from "../../shared/embeddings";
import { createFunctionApp } from "../../shared/http/create-app";
import { registerHealth } from "../../shared/http/routes/health";
import { databaseRedactor } from "../../shared/llm/redaction/database-redactor";
import type { EmbeddingProvider } from "../../shared/pipeline/pipeline-steps";
import { STEP_HANDLERS } from "../../shared/pipeline/steps/step-handlers";
import { type TextResult, textErr, WORKERS_TEXT_LIMITS } from "../../shared/text";
import type { OcrEngine } from "../../shared/text/ocr-engine";
import { externalLlmProvidersFor } from "./external-llm-providers";
import { registerStepRoutes, type StepRouteOptions } from "./step-routes";

export type PipelineAppOptions = Partial<StepRouteOptions>;

/**
 * Without an engine injected (index.ts injects the Worker's bundled one), OCR fails closed and
 * retryably: the text-layer pages of a PDF still work, a scanned page fails its step.
 */
const noOcr = async (): Promise<TextResult<OcrEngine>> =>
  textErr("ocr_unavailable", "OCR is not available in this runtime.");

let onBoxEmbeddings: EmbeddingProvider | undefined;
/** One provider per isolate: it is deterministic and holds no per-request state. */
const defaultEmbeddings = (): EmbeddingProvider => {
  onBoxEmbeddings ??= createOnBoxEmbeddingProvider();
  return onBoxEmbeddings;
};

/**
 * The pipeline function: QStash-signed step deliveries (POST /pipeline/steps/{step}) and
 * liveness. It reads documents through the STORAGE binding, runs OCR in the isolate, extracts
 * and embeds through the LLM gateway (OpenAI when the deployment and the clinic allow it, else
 * on-box) and publishes each next step to QStash.
 */
export function buildPipelineApp(options: PipelineAppOptions = {}) {
  const app = createFunctionApp("pipeline", { usesDatabase: true });
  registerHealth(app, "pipeline", "/pipeline/health");
  registerStepRoutes(app, {
    handlers: STEP_HANDLERS,
    getOcr: noOcr,
    embeddings: defaultEmbeddings,
    externalProviders: externalLlmProvidersFor,
    redactor: databaseRedactor,
    textLimits: WORKERS_TEXT_LIMITS,
    ...options,
  });
  return app;
}

export const pipelineApp = buildPipelineApp();
