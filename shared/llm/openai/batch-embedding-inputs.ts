/**
 * OpenAI's embeddings endpoint takes at most 2,048 inputs and 300,000 tokens per request
 * (API reference, "Create embeddings"). Tokens are estimated without a tokenizer at one per
 * three characters, which over-counts English (about four per token) and so stays under the
 * cap; the budget keeps a further margin.
 */
export const MAX_INPUTS_PER_REQUEST = 2048;
export const MAX_TOKENS_PER_REQUEST = 300_000;
const TOKEN_BUDGET = Math.floor(MAX_TOKENS_PER_REQUEST * 0.8);

export const estimateTokens = (text: string): number => Math.ceil(text.length / 3) + 1;

/** Index ranges [start, end) of `texts`, each within both limits, in order. */
export function batchEmbeddingInputs(texts: readonly string[]): [number, number][] {
  const batches: [number, number][] = [];
  let start = 0;
  let tokens = 0;
  for (let i = 0; i < texts.length; i++) {
    const t = estimateTokens(texts[i]!);
    if (i > start && (i - start >= MAX_INPUTS_PER_REQUEST || tokens + t > TOKEN_BUDGET)) {
      batches.push([start, i]);
      start = i;
      tokens = 0;
    }
    tokens += t;
  }
  if (texts.length > start) batches.push([start, texts.length]);
  return batches;
}
