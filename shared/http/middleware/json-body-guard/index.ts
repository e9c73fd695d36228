import { createMiddleware } from "hono/factory";
import { HttpError } from "../../errors";

/**
 * Refuses JSON bodies that no route should ever see, before any validator or handler parses
 * them (issue 13; ASVS 1.5.2 deserialisation, 2.2.1 input validation):
 *  - keys that reach Object.prototype when a body is merged or spread (`__proto__`,
 *    `constructor`, `prototype`): prototype pollution;
 *  - nesting deeper than MAX_JSON_DEPTH: recursive parsers and validators overflow the stack;
 *  - strings with NUL (Postgres text cannot hold it, so it would fail at the database,
 *    after other writes of the request) or with lone UTF-16 surrogates (not Unicode text:
 *    RFC 8785 canonical JSON, used for audit hashes and report signatures, refuses them, and
 *    UTF-8 encoding silently replaces them, so what is stored is not what was sent).
 * Each is a clear 400 naming the problem, never the value.
 */

/** Deepest object/array nesting any request body of this API has (a handful of levels), with a wide margin. */
export const MAX_JSON_DEPTH = 32;

const FORBIDDEN_KEYS = new Set(["__proto__", "constructor", "prototype"]);
const BODY_METHODS = new Set(["POST", "PUT", "PATCH", "DELETE"]);
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export type JsonBodyProblem = "malformed" | "too_deep" | "forbidden_key" | "nul_character" | "lone_surrogate";

const MESSAGES: Record<JsonBodyProblem, string> = {
  malformed: "The body is not valid JSON.",
  too_deep: `The body is nested more than ${MAX_JSON_DEPTH} levels deep.`,
  forbidden_key: "The body contains a reserved key (__proto__, constructor or prototype).",
  nul_character: "The body contains a NUL character in a string.",
  lone_surrogate: "The body contains a string that is not valid Unicode (a lone surrogate).",
};

/** Nesting depth of JSON text, counted outside strings, without parsing (linear, no recursion). */
function exceedsDepth(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (inString) {
      if (ch === 0x5c) i++;
      else if (ch === 0x22) inString = false;
    } else if (ch === 0x22) inString = true;
    else if (ch === 0x7b || ch === 0x5b) {
      if (++depth > max) return true;
    } else if (ch === 0x7d || ch === 0x5d) depth--;
  }
  return false;
}

function textProblem(value: string): JsonBodyProblem | null {
  if (value.includes("\u0000")) return "nul_character";
  if (LONE_SURROGATE.test(value)) return "lone_surrogate";
  return null;
}

/** The first problem of a JSON body text, or null when it may go on to the route. */
export function findJsonBodyProblem(text: string): JsonBodyProblem | null {
  if (exceedsDepth(text, MAX_JSON_DEPTH)) return "too_deep";
  let problem: JsonBodyProblem | null = null;
  try {
    JSON.parse(text, (key, value) => {
      if (problem) return value;
      if (FORBIDDEN_KEYS.has(key)) problem = "forbidden_key";
      else problem = textProblem(key) ?? (typeof value === "string" ? textProblem(value) : null);
      return value;
    });
  } catch {
    return "malformed";
  }
  return problem;
}

function isJson(contentType: string | undefined): boolean {
  return (contentType ?? "").split(";")[0]!.trim().toLowerCase() === "application/json";
}

export const jsonBodyGuard = () =>
  createMiddleware(async (c, next) => {
    if (BODY_METHODS.has(c.req.method) && isJson(c.req.header("Content-Type"))) {
      // A clone: routes that read the raw stream themselves (signature checks over the exact
      // bytes) still find it unread. The body limit has already bounded what is buffered.
      const text = await c.req.raw.clone().text();
      if (text.length > 0) {
        const problem = findJsonBodyProblem(text);
        if (problem) throw new HttpError("bad_request", MESSAGES[problem], { problem });
      }
    }
    await next();
  });
