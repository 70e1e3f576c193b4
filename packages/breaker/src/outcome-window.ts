/**
 * Counts of recent call outcomes, as a failure-rate strategy needs them. Two shapes: the last
 * N calls ({@link CountWindow}) or the last T milliseconds ({@link TimeWindow}). Both hold
 * counts only, in memory fixed at construction: nothing is kept per call.
 */
export interface OutcomeWindow {
  /** Whether {@link record} needs the current time. */
  readonly needsTime: boolean;
  readonly calls: number;
  readonly failures: number;
  readonly slowCalls: number;
  record(failed: boolean, slow: boolean, now: number): void;
  reset(): void;
}
