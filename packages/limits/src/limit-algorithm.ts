/**
 * The contract of an adaptive concurrency-limit algorithm (Netflix concurrency-limits' `Limit`):
 * it is told how each call went and answers the concurrency limit.
 */

/** The algorithms this package implements. */
export type LimitAlgorithmKind = 'aimd' | 'vegas' | 'gradient2' | 'fixed';

/**
 * A concurrency-limit algorithm: {@link aimd}, {@link vegas}, {@link gradient2} or {@link fixed}.
 * It is stateful (it holds the current limit and its latency estimates), so each
 * `concurrencyLimit` needs its own: one instance cannot serve two limiters.
 */
export interface LimitAlgorithm {
  readonly kind: LimitAlgorithmKind;
  /** The concurrency limit now (an integer ≥ 1). */
  readonly limit: number;
  /**
   * One finished call: its round-trip time `rtt` (ms, from admission to outcome), the calls in
   * flight when it was admitted (itself included), and whether it was dropped (a failure or a
   * timeout: the loss signal). Calls the caller abandoned are never samples.
   */
  update(rtt: number, inflight: number, didDrop: boolean): void;
  /** Name and parameters as plain data. */
  describe(): { readonly name: LimitAlgorithmKind; readonly options: Record<string, number> };
}

/** Whether `value` looks like a {@link LimitAlgorithm}. */
export function isLimitAlgorithm(value: unknown): value is LimitAlgorithm {
  const candidate = value as Partial<LimitAlgorithm> | null;
  return (
    candidate !== null &&
    typeof candidate === 'object' &&
    typeof candidate.update === 'function' &&
    typeof candidate.limit === 'number' &&
    typeof candidate.describe === 'function'
  );
}

/**
 * Netflix's `Log10RootIntFunction`: `max(1, ⌊log10(n)⌋)` (its lookup table gives 1 for n < 10,
 * including 0), the step of Vegas' thresholds and increments.
 */
export function log10Root(n: number): number {
  return n < 10 ? 1 : Math.floor(Math.log10(n));
}
