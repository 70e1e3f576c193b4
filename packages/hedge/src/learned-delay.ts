import type { Clock } from '@faultline/clock';
import { checkOptions, formatValue, optionalClock, optionalNumber } from '@faultline/core';
import { QuantileEstimator } from '@faultline/timeout';

/** Options of {@link learnedDelay}. */
export interface LearnedDelayOptions {
  /**
   * The extra load hedging may add, as a fraction of calls, in [0, 1). The delay is the
   * `1 − maxExtraLoad` quantile of recent attempt latencies, so about that share of calls is
   * still unanswered when it elapses and gets a hedge. Default 0.05 (hedge at the p95).
   */
  readonly maxExtraLoad?: number;
  /** Sliding window of latencies, in ms (> 0). Default 10 000. */
  readonly window?: number;
  /** Smallest delay, in ms (> 0, finite): a p95 of ~0 ms must not hedge every call. Default 1. */
  readonly minDelay?: number;
  /** Delay until `minSamples` latencies are known, in ms, in [`minDelay`, Infinity]. Default 2000. */
  readonly initial?: number;
  /** Latencies needed before the quantile is used, an integer ≥ 1. Default 50. */
  readonly minSamples?: number;
  /** Clock of the window. Default `systemClock` (use the hedge's clock). */
  readonly clock?: Clock;
}

/** Every default of {@link learnedDelay}, the single source the README's table mirrors. */
export const LEARNED_DELAY_DEFAULTS = Object.freeze({
  maxExtraLoad: 0.05,
  window: 10_000,
  minDelay: 1,
  initial: 2000,
  minSamples: 50,
});

/** The options of {@link learnedDelay}, validated and complete. */
export type ResolvedLearnedDelayOptions = Required<LearnedDelayOptions>;

const OWNER = 'learnedDelay';

/** Validates {@link LearnedDelayOptions}; returns them complete. */
export function resolveLearnedDelayOptions(options?: unknown): ResolvedLearnedDelayOptions {
  const opts = checkOptions<LearnedDelayOptions>(OWNER, options);
  const d = LEARNED_DELAY_DEFAULTS;
  const maxExtraLoad = optionalNumber(OWNER, 'maxExtraLoad', opts.maxExtraLoad, d.maxExtraLoad, {
    min: 0,
    max: 1,
    maxExclusive: true,
  });
  const window = optionalNumber(OWNER, 'window', opts.window, d.window, {
    min: 0,
    minExclusive: true,
  });
  const minDelay = optionalNumber(OWNER, 'minDelay', opts.minDelay, d.minDelay, {
    min: 0,
    minExclusive: true,
  });
  const initial = optionalNumber(OWNER, 'initial', opts.initial, d.initial, {
    min: 0,
    minExclusive: true,
    allowInfinity: true,
  });
  if (initial < minDelay) {
    throw new RangeError(
      `${OWNER}: option "initial" must be a number in [${minDelay} (minDelay), Infinity], received ${formatValue(initial)}`,
    );
  }
  const minSamples = optionalNumber(OWNER, 'minSamples', opts.minSamples, d.minSamples, {
    min: 1,
    integer: true,
  });
  const clock = optionalClock(OWNER, 'clock', opts.clock);
  return { maxExtraLoad, window, minDelay, initial, minSamples, clock };
}

/**
 * A hedge delay learned from latency, by Finagle's rule (`BackupRequestFilter`): the backup is
 * sent at the `1 − maxExtraLoad` quantile of recent attempt latencies, at least `minDelay`, so
 * that at most about `maxExtraLoad` of calls get one while latency is stable. Dean and Barroso
 * ("The Tail at Scale", CACM 2013) recommend deferring a hedge until the p95 of its class, which
 * bounds the extra load at about 5 %. The window is the timeout package's `QuantileEstimator`
 * (DDSketch buckets, 1 % relative error). A sudden latency shift moves the quantile within the
 * window; a retry budget on the hedge (`budget`) caps extra load in the meantime, and under
 * overload, as Finagle combines its `maxExtraLoad` budget with the client's retry budget.
 *
 * The hedge policy reports latencies itself, of first attempts only (the delay is about how long a
 * first attempt stays unanswered): with an acceptable outcome, or cancelled because a hedge won
 * (censored at the time it was cancelled, as Finagle records its superseded requests). A hedge's
 * own latency is cut short whenever the first attempt wins, and fast handled failures are fast:
 * learning either would pull the quantile down and send more hedges than `maxExtraLoad`.
 * (Finagle learns backups too; its budget then trims the excess.)
 */
export class LearnedDelay {
  readonly maxExtraLoad: number;
  readonly window: number;
  readonly minDelay: number;
  readonly initial: number;
  readonly minSamples: number;
  readonly clock: Clock;
  /** The latencies seen, for inspection and for feeding by hand. */
  readonly estimator: QuantileEstimator;
  readonly #quantile: number;
  readonly #refresh: number;
  #value: number;
  #nextRefresh = Number.NEGATIVE_INFINITY;

  /** @internal use {@link learnedDelay}. */
  constructor(options?: LearnedDelayOptions) {
    const resolved = resolveLearnedDelayOptions(options);
    this.maxExtraLoad = resolved.maxExtraLoad;
    this.window = resolved.window;
    this.minDelay = resolved.minDelay;
    this.initial = resolved.initial;
    this.minSamples = resolved.minSamples;
    this.clock = resolved.clock;
    this.estimator = new QuantileEstimator({ window: this.window, clock: this.clock });
    this.#quantile = 1 - this.maxExtraLoad;
    // Finagle refreshes its percentile every 3 s; a hundredth of the window keeps a quantile scan
    // off every call yet follows a shift well within the window.
    this.#refresh = this.window / 100;
    this.#value = this.initial;
  }

  /** Records one attempt latency, in ms (≥ 0). */
  observe(ms: number): void {
    this.estimator.observe(ms);
  }

  /** The delay now, in ms: `initial` until `minSamples` latencies are in the window. */
  current(): number {
    const now = this.clock.now();
    if (now < this.#nextRefresh) return this.#value;
    const q = this.estimator.quantile(this.#quantile, this.minSamples);
    if (Number.isNaN(q)) {
      // Still learning: look again on the next call.
      this.#value = this.initial;
      return this.#value;
    }
    this.#nextRefresh = now + this.#refresh;
    this.#value = q > this.minDelay ? q : this.minDelay;
    return this.#value;
  }

  /** Plain-data description, for `describe()`. */
  describe(): Record<string, number | string> {
    return {
      kind: 'learned',
      maxExtraLoad: this.maxExtraLoad,
      window: this.window,
      minDelay: this.minDelay,
      initial: this.initial,
      minSamples: this.minSamples,
    };
  }
}

/**
 * A hedge delay learned from latency (Finagle's `maxExtraLoad` rule): pass it as the `delay` of
 * `hedge()`. Share one per downstream and give it the hedge's clock.
 *
 * @example
 * ```ts
 * import { hedge, learnedDelay } from '@faultline/hedge';
 *
 * const reads = hedge({ delay: learnedDelay({ maxExtraLoad: 0.05 }) }); // hedge at the p95
 * ```
 */
export function learnedDelay(options?: LearnedDelayOptions): LearnedDelay {
  return new LearnedDelay(options);
}
