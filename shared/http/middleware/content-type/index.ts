import { createMiddleware } from "hono/factory";
import { HttpError } from "../../errors";

export interface ContentTypeOptions {
  /** Path patterns that take multipart/form-data instead of JSON (direct uploads). */
  multipartPaths?: readonly RegExp[];
}

const BODY_METHODS = new Set(["POST", "PUT", "PATCH"]);

function mediaType(header: string | undefined): string {
  return (header ?? "").split(";")[0]!.trim().toLowerCase();
}

/**
 * State-changing calls must declare a JSON body (or multipart on upload routes).
 * A missing or other Content-Type gets 415 *before* validation, so a form post can
 * never reach a handler as an empty object. This is also the first CSRF defence:
 * browsers cannot send application/json cross-site without a CORS preflight
 * (ASVS 3.5.2, 4.1.1).
 */
export const requireJsonBody = (options: ContentTypeOptions = {}) => {
  const multipart = options.multipartPaths ?? [];
  return createMiddleware(async (c, next) => {
    if (BODY_METHODS.has(c.req.method)) {
      const type = mediaType(c.req.header("Content-Type"));
      const wantsMultipart = multipart.some((p) => p.test(c.req.path));
      const accepted = wantsMultipart ? type === "multipart/form-data" : type === "application/json";
      if (!accepted) {
        throw new HttpError(
          "unsupported_media_type",
          wantsMultipart ? "Send multipart/form-data." : "Send the body as application/json.",
        );
      }
    }
    await next();
  });
};
