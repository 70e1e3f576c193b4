import { checkOptions, optionalNumber } from '@faultline/core';
import type { LimitAlgorithm } from './limit-algorithm.js';
import { checkLimitBounds } from './limit-bounds.js';

/** Options of {@link gradient2}. Defaults are Netflix concurrency-limits' `Gradient2Limit`. */
export interface Gradient2Options {
  /** The limit before any sample (an integer ≥ 1). Default 20. */
  readonly initial?: number;
  /** The limit never goes below this (an integer ≥ 1). Default 20. */
  readonly min?: number;
  /** The limit never goes above this (an integer ≥ `min`). Default 200. */
  readonly max?: number;
  /** How much of each new estimate is taken (a number in (0, 1]). Default 0.2. */
  readonly smoothing?: number;
  /** How far the limit may grow past the gradient while latency stays low (a number ≥ 0). Default 4. */
  readonly queueSize?: number;
  /** Samples in the long-term RTT average (an exponential average, 2/(n+1)); an integer ≥ 1. Default 600. */
  readonly longWindow?: number;
  /** How much slower than the long-term RTT a sample may be before the limit shrinks (≥ 1). Default 1.5. */
  readonly rttTolerance?: number;
}

/** The defaults of {@link gradient2}: Netflix's `Gradient2Limit.Builder`. */
export const GRADIENT2_DEFAULTS = Object.freeze({
  initial: 20,
  min: 20,
  max: 200,
  smoothing: 0.2,
  queueSize: 4,
  longWindow: 600,
  rttTolerance: 1.5,
});

// Netflix's ExpAvgMeasurement(longWindow, 10): a plain mean of the first 10 samples.
const WARMUP = 10;

/**
 * Netflix concurrency-limits' `Gradient2Limit`: compares each sample's RTT (the short term) with
 * an exponential average of RTTs over `longWindow` samples (the long term):
 *
 *     longRtt  = ema(rtt), factor 2/(longWindow + 1), the mean of the first 10 samples
 *     if longRtt / rtt > 2: longRtt := longRtt · 0.95    (recover fast after an overload)
 *     inflight < limit/2:   no change (the limit is not in use)
 *     gradient = max(0.5, min(1, rttTolerance · longRtt / rtt))
 *     estimate = gradient · limit + queueSize
 *     limit    = min(max, max(min, (1 − smoothing)·limit + smoothing·estimate))
 *
 * While latency is steady the gradient is 1 and the limit creeps up by `smoothing · queueSize`
 * per sample; once samples run `rttTolerance` times slower than the long-term average it shrinks,
 * by at most half per sample. Drops are not a signal (as in Netflix's).
 */
export class Gradient2Limit implements LimitAlgorithm {
  readonly kind = 'gradient2' as const;
  readonly #options: Required<Gradient2Options>;
  readonly #factor: number;
  #estimate: number;
  /** `⌊estimate⌋` (at least 1), kept with the estimate: the limiter reads it on every call. */
  #limit: number;
  #longRtt = 0;
  #longSum = 0;
  #longCount = 0;

  /** @internal Use {@link gradient2}. */
  constructor(options: Required<Gradient2Options>) {
    this.#options = options;
    this.#estimate = options.initial;
    this.#limit = Math.max(1, Math.floor(options.initial));
    this.#factor = 2 / (options.longWindow + 1);
  }

  get limit(): number {
    return this.#limit;
  }

  /** The long-term RTT average (ms). */
  get longRtt(): number {
    return this.#longRtt;
  }

  update(rtt: number, inflight: number): void {
    if (!(rtt > 0)) return; // no delay information (and it would divide by zero)
    const estimate = this.#estimate;
    if (this.#longCount < WARMUP) {
      this.#longCount++;
      this.#longSum += rtt;
      this.#longRtt = this.#longSum / this.#longCount;
    } else {
      this.#longRtt = this.#longRtt * (1 - this.#factor) + rtt * this.#factor;
    }
    const longRtt = this.#longRtt;
    // After a long overload the long-term average is far above current latency: decay it faster
    // than the average would (the gradient below still uses the undecayed value, as Netflix's).
    if (longRtt / rtt > 2) this.#longRtt = longRtt * 0.95;
    if (inflight < estimate / 2) return;
    const { smoothing, queueSize, rttTolerance, min, max } = this.#options;
    const gradient = Math.max(0.5, Math.min(1, (rttTolerance * longRtt) / rtt));
    const next = estimate * gradient + queueSize;
    const updated = Math.max(min, Math.min(max, estimate * (1 - smoothing) + next * smoothing));
    this.#estimate = updated;
    this.#limit = Math.max(1, Math.floor(updated));
  }

  describe(): { name: 'gradient2'; options: Required<Gradient2Options> } {
    return { name: 'gradient2', options: { ...this.#options } };
  }
}

/**
 * A Gradient2 concurrency limit (Netflix `Gradient2Limit`), the delay-based limit Netflix uses on
 * servers: shrinks when RTTs run `rttTolerance` times above their long-term average, grows by
 * `queueSize` (smoothed) while they do not.
 *
 * @example
 * ```ts
 * const server = concurrencyLimit({ limit: gradient2({ min: 4, max: 100 }) });
 * ```
 */
export function gradient2(options?: Gradient2Options): Gradient2Limit {
  const owner = 'gradient2';
  const opts = checkOptions<Gradient2Options>(owner, options);
  const d = GRADIENT2_DEFAULTS;
  const { initial, min, max } = checkLimitBounds(owner, opts, d);
  const smoothing = optionalNumber(owner, 'smoothing', opts.smoothing, d.smoothing, {
    min: 0,
    max: 1,
    minExclusive: true,
  });
  const queueSize = optionalNumber(owner, 'queueSize', opts.queueSize, d.queueSize, { min: 0 });
  const longWindow = optionalNumber(owner, 'longWindow', opts.longWindow, d.longWindow, {
    min: 1,
    integer: true,
  });
  const rttTolerance = optionalNumber(owner, 'rttTolerance', opts.rttTolerance, d.rttTolerance, {
    min: 1,
  });
  return new Gradient2Limit({ initial, min, max, smoothing, queueSize, longWindow, rttTolerance });
}
