import { describe, expect, it } from "vitest";
import { z } from "zod";
import { ClinicalExtractionSchema } from "../clinical/schema";
import { toStrictJsonSchema } from "./structured-json-schema";

type Json = Record<string, unknown>;
function walk(node: unknown, visit: (n: Json) => void) {
  if (Array.isArray(node)) {
    for (const n of node) walk(n, visit);
  } else if (node && typeof node === "object") {
    visit(node as Json);
    for (const v of Object.values(node as Json)) walk(v, visit);
  }
}

describe("toStrictJsonSchema", () => {
  it("closes every object and requires every property (strict mode), for the extraction schema", () => {
    const schema = toStrictJsonSchema(ClinicalExtractionSchema);
    let objects = 0;
    walk(schema, (n) => {
      if (n.type === "object") {
        objects += 1;
        expect(n.additionalProperties).toBe(false);
        expect([...(n.required as string[])].sort()).toEqual(Object.keys(n.properties as Json).sort());
      }
      for (const k of ["pattern", "format", "minLength", "minimum", "maximum", "$schema"])
        expect(n).not.toHaveProperty(k);
    });
    expect(objects).toBeGreaterThan(5);
    expect((schema.properties as Json).labs).toMatchObject({ type: "array" });
  });

  it("turns optional fields into required nullable ones", () => {
    const schema = toStrictJsonSchema(z.object({ a: z.string(), b: z.number().optional() }));
    expect(schema.required).toEqual(["a", "b"]);
    expect((schema.properties as Json).b).toEqual({ anyOf: [{ type: "number" }, { type: "null" }] });
  });

  it("refuses a non-object root", () => {
    expect(() => toStrictJsonSchema(z.array(z.string()))).toThrow(TypeError);
  });
});
