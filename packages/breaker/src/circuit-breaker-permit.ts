import { formatValue } from '@faultline/core';

/** How a permit's call ended, as reported to the breaker (internal; not exported). */
export type PermitOutcome = 'success' | 'failure' | 'ignore';

/** The breaker's side of a permit: counts `outcome` for a call admitted in `admitted`. */
export type PermitSettle = (admitted: unknown, outcome: PermitOutcome, duration: number) => void;

/**
 * Permission for one call from `breaker.tryAcquire()`. Report how the call went exactly once:
 * `success(durationMs)`, `failure(durationMs)` (a handled failure), or `ignore()` (count nothing,
 * e.g. the caller gave up). Later reports are ignored. Durations feed the slow-call rule.
 */
export class CircuitPermit {
  readonly #settle: PermitSettle;
  /** The breaker state the call was admitted in (opaque here). */
  readonly #admitted: unknown;
  #done = false;

  /** @internal Created by the breaker. */
  constructor(settle: PermitSettle, admitted: unknown) {
    this.#settle = settle;
    this.#admitted = admitted;
  }

  /** The call succeeded after `durationMs` (default 0). */
  success(durationMs = 0): void {
    this.#report('success', durationMs);
  }

  /** The call failed (a failure the breaker should count) after `durationMs` (default 0). */
  failure(durationMs = 0): void {
    this.#report('failure', durationMs);
  }

  /** The call ended without an outcome worth counting; frees a half-open probe slot. */
  ignore(): void {
    this.#report('ignore', 0);
  }

  #report(outcome: PermitOutcome, durationMs: number): void {
    checkPermitDuration('CircuitPermit', durationMs);
    if (this.#done) return;
    this.#done = true;
    this.#settle(this.#admitted, outcome, durationMs);
  }
}

/**
 * Checks the duration a permit's `success(durationMs)` / `failure(durationMs)` reports: a number
 * in [0, Infinity] (RangeError for a negative one, TypeError for anything else, NaN included).
 * Shared with the fleet-wide breaker's permit through `@faultline/breaker/internal`; `owner`
 * names the permit class in the message.
 */
export function checkPermitDuration(owner: string, durationMs: unknown): void {
  if (typeof durationMs !== 'number' || !(durationMs >= 0)) {
    const Kind =
      typeof durationMs === 'number' && !Number.isNaN(durationMs) ? RangeError : TypeError;
    throw new Kind(
      `${owner}: durationMs must be a number in [0, Infinity], received ${formatValue(durationMs)}`,
    );
  }
}
