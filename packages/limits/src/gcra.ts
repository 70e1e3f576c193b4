import { checkOptions, optionalNumber } from '@faultline/core';
import type { RateLimitAlgorithm, RateLimitDecision } from './rate-limit-algorithm.js';
import { checkRatePeriod } from './rate-period.js';

/** Options of {@link gcra}. */
export interface GcraOptions {
  /** Calls per `per` ms (a number > 0): the emission interval is `per / rate`. Required. */
  readonly rate: number;
  /** The period of `rate`, ms (> 0). Default 1000. */
  readonly per?: number;
  /**
   * redis-cell's `max_burst`: calls allowed *beyond the first* in a burst, so `burst + 1` calls
   * are granted at once (an integer ≥ 0). Default `ceil(rate) - 1`: one period's worth at once,
   * like {@link tokenBucket}'s default.
   */
  readonly burst?: number;
}

/** The defaults of {@link gcra} (`burst` defaults to `ceil(rate) - 1`). */
export const GCRA_DEFAULTS = Object.freeze({ per: 1000 });

/** A key's theoretical arrival time (TAT), ms; `-Infinity` before the first call. */
export interface GcraState {
  tat: number;
}

// Slack for the integer division in `remaining` (redis-cell divides whole microseconds).
const EPSILON = 1e-9;
// One microsecond of slack when comparing times: TATs are sums of fractional emission
// intervals (100 ms / 17), so "exactly due now" can come out a few ulps late.
const TIME_EPSILON = 1e-3;

/**
 * The generic cell rate algorithm (ITU-T I.371 / ATM Forum TM 4.0, the "virtual scheduling"
 * form) with the semantics of redis-cell's `CL.THROTTLE key max_burst count period [quantity]`
 * (brandur/redis-cell, `src/cell/mod.rs`):
 *
 *     T   = per / rate                    (emission interval)
 *     τ   = T · (burst + 1)               (delay variation tolerance)
 *     limit = burst + 1
 *     tat' = max(tat, now) + T · quantity
 *     allowed  ⇔  now ≥ tat' − τ          (then tat := tat')
 *     retryAfter = (tat' − τ) − now       when limited, if T · quantity ≤ τ (else never)
 *     resetAfter = ttl = tat' − now when allowed, tat − now when limited
 *     remaining  = ⌊(τ − ttl) / T⌋        (0 when τ − ttl ≤ −T)
 *
 * One number per key and no timer; the state expires on its own at `tat`.
 */
export class Gcra implements RateLimitAlgorithm<GcraState> {
  readonly kind = 'gcra' as const;
  readonly rate: number;
  readonly per: number;
  readonly burst: number;
  readonly limit: number;
  /** The delay variation tolerance τ (ms): also the time to refill `limit` from empty. */
  readonly window: number;
  /** The emission interval T (ms). */
  readonly emissionInterval: number;

  /** @internal Use {@link gcra}. */
  constructor(rate: number, per: number, burst: number) {
    this.rate = rate;
    this.per = per;
    this.burst = burst;
    this.limit = burst + 1;
    this.emissionInterval = per / rate;
    this.window = this.emissionInterval * (burst + 1);
  }

  initialState(): GcraState {
    return { tat: Number.NEGATIVE_INFINITY };
  }

  consume(state: GcraState, now: number, permits: number): RateLimitDecision {
    const interval = this.emissionInterval;
    const tolerance = this.window;
    // A TAT in the past means the key is at rest (redis-cell's key has expired by then).
    const tat = state.tat > now ? state.tat : now;
    const increment = interval * permits;
    const newTat = tat + increment;
    const allowAt = newTat - tolerance;
    let allowed: boolean;
    let retryAfter = 0;
    let ttl: number;
    if (now + TIME_EPSILON < allowAt) {
      allowed = false;
      retryAfter = increment <= tolerance ? allowAt - now : Number.POSITIVE_INFINITY;
      ttl = tat - now;
    } else {
      allowed = true;
      state.tat = newTat;
      ttl = newTat - now;
    }
    const next = tolerance - ttl;
    const remaining = next > -interval ? Math.max(0, Math.trunc(next / interval + EPSILON)) : 0;
    return { allowed, limit: this.limit, remaining, retryAfter, resetAfter: ttl };
  }

  tryTake(state: GcraState, now: number, permits: number): boolean {
    const tat = state.tat > now ? state.tat : now;
    const newTat = tat + this.emissionInterval * permits;
    if (now + TIME_EPSILON < newTat - this.window) return false;
    state.tat = newTat;
    return true;
  }

  describe(): { name: 'gcra'; options: { rate: number; per: number; burst: number } } {
    return { name: 'gcra', options: { rate: this.rate, per: this.per, burst: this.burst } };
  }
}

/**
 * The generic cell rate algorithm, exactly as redis-cell's `CL.THROTTLE`: `rate` calls per `per`
 * ms, evenly spaced, with `burst` calls allowed beyond the first (`burst + 1` at once). One
 * timestamp per key, so it is the cheapest algorithm to keep in a shared store.
 *
 * @example
 * ```ts
 * // CL.THROTTLE user123 15 30 60: 30 per minute, bursts of 16
 * const perUser = rateLimiter({ limit: gcra({ rate: 30, per: 60_000, burst: 15 }) });
 * ```
 */
export function gcra(options: GcraOptions): Gcra {
  const owner = 'gcra';
  const opts = checkOptions<GcraOptions>(owner, options);
  const { rate, per } = checkRatePeriod(owner, opts, GCRA_DEFAULTS.per);
  const burst = optionalNumber(owner, 'burst', opts.burst, Math.max(0, Math.ceil(rate) - 1), {
    min: 0,
    integer: true,
  });
  return new Gcra(rate, per, burst);
}
