/**
 * The pipeline's external model providers, from its config: OpenAI when OPENAI_API_KEY is set
 * (OPENAI_BASE_URL, OPENAI_CHAT_MODEL, OPENAI_EMBEDDING_MODEL optional). One provider per
 * config and isolate, so its circuit breaker sees every call the isolate makes. In prod/HIPAA
 * mode the base URL must be https (the key and PHI never travel in clear text).
 */
import type { AppConfig } from "../../shared/config/load-config";
import type { LlmGatewayDeps } from "../../shared/llm/create-llm-gateway";
import { createOpenAiProvider } from "../../shared/llm/openai/create-openai-provider";

const providers = new WeakMap<AppConfig, LlmGatewayDeps["providers"]>();

const setting = (config: AppConfig, name: string): string | undefined => {
  const value = config.env[name];
  return typeof value === "string" && value.trim() ? value.trim() : undefined;
};

export function externalLlmProvidersFor(config: AppConfig): LlmGatewayDeps["providers"] {
  const cached = providers.get(config);
  if (cached) return cached;
  const out: LlmGatewayDeps["providers"] = {};
  const apiKey = config.secrets.OPENAI_API_KEY;
  const baseURL = setting(config, "OPENAI_BASE_URL");
  if (apiKey && (!config.strict || !baseURL || baseURL.startsWith("https://"))) {
    const chatModel = setting(config, "OPENAI_CHAT_MODEL");
    const embeddingModel = setting(config, "OPENAI_EMBEDDING_MODEL");
    out.openai = createOpenAiProvider({
      apiKey,
      ...(baseURL ? { baseURL } : {}),
      ...(chatModel ? { chatModel } : {}),
      ...(embeddingModel ? { embeddingModel } : {}),
      // Workers' fetch must be called unbound from the global, not as a method of the client.
      fetch: (input, init) => fetch(input, init),
    });
  } else if (apiKey) {
    console.error("medchr-pipeline: OPENAI_BASE_URL must use https in prod/HIPAA mode; OpenAI is not used");
  }
  providers.set(config, out);
  return out;
}
