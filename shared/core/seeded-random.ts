/**
 * Mulberry32: a small seeded pseudo-random generator, so generated test documents, benchmark
 * inputs and load-test actions are the same on every machine and run. Not for secrets (use
 * crypto.getRandomValues for anything an attacker must not guess).
 */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
