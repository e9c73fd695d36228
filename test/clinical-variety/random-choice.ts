/** Choices drawn from a seeded generator (shared/core/seeded-random), for the document generators. */
export type Random = () => number;

export const pick = <T>(r: Random, items: readonly T[]): T => items[Math.floor(r() * items.length)]!;

/** `n` distinct items in drawn order. */
export function sample<T>(r: Random, items: readonly T[], n: number): T[] {
  const pool = [...items];
  const out: T[] = [];
  while (out.length < n && pool.length > 0) out.push(pool.splice(Math.floor(r() * pool.length), 1)[0]!);
  return out;
}
