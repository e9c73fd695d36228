/** The smallest value a JSON Schema accepts (the stand-in's answer for schemas it does not know). */
export function minimalInstance(schema: unknown): unknown {
  if (!schema || typeof schema !== "object") return null;
  const s = schema as Record<string, unknown>;
  if (Array.isArray(s.anyOf)) {
    const variants = s.anyOf as Record<string, unknown>[];
    return minimalInstance(variants.find((v) => v.type === "null") ?? variants[0]);
  }
  if (Array.isArray(s.enum)) return s.enum[0];
  if ("const" in s) return s.const;
  switch (s.type) {
    case "object": {
      const props = (s.properties ?? {}) as Record<string, unknown>;
      return Object.fromEntries(Object.entries(props).map(([k, v]) => [k, minimalInstance(v)]));
    }
    case "array":
      return [];
    case "string":
      return "x";
    case "number":
    case "integer":
      return 0;
    case "boolean":
      return false;
    default:
      return null;
  }
}
