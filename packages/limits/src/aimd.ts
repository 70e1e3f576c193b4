import { checkOptions, optionalNumber } from '@faultline/core';
import type { LimitAlgorithm } from './limit-algorithm.js';
import { checkLimitBounds } from './limit-bounds.js';

/** Options of {@link aimd}. Defaults are Netflix concurrency-limits' `AIMDLimit`. */
export interface AimdOptions {
  /** The limit before any sample (an integer ≥ 1). Default 20. */
  readonly initial?: number;
  /** The limit never goes below this (an integer ≥ 1). Default 20. */
  readonly min?: number;
  /** The limit never goes above this (an integer ≥ `min`). Default 200. */
  readonly max?: number;
  /** The multiplicative decrease on a drop (a number in [0.5, 1)). Default 0.9. */
  readonly backoffRatio?: number;
  /** A call slower than this (ms, > 0) counts as a drop. Default 5000. */
  readonly timeout?: number;
}

/** The defaults of {@link aimd}: Netflix's `AIMDLimit.Builder`. */
export const AIMD_DEFAULTS = Object.freeze({
  initial: 20,
  min: 20,
  max: 200,
  backoffRatio: 0.9,
  timeout: 5000,
});

/**
 * Additive increase, multiplicative decrease (TCP Reno's congestion window, Jacobson 1988), as
 * Netflix concurrency-limits' `AIMDLimit`:
 *
 *     drop or rtt > timeout:    limit = ⌊limit · backoffRatio⌋
 *     else if inflight·2 ≥ limit: limit = limit + 1      (only while the limit is in use)
 *     limit = min(max, max(min, limit))
 *
 * Loss-based: it reacts to failures and timeouts, not to latency growing below `timeout`.
 * Netflix recommends it on the client side.
 */
export class AimdLimit implements LimitAlgorithm {
  readonly kind = 'aimd' as const;
  readonly #options: Required<AimdOptions>;
  #limit: number;

  /** @internal Use {@link aimd}. */
  constructor(options: Required<AimdOptions>) {
    this.#options = options;
    this.#limit = options.initial;
  }

  get limit(): number {
    return this.#limit;
  }

  update(rtt: number, inflight: number, didDrop: boolean): void {
    const { backoffRatio, timeout, min, max } = this.#options;
    let limit = this.#limit;
    if (didDrop || rtt > timeout) limit = Math.floor(limit * backoffRatio);
    else if (inflight * 2 >= limit) limit = limit + 1;
    this.#limit = Math.min(max, Math.max(min, limit));
  }

  describe(): { name: 'aimd'; options: Required<AimdOptions> } {
    return { name: 'aimd', options: { ...this.#options } };
  }
}

/**
 * An AIMD concurrency limit (Netflix `AIMDLimit`): +1 per successful call while the limit is in
 * use, ×`backoffRatio` on a failure or a call slower than `timeout`.
 *
 * @example
 * ```ts
 * const downstream = concurrencyLimit({ limit: aimd({ min: 5, max: 100 }) });
 * ```
 */
export function aimd(options?: AimdOptions): AimdLimit {
  const owner = 'aimd';
  const opts = checkOptions<AimdOptions>(owner, options);
  const d = AIMD_DEFAULTS;
  const { initial, min, max } = checkLimitBounds(owner, opts, d);
  const backoffRatio = optionalNumber(owner, 'backoffRatio', opts.backoffRatio, d.backoffRatio, {
    min: 0.5,
    max: 1,
    maxExclusive: true,
  });
  const timeout = optionalNumber(owner, 'timeout', opts.timeout, d.timeout, {
    min: 0,
    minExclusive: true,
    allowInfinity: true,
  });
  // Like Netflix, the initial limit is used as given; the first sample clamps it into [min, max].
  return new AimdLimit({ initial, min, max, backoffRatio, timeout });
}
