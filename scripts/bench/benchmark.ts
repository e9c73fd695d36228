/**
 * The contract between the bench harness (run.ts) and each benchmark file
 * (`<name>.bench.ts`, default export). A benchmark measures a handful of cases of one
 * thing, all in the same unit, so they can share one chart.
 */
export interface BenchCase {
  /** Short label, shown in the table and on the chart. */
  name: string;
  /** Groups cases on the chart (same colour), e.g. "yardstick" vs "audit". */
  group: string;
  /** Chart panel; each panel has its own scale. Cases of very different magnitude go in different panels. */
  panel: string;
  /** Operations measured (events, requests...). */
  ops: number;
  ms: number;
  /** ops / (ms / 1000); the median round when the case was repeated. */
  perSecond: number;
  /** Rate of every round, when the case was repeated. */
  rounds?: number[];
}

export interface BenchResult {
  /** What one operation is, e.g. "events". */
  unit: string;
  cases: BenchCase[];
  /** Caveats a reader needs to interpret the numbers. */
  notes: string[];
  /** Versions and settings that make the run reproducible. */
  setup: Record<string, string | number>;
}

export interface Benchmark {
  /** kebab-case; names the JSON result and the chart. */
  name: string;
  title: string;
  run(): Promise<BenchResult>;
}

/** Runs `total` operations split over `writers` concurrent loops and times the whole. */
export async function timeWriters(
  label: Pick<BenchCase, "name" | "group" | "panel">,
  writers: number,
  total: number,
  op: (index: number) => Promise<unknown>,
): Promise<BenchCase> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: writers }, async () => {
      // Each writer takes the next index until none are left: all writers stay busy to the end.
      for (let i = next++; i < total; i = next++) await op(i);
    }),
  );
  return toCase(label, total, performance.now() - started);
}

export function toCase(
  label: Pick<BenchCase, "name" | "group" | "panel">,
  ops: number,
  ms: number,
): BenchCase {
  return { ...label, ops, ms: Math.round(ms), perSecond: Math.round((ops * 1000) / ms) };
}

/**
 * Runs a case `rounds` times and keeps the median round (by rate): one slow round (GC,
 * a noisy neighbour) should not decide the number.
 */
export async function medianOf(
  rounds: number,
  run: (round: number) => Promise<BenchCase>,
): Promise<BenchCase> {
  const results: BenchCase[] = [];
  for (let round = 0; round < rounds; round++) results.push(await run(round));
  const sorted = [...results].sort((a, b) => a.perSecond - b.perSecond);
  return { ...sorted[Math.floor(sorted.length / 2)]!, rounds: results.map((r) => r.perSecond) };
}
