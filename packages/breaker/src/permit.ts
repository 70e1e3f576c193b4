import { formatValue } from '@faultline/core';

/** How a permit's call ended, as reported to the breaker (internal; not exported). */
export const PERMIT_SUCCESS = 0;
export const PERMIT_FAILURE = 1;
export const PERMIT_IGNORE = 2;

/**
 * Permission for one call from `breaker.tryAcquire()`. Report how the call went exactly once:
 * `success(durationMs)`, `failure(durationMs)` (a handled failure), or `ignore()` (count nothing,
 * e.g. the caller gave up). Later reports are ignored. Durations feed the slow-call rule.
 */
export class CircuitPermit {
  readonly #settle: (generation: number, outcome: number, duration: number) => void;
  readonly #generation: number;
  #done = false;

  /** @internal Created by the breaker. */
  constructor(
    settle: (generation: number, outcome: number, duration: number) => void,
    generation: number,
  ) {
    this.#settle = settle;
    this.#generation = generation;
  }

  /** The call succeeded after `durationMs` (default 0). */
  success(durationMs = 0): void {
    this.#report(PERMIT_SUCCESS, durationMs);
  }

  /** The call failed (a failure the breaker should count) after `durationMs` (default 0). */
  failure(durationMs = 0): void {
    this.#report(PERMIT_FAILURE, durationMs);
  }

  /** The call ended without an outcome worth counting; frees a half-open probe slot. */
  ignore(): void {
    this.#report(PERMIT_IGNORE, 0);
  }

  #report(outcome: number, durationMs: number): void {
    if (typeof durationMs !== 'number' || !(durationMs >= 0)) {
      const Kind =
        typeof durationMs === 'number' && !Number.isNaN(durationMs) ? RangeError : TypeError;
      throw new Kind(
        `CircuitPermit: durationMs must be a number in [0, Infinity], received ${formatValue(durationMs)}`,
      );
    }
    if (this.#done) return;
    this.#done = true;
    this.#settle(this.#generation, outcome, durationMs);
  }
}
