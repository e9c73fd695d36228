import { bodyLimit as honoBodyLimit } from "hono/body-limit";
import { HttpError } from "../../errors";

/** JSON bodies are small; uploads have their own, larger limit on their own routes. */
export const DEFAULT_JSON_BODY_LIMIT_BYTES = 1024 * 1024;

/**
 * Hono's body-limit counts the streamed bytes (not only Content-Length, which a client
 * can lie about) and stops reading at the limit.
 */
export const bodyLimit = (maxBytes: number = DEFAULT_JSON_BODY_LIMIT_BYTES) =>
  honoBodyLimit({
    maxSize: maxBytes,
    onError: () => {
      throw new HttpError("payload_too_large", `The request body exceeds ${maxBytes} bytes.`);
    },
  });
