/**
 * The on-box embedding provider: a deterministic feature-hashing embedder that needs no model,
 * no network and no state. Texts become 256-dimensional L2-normalised vectors built from hashed
 * word, word-bigram and character-trigram features, so texts that share words (or spellings of
 * words: "glucose" / "glucoses", OCR slips) are close under cosine similarity and unrelated texts
 * are near orthogonal. It is lexical, not semantic: it is the offline baseline behind the same
 * EmbeddingProvider interface the LLM gateway's providers implement.
 */
import { err, ok, type Result } from "../core/result";
import type { EmbeddingProvider } from "../pipeline/pipeline-steps";

/** Stored beside each vector: a change of features or weights must change this name. */
export const ON_BOX_EMBEDDING_MODEL = "on-box-hash-256@1";
/** document_chunks.embedding is vector(256) (migration 20261122192000_pipeline.sql). */
export const ON_BOX_EMBEDDING_DIMENSIONS = 256;
/**
 * Bounds the work of one call: chunks are at most 4,000 characters (document_chunks check) and
 * queries far shorter, so a longer text is a caller bug, refused rather than hashed for seconds.
 */
export const MAX_EMBEDDING_TEXT_CHARS = 32_000;
export const MAX_EMBEDDING_BATCH = 1024;

/** Relative weights: whole words carry the meaning, bigrams the phrasing, trigrams the spelling. */
const WORD_WEIGHT = 1;
const BIGRAM_WEIGHT = 0.6;
const TRIGRAM_WEIGHT = 0.3;

/**
 * Words too common to say anything about a passage: left out of every feature (they would make
 * every English sentence look alike) and they break bigrams ("history of diabetes" pairs nothing).
 */
const STOPWORDS = new Set(
  (
    "a an and are as at be but by for from has have he her his in is it its of on or she that the " +
    "their there they this to was were which with will"
  ).split(" "),
);

const WORD = /[\p{L}\p{N}]+/gu;
const DIGITS = /^\p{N}+$/u;

/** FNV-1a over UTF-16 code units, then the murmur3 finaliser so low and high bits are both mixed. */
function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

interface Feature {
  weight: number;
  count: number;
}

function addFeature(features: Map<string, Feature>, key: string, weight: number): void {
  const seen = features.get(key);
  if (seen) seen.count += 1;
  else features.set(key, { weight, count: 1 });
}

function featuresOf(text: string): Map<string, Feature> {
  const counts = new Map<string, Feature>();
  const words = text.normalize("NFKC").toLowerCase().match(WORD) ?? [];
  let previous: string | null = null;
  for (const word of words) {
    if (STOPWORDS.has(word)) {
      previous = null;
      continue;
    }
    addFeature(counts, `w:${word}`, WORD_WEIGHT);
    if (previous !== null) addFeature(counts, `b:${previous} ${word}`, BIGRAM_WEIGHT);
    previous = word;
    // Trigrams of numbers would make 105 and 150 look alike; numbers match as whole words only.
    if (word.length >= 3 && !DIGITS.test(word)) {
      const padded = `^${word}$`;
      for (let i = 0; i + 3 <= padded.length; i++)
        addFeature(counts, `t:${padded.slice(i, i + 3)}`, TRIGRAM_WEIGHT);
    }
  }
  return counts;
}

/**
 * One text to one unit vector. Repeated features grow logarithmically (a word said ten times is
 * not ten times the topic); each feature lands in a hashed bucket with a hashed sign, so
 * collisions cancel on average instead of piling up. A text with no word characters gets a
 * fixed unit vector of its own, so every output is normalised and comparable.
 */
export function embedText(text: string): number[] {
  const vector = new Array<number>(ON_BOX_EMBEDDING_DIMENSIONS).fill(0);
  const features = featuresOf(text);
  if (features.size === 0) features.set("empty", { weight: 1, count: 1 });
  for (const [key, { weight, count }] of features) {
    const h = hash32(key);
    const bucket = h % ON_BOX_EMBEDDING_DIMENSIONS;
    const sign = h >>> 31 ? -1 : 1;
    vector[bucket] = (vector[bucket] ?? 0) + sign * weight * (1 + Math.log(count));
  }
  let norm = 0;
  for (const v of vector) norm += v * v;
  norm = Math.sqrt(norm);
  // All features can cancel out only in theory (opposite signs, equal weights, one bucket).
  if (norm === 0) {
    vector[hash32("empty") % ON_BOX_EMBEDDING_DIMENSIONS] = 1;
    return vector;
  }
  return vector.map((v) => v / norm);
}

export function createOnBoxEmbeddingProvider(): EmbeddingProvider {
  return {
    model: ON_BOX_EMBEDDING_MODEL,
    dimensions: ON_BOX_EMBEDDING_DIMENSIONS,
    async embed(texts: readonly string[]): Promise<Result<number[][]>> {
      if (texts.length > MAX_EMBEDDING_BATCH) {
        return err({ code: "invalid_input", message: "Too many texts in one embedding call." });
      }
      if (texts.some((t) => typeof t !== "string" || t.length > MAX_EMBEDDING_TEXT_CHARS)) {
        return err({ code: "invalid_input", message: "A text is too long to embed." });
      }
      return ok(texts.map(embedText));
    },
  };
}
