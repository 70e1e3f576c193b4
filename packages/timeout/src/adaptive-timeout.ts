import type { Clock } from '@faultline/clock';
import { type Context, EventChannel, type Listener, type ShouldHandle } from '@faultline/core';
import { describeFunction } from '@faultline/core/internal';
import type { AdaptiveTimeoutChangeEvent } from './adaptive-timeout-events.js';
import {
  type AdaptiveEstimator,
  type AdaptiveTimeoutOptions,
  resolveAdaptiveTimeoutOptions,
} from './adaptive-timeout-options.js';
import { QuantileEstimator } from './quantile-estimator.js';
import { RttEstimator } from './rtt-estimator.js';

const KIND = 'adaptiveTimeout';

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
  readonly #onChange = new EventChannel<AdaptiveTimeoutChangeEvent>();
  #backoff = 1;
  #value: number;
  /** The newest successful duration observed (quantile estimator). */
  #latest = 0;
  /** When the window may next lose a slice, so that {@link current} must recompute. */
  #expiresAt = Number.NEGATIVE_INFINITY;

  /** Validates `options` (see {@link resolveAdaptiveTimeoutOptions}); {@link adaptiveTimeout} is the same. */
  constructor(options?: AdaptiveTimeoutOptions) {
    const resolved = resolveAdaptiveTimeoutOptions(options);
    this.quantile = resolved.quantile;
    this.multiplier = resolved.multiplier;
    this.min = resolved.min;
    this.max = resolved.max;
    this.initial = resolved.initial;
    this.minSamples = resolved.minSamples;
    this.window = resolved.window;
    this.estimator = resolved.estimator;
    this.clock = resolved.clock;
    this.#shouldHandle = resolved.shouldHandle;
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
  onChange(listener: Listener<AdaptiveTimeoutChangeEvent>): () => void {
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
      name: KIND,
      quantile: this.quantile,
      multiplier: this.multiplier,
      min: this.min,
      max: this.max,
      initial: this.initial,
      minSamples: this.minSamples,
      window: this.window,
      estimator: this.estimator,
      shouldHandle: describeFunction(this.#shouldHandle),
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
