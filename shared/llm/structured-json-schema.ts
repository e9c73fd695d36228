/**
 * JSON Schema for OpenAI structured outputs (`response_format: json_schema, strict: true`)
 * from the task's zod schema, so the model is asked for exactly the shape the on-box provider
 * fills. Strict mode wants every object closed (`additionalProperties: false`) with every
 * property listed in `required` (an optional field becomes a nullable one) and accepts only a
 * subset of keywords; value constraints that it does not take (lengths, bounds, patterns,
 * formats) are dropped here because the gateway validates the answer with the zod schema
 * afterwards: the model's answer is never trusted on the strength of the JSON Schema alone.
 */
import { z } from "zod";

const DROPPED_KEYWORDS = new Set([
  "$schema",
  "default",
  "format",
  "pattern",
  "minLength",
  "maxLength",
  "minimum",
  "maximum",
  "exclusiveMinimum",
  "exclusiveMaximum",
  "multipleOf",
  "minItems",
  "maxItems",
  "uniqueItems",
  "propertyNames",
]);

type Json = Record<string, unknown>;

function nullable(schema: Json): Json {
  if (Array.isArray(schema.anyOf)) {
    const variants = schema.anyOf as Json[];
    return variants.some((v) => v.type === "null")
      ? schema
      : { ...schema, anyOf: [...variants, { type: "null" }] };
  }
  if (schema.type === "null") return schema;
  return { anyOf: [schema, { type: "null" }] };
}

function strict(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(strict);
  if (!node || typeof node !== "object") return node;
  const out: Json = {};
  for (const [key, value] of Object.entries(node as Json)) {
    if (DROPPED_KEYWORDS.has(key)) continue;
    out[key] = key === "properties" ? value : strict(value);
  }
  if (out.type === "object" && out.properties && typeof out.properties === "object") {
    const props = out.properties as Json;
    const required = new Set(Array.isArray(out.required) ? (out.required as string[]) : []);
    const next: Json = {};
    for (const [name, schema] of Object.entries(props)) {
      const s = strict(schema) as Json;
      next[name] = required.has(name) ? s : nullable(s);
    }
    out.properties = next;
    out.required = Object.keys(next);
    out.additionalProperties = false;
  } else if (out.type === "object") {
    out.properties ??= {};
    out.required = [];
    out.additionalProperties = false;
  }
  return out;
}

const cache = new WeakMap<z.ZodType, Json>();

export function toStrictJsonSchema(schema: z.ZodType): Json {
  let out = cache.get(schema);
  if (!out) {
    const raw = z.toJSONSchema(schema, { io: "output", unrepresentable: "any", reused: "inline" }) as Json;
    out = strict(raw) as Json;
    if (out.type !== "object") throw new TypeError("structured output needs an object schema at the root");
    cache.set(schema, out);
  }
  return out;
}
