import type { Clock } from '@faultline/clock';
import {
  type Context,
  checkOneOf,
  checkOptions,
  EventChannel,
  handleHttpFailures,
  type Listener,
  optionalClock,
  optionalFunction,
  optionalNumber,
  type ShouldHandle,
} from '@faultline/core';
import { QuantileEstimator } from './quantile-estimator.js';
import { RttEstimator } from './rtt-estimator.js';

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

/** The `onChange` event: the timeout before and after, in ms. */
export interface AdaptiveTimeoutChange {
  readonly previous: number;
  readonly current: number;
}

const OWNER = 'adaptiveTimeout';
const ESTIMATORS: readonly AdaptiveEstimator[] = ['quantile', 'rtt'];

/**
 * A timeout learned from the latencies of successful attempts. Pass it to `timeout()`, which
 * reports successes ({@link observe}) and timeouts ({@link observeTimeout}); or drive it by hand
 * for streaming calls.
 *
 * **Censoring.** A timed-out attempt only says "the latency was at least the timeout": it is not
 * a sample, and the next timeouts double (capped at `max`) until a success is observed again.
 * Without that, a latency shift above the current timeout makes every attempt time out, no sample
 * is ever observed and the estimator never learns the new regime; with it, the timeout climbs
 * there within a few calls (the same exponential backoff as RFC 6298 §5.5).
 */
export class AdaptiveTimeout {
  readonly quantile: number;
  readonly multiplier: number;
  readonly min: number;
  readonly max: number;
  readonly initial: number;
  readonly minSamples: number;
  readonly window: number;
  readonly estimator: AdaptiveEstimator;
  readonly clock: Clock;
  readonly #shouldHandle: ShouldHandle;
  readonly #quantiles: QuantileEstimator | undefined;
  readonly #rtt: RttEstimator | undefined;
  readonly #onChange = new EventChannel<AdaptiveTimeoutChange>();
  #backoff = 1;
  #value: number;
  /** The newest successful duration observed (quantile estimator). */
  #latest = 0;
  /** When the window may next lose a slice, so that {@link current} must recompute. */
  #expiresAt = Number.NEGATIVE_INFINITY;

