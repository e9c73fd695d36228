/**
 * A circuit breaker per provider and isolate (Nygard, "Release It!"): after
 * `failureThreshold` consecutive failed calls the circuit opens and calls fail at once
 * without a request for `cooldownMs`; then one trial call is let through (half-open): its
 * success closes the circuit, its failure opens it again. Keeps a failing provider from
 * adding its timeout to every document while the on-box fallback answers.
 */
export interface CircuitBreakerOptions {
  failureThreshold: number;
  cooldownMs: number;
  now: () => number;
}

export type CircuitState = "closed" | "open" | "half_open";

export interface CircuitBreaker {
  /** May a call go out now? In half-open, only the first asker gets true. */
  tryAcquire(): boolean;
  onSuccess(): void;
  onFailure(): void;
  state(): CircuitState;
}

export function createCircuitBreaker(options: CircuitBreakerOptions): CircuitBreaker {
  let failures = 0;
  let openedAt: number | null = null;
  let trialInFlight = false;
  const state = (): CircuitState => {
    if (openedAt === null) return "closed";
    return options.now() - openedAt >= options.cooldownMs ? "half_open" : "open";
  };
  return {
    tryAcquire() {
      const s = state();
      if (s === "closed") return true;
      if (s === "open" || trialInFlight) return false;
      trialInFlight = true;
      return true;
    },
    onSuccess() {
      failures = 0;
      openedAt = null;
      trialInFlight = false;
    },
    onFailure() {
      trialInFlight = false;
      failures += 1;
      if (openedAt !== null || failures >= options.failureThreshold) openedAt = options.now();
    },
    state,
  };
}
