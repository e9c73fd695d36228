export { cosineSimilarity } from "./cosine-similarity";
export {
  createOnBoxEmbeddingProvider,
  embedText,
  MAX_EMBEDDING_BATCH,
  MAX_EMBEDDING_TEXT_CHARS,
  ON_BOX_EMBEDDING_DIMENSIONS,
  ON_BOX_EMBEDDING_MODEL,
} from "./create-on-box-embedding-provider";