  /** @internal use {@link adaptiveTimeout}. */
  constructor(options?: AdaptiveTimeoutOptions) {
    const opts = checkOptions<AdaptiveTimeoutOptions>(OWNER, options);
    this.quantile = optionalNumber(OWNER, 'quantile', opts.quantile, 0.999, {
      min: 0,
      minExclusive: true,
      max: 1,
    });
    this.multiplier = optionalNumber(OWNER, 'multiplier', opts.multiplier, 1.5, {
      min: 1,
      max: 100,
    });
    this.min = optionalNumber(OWNER, 'min', opts.min, 10, { min: 0 });
    this.max = optionalNumber(OWNER, 'max', opts.max, Math.max(30_000, this.min), {
      min: this.min,
    });
    this.initial = optionalNumber(
      OWNER,
      'initial',
      opts.initial,
      Math.min(Math.max(1000, this.min), this.max),
      { min: this.min, max: this.max },
    );
    this.minSamples = optionalNumber(OWNER, 'minSamples', opts.minSamples, 20, {
      min: 1,
      integer: true,
    });
    this.window = optionalNumber(OWNER, 'window', opts.window, 60_000, {
      min: 0,
      minExclusive: true,
    });
    this.estimator =
      opts.estimator === undefined
        ? 'quantile'
        : checkOneOf(OWNER, 'estimator', opts.estimator, ESTIMATORS);
    this.clock = optionalClock(OWNER, 'clock', opts.clock);
    this.#shouldHandle = optionalFunction<ShouldHandle>(
      OWNER,
      'shouldHandle',
      opts.shouldHandle,
      handleHttpFailures,
    );
    if (this.estimator === 'quantile') {
      this.#quantiles = new QuantileEstimator({ window: this.window, clock: this.clock });
    } else {
      this.#rtt = new RttEstimator({
        min: this.min,
        max: this.max,
        initial: this.initial,
        granularity: Math.min(1, this.max),
      });
    }
    this.#value = this.initial;
  }

  /**
   * The timeout (ms) the next attempt gets. Recomputed when an outcome is observed, and when a
   * slice of the window has expired since the last computation: samples leave the window by
   * time, so after an outage that taught nothing (failures are not learned) or an idle hour the
   * timeout is `initial` again rather than what the old, expired samples said.
   */
  current(): number {
    if (this.#quantiles !== undefined && this.clock.now() >= this.#expiresAt) this.#refresh();
    return this.#value;
  }

  /** Successful samples the estimate currently rests on (in the window for `'quantile'`). */
  get samples(): number {
    return this.#quantiles !== undefined ? this.#quantiles.count : this.#rtt!.samples;
  }

  /** Subscribes to changes of {@link current}. Returns an unsubscribe function. */
  onChange(listener: Listener<AdaptiveTimeoutChange>): () => void {
    return this.#onChange.subscribe(listener);
  }

  /** Observes the duration (ms) of a successful attempt; ends any censoring backoff. */
  observe(ms: number): void {
    if (this.#quantiles !== undefined) {
      this.#quantiles.observe(ms);
      this.#latest = ms;
    } else {
      this.#rtt!.observe(ms); // Karn's rule: only successes get here.
    }
    this.#backoff = 1;
    this.#refresh();
  }

  /**
   * An attempt resolved with `value` after `ms`: observed as a latency sample unless
   * `shouldHandle` says the result is a failure (which says nothing about latency). This is what
   * `timeout()` calls; a classifier that throws propagates its error and nothing is learned.
   */
  observeResult(value: unknown, ms: number, ctx: Context): void {
    if (!this.#shouldHandle({ ok: true, value }, ctx)) this.observe(ms);
  }

  /** An attempt timed out at {@link current}: censored, so the next timeout doubles. */
  observeTimeout(): void {
    if (this.#value < this.max) this.#backoff *= 2;
    this.#refresh();
  }

  /** Name and options, for `describe()` of the timeout policy using it. */
  describe(): Readonly<Record<string, unknown>> {
    return {
      name: 'adaptiveTimeout',
      quantile: this.quantile,
      multiplier: this.multiplier,
      min: this.min,
      max: this.max,
      initial: this.initial,
      minSamples: this.minSamples,
      window: this.window,
      estimator: this.estimator,
    };
  }

  #refresh(): void {
    let base: number;
    const quantiles = this.#quantiles;
    if (quantiles !== undefined) {
      // Valid until the current slice of the window ends (then a slice may expire).
      const slice = this.window / quantiles.slices;
      this.#expiresAt = (Math.floor(this.clock.now() / slice) + 1) * slice;
      const estimate = quantiles.quantile(this.quantile, this.minSamples);
      // The newest success is the best evidence of the current regime. After a latency shift
      // the window's quantile lags until enough new samples arrive (a p99.9 moves after 1 in
      // 1000), so without this a success right after a censored climb would drop the timeout
      // back below the latency it just measured, and the next calls would time out again.
      const latest = this.#latest;
      base = Number.isNaN(estimate)
        ? this.initial
        : this.multiplier * (latest > estimate ? latest : estimate);
    } else {
      const rtt = this.#rtt!;
      base = rtt.samples < this.minSamples ? this.initial : rtt.rto;
    }
    // Clamp first, then back off: RFC 6298 §5.5 doubles the RTO (already bounded below), not the
    // raw estimate. Doubling a learned 2 ms under a 50 ms floor gives 4, 8, 16, 32 ms, all
    // clamped back to 50: the timeout would never climb to a slower regime.
    if (base < this.min) base = this.min;
    let next = base * this.#backoff;
    if (next > this.max) next = this.max;
    if (next !== this.#value) {
      const previous = this.#value;
      this.#value = next;
      if (this.#onChange.hasListeners) this.#onChange.emit({ previous, current: next });
    }
  }
}

/**
 * A learned timeout for `timeout()`: `clamp(multiplier · quantile-th latency, min, max)` over a
 * sliding window (or the RFC 6298 RTO with `estimator: 'rtt'`), `initial` until `minSamples`
 * successes, doubling after each timeout until a success (censoring).
 *
 * ```ts
 * const perAttempt = timeout(adaptiveTimeout({ quantile: 0.999, min: 50, max: 2_000 }));
 * ```
 */
export function adaptiveTimeout(options?: AdaptiveTimeoutOptions): AdaptiveTimeout {
  return new AdaptiveTimeout(options);
}
