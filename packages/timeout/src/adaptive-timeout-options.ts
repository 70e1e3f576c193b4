import type { Clock } from '@faultline/clock';
import {
  checkOneOf,
  checkOptions,
  handleHttpFailures,
  optionalClock,
  optionalFunction,
  optionalNumber,
  type ShouldHandle,
} from '@faultline/core';

/** Which estimator learns the timeout. */
export type AdaptiveEstimator = 'quantile' | 'rtt';

/** Options of {@link adaptiveTimeout}. */
export interface AdaptiveTimeoutOptions {
  /** Latency quantile the timeout is derived from, in (0, 1]. Default 0.999. */
  readonly quantile?: number;
  /** Headroom factor over the quantile, in [1, 100]. Default 1.5. */
  readonly multiplier?: number;
  /** Smallest timeout in ms, ≥ 0. Default 10. */
  readonly min?: number;
  /** Largest timeout in ms (finite, ≥ `min`). Default 30 000. */
  readonly max?: number;
  /** Timeout in ms until `minSamples` successes are known, in [`min`, `max`]. Default 1 000. */
  readonly initial?: number;
  /** Successful samples needed before the estimate is used, an integer ≥ 1. Default 20. */
  readonly minSamples?: number;
  /** Sliding window of the quantile estimator in ms (> 0). Default 60 000. */
  readonly window?: number;
  /**
   * `'quantile'` (default): `clamp(multiplier · q-quantile of the window, min, max)`.
   * `'rtt'`: the RFC 6298 retransmission timeout (`RttEstimator`) with these bounds.
   */
  readonly estimator?: AdaptiveEstimator;
  /** Clock of the window (and of a `timeout` using this, unless it has its own). */
  readonly clock?: Clock;
  /**
   * Which results are failures, and so are **not** learned from: an instant 503 from a server in
   * trouble says nothing about how long a real answer takes, and learning it would drag the
   * timeout to its floor just before the server recovers. Errors are never learned from (a
   * timeout is censored instead). Default `handleHttpFailures`: results with an HTTP status 5xx,
   * 408 or 429. If it throws, the call rejects with its error and nothing is learned.
   */
  readonly shouldHandle?: ShouldHandle;
}

/**
 * The defaults of {@link AdaptiveTimeoutOptions}: the single source of each (the README's table).
 * `max` is at least `min`, and `initial` is clamped into [`min`, `max`], when those are given.
 */
export const ADAPTIVE_TIMEOUT_DEFAULTS = Object.freeze({
  quantile: 0.999,
  multiplier: 1.5,
  min: 10,
  max: 30_000,
  initial: 1000,
  minSamples: 20,
  window: 60_000,
  estimator: 'quantile',
  shouldHandle: handleHttpFailures,
} as const);

/** {@link AdaptiveTimeoutOptions} validated, with every default applied. */
export type ResolvedAdaptiveTimeoutOptions = Required<AdaptiveTimeoutOptions>;

const OWNER = 'adaptiveTimeout';
const ESTIMATORS: readonly AdaptiveEstimator[] = ['quantile', 'rtt'];
const D = ADAPTIVE_TIMEOUT_DEFAULTS;

/**
 * Validates {@link AdaptiveTimeoutOptions} (a `TypeError` for a wrong type, a `RangeError` out of
 * range, naming the option) and applies {@link ADAPTIVE_TIMEOUT_DEFAULTS}.
 */
export function resolveAdaptiveTimeoutOptions(
  options?: AdaptiveTimeoutOptions,
): ResolvedAdaptiveTimeoutOptions {
  const o = checkOptions<AdaptiveTimeoutOptions>(OWNER, options);
  const min = optionalNumber(OWNER, 'min', o.min, D.min, { min: 0 });
  const max = optionalNumber(OWNER, 'max', o.max, Math.max(D.max, min), { min });
  return {
    quantile: optionalNumber(OWNER, 'quantile', o.quantile, D.quantile, {
      min: 0,
      minExclusive: true,
      max: 1,
    }),
    multiplier: optionalNumber(OWNER, 'multiplier', o.multiplier, D.multiplier, {
      min: 1,
      max: 100,
    }),
    min,
    max,
    initial: optionalNumber(OWNER, 'initial', o.initial, Math.min(Math.max(D.initial, min), max), {
      min,
      max,
    }),
    minSamples: optionalNumber(OWNER, 'minSamples', o.minSamples, D.minSamples, {
      min: 1,
      integer: true,
    }),
    window: optionalNumber(OWNER, 'window', o.window, D.window, { min: 0, minExclusive: true }),
    estimator:
      o.estimator === undefined
        ? D.estimator
        : checkOneOf(OWNER, 'estimator', o.estimator, ESTIMATORS),
    clock: optionalClock(OWNER, 'clock', o.clock),
    shouldHandle: optionalFunction<ShouldHandle>(
      OWNER,
      'shouldHandle',
      o.shouldHandle,
      D.shouldHandle,
    ),
  };
}
