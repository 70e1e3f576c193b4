import {
  checkNumber,
  checkOptions,
  optionalFunction,
  optionalNumber,
  type Random,
} from '@faultline/core';
import { type LimitAlgorithm, log10Root } from './limit-algorithm.js';

/** Options of {@link vegas}. Defaults are Netflix concurrency-limits' `VegasLimit`. */
export interface VegasOptions {
  /** The limit before any sample (an integer ≥ 1). Default 20. */
  readonly initial?: number;
  /** The limit never goes above this (an integer ≥ 1). Default 1000. */
  readonly max?: number;
  /**
   * How much of each new estimate is taken: `limit = (1 − s)·limit + s·estimate` (a number in
   * (0, 1]). Default 1 (no smoothing).
   */
  readonly smoothing?: number;
  /**
   * The no-load RTT is re-probed every `probeMultiplier · limit` samples (times a jitter in
   * [0.5, 1)), so that a baseline that grew for good is relearned (an integer ≥ 1). Default 30.
   */
  readonly probeMultiplier?: number;
  /**
   * Below this estimated queue the limit grows by log10(limit) (an integer ≥ 0). Default
   * `3 · log10(limit)`, recomputed for the current limit.
   */
  readonly alpha?: number;
  /**
   * Above this estimated queue the limit shrinks by log10(limit); at or below log10(limit) it
   * grows by `beta` (an integer ≥ `alpha`). Default `6 · log10(limit)`.
   */
  readonly beta?: number;
  /** The random source of the probe jitter. Default `Math.random`. */
  readonly random?: Random;
}

/** The defaults of {@link vegas}: Netflix's `VegasLimit.Builder` (alpha and beta are functions of the limit). */
export const VEGAS_DEFAULTS = Object.freeze({
  initial: 20,
  max: 1000,
  smoothing: 1,
  probeMultiplier: 30,
});

/**
 * TCP Vegas (Brakmo and Peterson, 1995) as Netflix concurrency-limits' `VegasLimit`: the queue at
 * the bottleneck is estimated from the ratio of the no-load RTT to the sample's,
 *
 *     queue = ⌈limit · (1 − rttNoLoad / rtt)⌉
 *     drop:                 estimate = limit − log10(limit)
 *     inflight·2 < limit:   no change (the limit is not in use)
 *     queue ≤ log10(limit): estimate = limit + beta
 *     queue < alpha:        estimate = limit + log10(limit)
 *     queue > beta:         estimate = limit − log10(limit)
 *     limit = (1 − smoothing)·limit + smoothing·min(max, max(1, estimate))
 *
 * with alpha = 3·log10(limit), beta = 6·log10(limit), log10(n) = max(1, ⌊log10 n⌋). The no-load
 * RTT is the lowest RTT seen, re-probed (set to the current sample) every
 * `probeMultiplier · limit · U[0.5, 1)` samples. Delay-based: it keeps a small queue.
 */
export class VegasLimit implements LimitAlgorithm {
  readonly kind = 'vegas' as const;
  readonly #max: number;
  readonly #smoothing: number;
  readonly #probeMultiplier: number;
  readonly #alpha: number | undefined;
  readonly #beta: number | undefined;
  readonly #random: Random;
  #estimate: number;
  /** `⌊estimate⌋` (at least 1), kept with the estimate: the limiter reads it on every call. */
  #limit: number;
  #rttNoLoad = 0;
  #probeCount = 0;
  #probeJitter: number;

  /** @internal Use {@link vegas}. */
  constructor(
    initial: number,
    max: number,
    smoothing: number,
    probeMultiplier: number,
    alpha: number | undefined,
    beta: number | undefined,
    random: Random,
  ) {
    this.#estimate = initial;
    this.#limit = Math.max(1, Math.floor(initial));
    this.#max = max;
    this.#smoothing = smoothing;
    this.#probeMultiplier = probeMultiplier;
    this.#alpha = alpha;
    this.#beta = beta;
    this.#random = random;
    this.#probeJitter = this.#jitter();
  }

