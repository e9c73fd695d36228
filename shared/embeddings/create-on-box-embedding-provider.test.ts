import { describe, expect, it } from "vitest";
import { cosineSimilarity } from "./cosine-similarity";
import {
  createOnBoxEmbeddingProvider,
  embedText,
  MAX_EMBEDDING_BATCH,
  MAX_EMBEDDING_TEXT_CHARS,
  ON_BOX_EMBEDDING_DIMENSIONS,
} from "./create-on-box-embedding-provider";

const norm = (v: readonly number[]) => Math.sqrt(v.reduce((n, x) => n + x * x, 0));

async function embed(texts: string[]): Promise<number[][]> {
  const r = await createOnBoxEmbeddingProvider().embed(texts);
  if (!r.ok) throw new Error(r.error.code);
  return r.value;
}

describe("createOnBoxEmbeddingProvider", () => {
  it("names its model and size, matching the vector(256) column", () => {
    const p = createOnBoxEmbeddingProvider();
    expect(p.model).toBe("on-box-hash-256@1");
    expect(p.dimensions).toBe(256);
    expect(ON_BOX_EMBEDDING_DIMENSIONS).toBe(256);
  });

  it("is deterministic: same text, same vector, across calls and providers", async () => {
    const text = "Hemoglobin A1c 7.1 % (4.0-5.6) H, collected 03/13/2025";
    const [a] = await embed([text]);
    const [b] = await createOnBoxEmbeddingProvider()
      .embed([text])
      .then((r) => (r.ok ? r.value : []));
    expect(a).toEqual(b);
    expect(a).toEqual(embedText(text));
  });

  it("pins the feature hashing: changing it must come with a new model name", () => {
    const v = embedText("Glucose 105 mg/dL");
    const firstNonZero = v
      .map((x, i) => [i, x] as const)
      .filter(([, x]) => x !== 0)
      .slice(0, 4);
    expect(firstNonZero.map(([i]) => i)).toEqual([13, 15, 36, 70]);
    expect(firstNonZero.map(([, x]) => x)).toEqual([
      expect.closeTo(0.125546, 5),
      expect.closeTo(0.125546, 5),
      expect.closeTo(0.418487, 5),
      expect.closeTo(0.251092, 5),
    ]);
  });

  it("returns one L2-normalised 256-dimensional vector per text, in order", async () => {
    const texts = ["Glucose 105 mg/dL", "", "   ", "!!!", "Metformin 500 mg twice daily", "x".repeat(4000)];
    const vectors = await embed(texts);
    expect(vectors).toHaveLength(texts.length);
    for (const v of vectors) {
      expect(v).toHaveLength(256);
      expect(norm(v)).toBeCloseTo(1, 10);
    }
    expect(vectors[0]).toEqual(embedText("Glucose 105 mg/dL"));
    expect(vectors[4]).toEqual(embedText("Metformin 500 mg twice daily"));
  });

  it("ignores case, Unicode compatibility forms and spacing", () => {
    expect(embedText("GLUCOSE   fasting")).toEqual(embedText("glucose fasting"));
    // Fullwidth letters (NFKC) read as the ASCII word.
    expect(embedText("\uff47\uff4c\uff55\uff43\uff4f\uff53\uff45")).toEqual(embedText("glucose"));
  });

  it("puts lexically similar texts closer than unrelated ones", () => {
    const query = embedText("hemoglobin a1c result");
    const labRow = embedText("Hemoglobin A1c 7.1 % 4.0-5.6 H");
    const typo = embedText("Hemoglobn A1c 7.1 %");
    const unrelated = embedText("Patient denies chest pain. Follow up in six weeks with cardiology.");
    expect(cosineSimilarity(query, labRow)).toBeGreaterThan(0.35);
    expect(cosineSimilarity(query, typo)).toBeGreaterThan(cosineSimilarity(query, unrelated));
    expect(cosineSimilarity(query, labRow)).toBeGreaterThan(cosineSimilarity(query, unrelated) + 0.3);
    expect(Math.abs(cosineSimilarity(query, unrelated))).toBeLessThan(0.2);

    const note = embedText("Assessment: type 2 diabetes mellitus, poorly controlled. Continue metformin.");
    const sameTopic = embedText("Type 2 diabetes mellitus with hyperglycemia; metformin continued");
    const otherTopic = embedText("Chest X-ray: no acute cardiopulmonary process. Lungs are clear.");
    expect(cosineSimilarity(note, sameTopic)).toBeGreaterThan(cosineSimilarity(note, otherTopic) + 0.3);
  });

  it("does not count stopwords as evidence, and numbers only as whole numbers", () => {
    const a = embedText("the patient is at the clinic");
    const b = embedText("the of and in to with the");
    expect(cosineSimilarity(a, b)).toBeLessThan(0.2);
    // 105 and 150 share every digit but are different results.
    expect(cosineSimilarity(embedText("105"), embedText("150"))).toBeLessThan(0.3);
    expect(cosineSimilarity(embedText("105"), embedText("105"))).toBeCloseTo(1, 12);
  });

  it("refuses oversized input as a value, never an exception", async () => {
    const p = createOnBoxEmbeddingProvider();
    expect(await p.embed(["a".repeat(MAX_EMBEDDING_TEXT_CHARS + 1)])).toMatchObject({
      ok: false,
      error: { code: "invalid_input" },
    });
    expect(await p.embed(new Array(MAX_EMBEDDING_BATCH + 1).fill("a"))).toMatchObject({
      ok: false,
      error: { code: "invalid_input" },
    });
    expect(await p.embed([])).toEqual({ ok: true, value: [] });
  });
});

describe("cosineSimilarity", () => {
  it("is 1 for the same direction, 0 for orthogonal, -1 for opposite, 0 for a zero vector", () => {
    expect(cosineSimilarity([1, 2, 3], [2, 4, 6])).toBeCloseTo(1, 12);
    expect(cosineSimilarity([1, 0], [0, 3])).toBe(0);
    expect(cosineSimilarity([1, -1], [-2, 2])).toBeCloseTo(-1, 12);
    expect(cosineSimilarity([0, 0], [1, 1])).toBe(0);
  });

  it("refuses vectors of different lengths", () => {
    expect(() => cosineSimilarity([1, 2], [1, 2, 3])).toThrow(RangeError);
  });
});
