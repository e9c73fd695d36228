/** Latency statistics of the benchmarks: nearest-rank percentiles over per-request samples (ms). */

/** Nearest rank: the smallest sample with at least q of the samples at or below it. */
export function percentile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

export interface Latency {
  p50: number;
  p99: number;
  max: number;
}

export interface Summary extends Latency {
  n: number;
  mean: number;
  p95: number;
}

function summariseTo(samples: readonly number[], decimals: number): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  const scale = 10 ** decimals;
  const round = (v: number) => Math.round(v * scale) / scale;
  return {
    n: sorted.length,
    mean: round(sorted.reduce((a, b) => a + b, 0) / sorted.length),
    p50: round(percentile(sorted, 0.5)),
    p95: round(percentile(sorted, 0.95)),
    p99: round(percentile(sorted, 0.99)),
    max: round(sorted[sorted.length - 1]!),
  };
}

/** p50, p99 and max, to 0.1 ms. */
export function latencyOf(samples: readonly number[]): Latency {
  const { p50, p99, max } = summariseTo(samples, 1);
  return { p50, p99, max };
}

/** Count, mean, p50/p95/p99 and max, to 0.01 ms: for CPU times, where 0.1 ms is too coarse. */
export function summarise(samples: readonly number[]): Summary {
  return summariseTo(samples, 2);
}

/**
 * One case's latencies pooled over interleaved rounds, with each round's p50 and p99 kept
 * apart to show how much the rounds disagree.
 */
export class PooledLatencies {
  readonly latencies: number[] = [];
  ms = 0;
  readonly roundP50s: number[] = [];
  readonly roundP99s: number[] = [];

  constructor(private readonly spreadOf: (samples: readonly number[]) => Latency = latencyOf) {}

  /** One round: its per-request latencies and its wall time. */
  add(latencies: readonly number[], ms: number): void {
    this.ms += ms;
    this.latencies.push(...latencies);
    const spread = this.spreadOf(latencies);
    this.roundP50s.push(spread.p50);
    this.roundP99s.push(spread.p99);
  }

  /** Requests per second over all rounds. */
  perSecond(): number {
    return Math.round((this.latencies.length * 1000) / this.ms);
  }
}
