import { createMiddleware } from "hono/factory";
import type { FunctionName } from "../../../config/functions";
import { type AppConfig, loadConfig } from "../../../config/load-config";
import { HttpError } from "../../errors";

/**
 * Validates the function's environment once per isolate (the env object is stable for
 * an isolate's life) and puts the typed config on the context. A function whose config
 * is invalid refuses every request with 503 and logs each problem by setting name,
 * never by value: it does not run half-configured (brief section 5).
 */
export const appConfig = (functionName: FunctionName) => {
  const cache = new WeakMap<object, ReturnType<typeof loadConfig>>();
  return createMiddleware<{ Variables: { config: AppConfig } }>(async (c, next) => {
    const env = (c.env ?? {}) as Record<string, unknown>;
    let result = cache.get(env);
    if (!result) {
      result = loadConfig(functionName, env);
      cache.set(env, result);
      if (!result.ok) console.error(result.error.message);
    }
    if (!result.ok) throw new HttpError("misconfigured", "The service is not configured correctly.");
    c.set("config", result.value);
    await next();
  });
};
