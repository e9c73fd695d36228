export type { ApiKeyStatus, ApiKeyView } from "./api-key-view";
export {
  API_KEY_RATE_LIMIT_DEFAULT,
  API_KEY_RATE_LIMIT_MAX,
  CreateApiKeyInput,
  type CreatedApiKey,
  createApiKey,
} from "./create-api-key";
export { ListApiKeysInput, listApiKeys } from "./list-api-keys";
export { RevokeApiKeyInput, revokeApiKey } from "./revoke-api-key";