  get limit(): number {
    return this.#limit;
  }

  /** The no-load RTT estimate (ms; 0 before the first sample). */
  get rttNoLoad(): number {
    return this.#rttNoLoad;
  }

  #jitter(): number {
    return 0.5 + this.#random() * 0.5; // Netflix: ThreadLocalRandom.nextDouble(0.5, 1)
  }

  update(rtt: number, inflight: number, didDrop: boolean): void {
    // Netflix rejects rtt ≤ 0 with an exception; a call that took no measurable time carries no
    // delay information, so it is skipped.
    if (!(rtt > 0)) return;
    this.#probeCount++;
    if (this.#probeJitter * this.#probeMultiplier * this.#estimate <= this.#probeCount) {
      this.#probeJitter = this.#jitter();
      this.#probeCount = 0;
      this.#rttNoLoad = rtt;
      return;
    }
    if (this.#rttNoLoad === 0 || rtt < this.#rttNoLoad) {
      this.#rttNoLoad = rtt;
      return;
    }
    const estimate = this.#estimate;
    // Prevent upward drift while the limit is not in use (checked before the step and the queue
    // are computed: a limiter far below its limit, the common case, skips the log10).
    if (!didDrop && inflight * 2 < estimate) return;
    const step = log10Root(Math.floor(estimate));
    let next: number;
    if (didDrop) {
      next = estimate - step;
    } else {
      const queue = Math.ceil(estimate * (1 - this.#rttNoLoad / rtt));
      const alpha = this.#alpha ?? 3 * step;
      const beta = this.#beta ?? 6 * step;
      if (queue <= step) next = estimate + beta;
      else if (queue < alpha) next = estimate + step;
      else if (queue > beta) next = estimate - step;
      else return; // the sweet spot
    }
    next = Math.max(1, Math.min(this.#max, next));
    const updated = (1 - this.#smoothing) * estimate + this.#smoothing * next;
    this.#estimate = updated;
    this.#limit = Math.max(1, Math.floor(updated));
  }

  describe(): { name: 'vegas'; options: Record<string, number> } {
    const options: Record<string, number> = {
      max: this.#max,
      smoothing: this.#smoothing,
      probeMultiplier: this.#probeMultiplier,
    };
    if (this.#alpha !== undefined) options.alpha = this.#alpha;
    if (this.#beta !== undefined) options.beta = this.#beta;
    return { name: 'vegas', options };
  }
}

/**
 * A Vegas concurrency limit (Netflix `VegasLimit`): grows while the measured RTT stays near the
 * no-load RTT and shrinks when a queue builds. Netflix's default limit and recommends it (or
 * {@link gradient2}) on servers.
 *
 * @example
 * ```ts
 * const shedding = concurrencyLimit({ limit: vegas({ initial: 10 }) });
 * ```
 */
export function vegas(options?: VegasOptions): VegasLimit {
  const owner = 'vegas';
  const opts = checkOptions<VegasOptions>(owner, options);
  const d = VEGAS_DEFAULTS;
  const int = { min: 1, integer: true } as const;
  const initial = optionalNumber(owner, 'initial', opts.initial, d.initial, int);
  const max = optionalNumber(owner, 'max', opts.max, d.max, int);
  const smoothing = optionalNumber(owner, 'smoothing', opts.smoothing, d.smoothing, {
    min: 0,
    max: 1,
    minExclusive: true,
  });
  const probeMultiplier = optionalNumber(
    owner,
    'probeMultiplier',
    opts.probeMultiplier,
    d.probeMultiplier,
    int,
  );
  const alpha =
    opts.alpha === undefined
      ? undefined
      : checkNumber(owner, 'alpha', opts.alpha, { min: 0, integer: true });
  const beta =
    opts.beta === undefined
      ? undefined
      : checkNumber(owner, 'beta', opts.beta, { min: alpha ?? 0, integer: true });
  const random = optionalFunction<Random>(owner, 'random', opts.random, Math.random);
  return new VegasLimit(initial, max, smoothing, probeMultiplier, alpha, beta, random);
}
