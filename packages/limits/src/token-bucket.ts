import { checkOptions, optionalNumber } from '@faultline/core';
import type { RateLimitAlgorithm, RateLimitDecision } from './rate-limit-algorithm.js';
import { checkRatePeriod } from './rate-period.js';

/** Options of {@link tokenBucket}. */
export interface TokenBucketOptions {
  /** Tokens added per `per` ms (a number > 0). Required. */
  readonly rate: number;
  /** The period of `rate`, ms (> 0). Default 1000 (`rate` per second). */
  readonly per?: number;
  /**
   * The bucket's capacity: the most calls granted at once (an integer ≥ 1). Default `rate`
   * rounded up (one period's worth). Unlike {@link gcra}'s `burst`, this counts every call.
   */
  readonly burst?: number;
}

/** The defaults of {@link tokenBucket} (`burst` defaults to `ceil(rate)`). */
export const TOKEN_BUCKET_DEFAULTS = Object.freeze({ per: 1000 });

/** A key's bucket: its tokens at time `updated`. */
export interface TokenBucketState {
  tokens: number;
  updated: number;
}

/**
 * The token bucket of a {@link tokenBucket} limit: `burst` tokens, refilled continuously at
 * `rate / per` per ms (no timer: the refill is computed from the time since the last call).
 */
export class TokenBucket implements RateLimitAlgorithm<TokenBucketState> {
  readonly kind = 'token-bucket' as const;
  readonly rate: number;
  readonly per: number;
  readonly burst: number;
  readonly limit: number;
  readonly window: number;
  /** Tokens per ms. */
  readonly #perMs: number;
  /**
   * Slack when comparing token counts: one microsecond of refill. Refills are sums of products
   * of rates and durations, so an exact "one token due now" can come out as 0.9999999999.
   */
  readonly #epsilon: number;

  /** @internal Use {@link tokenBucket}. */
  constructor(rate: number, per: number, burst: number) {
    this.rate = rate;
    this.per = per;
    this.burst = burst;
    this.limit = burst;
    this.#perMs = rate / per;
    this.window = burst / this.#perMs;
    this.#epsilon = 1e-9 + this.#perMs * 1e-3;
  }

  initialState(now: number): TokenBucketState {
    return { tokens: this.burst, updated: now };
  }

  consume(state: TokenBucketState, now: number, permits: number): RateLimitDecision {
    const perMs = this.#perMs;
    const burst = this.burst;
    let tokens = state.tokens;
    if (now > state.updated) {
      tokens += (now - state.updated) * perMs;
      if (tokens > burst) tokens = burst;
      state.updated = now;
    }
    let allowed = false;
    let retryAfter = 0;
    if (permits > burst) {
      retryAfter = Number.POSITIVE_INFINITY; // a bucket never holds more than `burst`
    } else if (tokens + this.#epsilon >= permits) {
      tokens -= permits;
      if (tokens < 0) tokens = 0;
      allowed = true;
    } else {
      retryAfter = (permits - tokens) / perMs;
    }
    state.tokens = tokens;
    return {
      allowed,
      limit: burst,
      remaining: Math.floor(tokens + this.#epsilon),
      retryAfter,
      resetAfter: (burst - tokens) / perMs,
    };
  }

  tryTake(state: TokenBucketState, now: number, permits: number): boolean {
    let tokens = state.tokens;
    if (now > state.updated) {
      tokens += (now - state.updated) * this.#perMs;
      if (tokens > this.burst) tokens = this.burst;
      state.updated = now;
      state.tokens = tokens;
    }
    if (permits > this.burst || tokens + this.#epsilon < permits) return false;
    tokens -= permits;
    state.tokens = tokens < 0 ? 0 : tokens;
    return true;
  }

  describe(): { name: 'token-bucket'; options: { rate: number; per: number; burst: number } } {
    return { name: 'token-bucket', options: { rate: this.rate, per: this.per, burst: this.burst } };
  }
}

/**
 * A token bucket: `burst` calls at once, then `rate` per `per` ms, refilled continuously. The
 * classic shaper (Turner, 1986; the AWS API Gateway and Envoy local rate limit model). `burst`
 * counts every call, so `tokenBucket({ rate: 10, burst: 10 })` grants 10 at once; compare
 * {@link gcra}, whose `burst` (redis-cell's `max_burst`) counts the calls beyond the first.
 *
 * @example
 * ```ts
 * const api = rateLimiter({ limit: tokenBucket({ rate: 100, burst: 20 }) }); // 100/s, bursts of 20
 * ```
 */
export function tokenBucket(options: TokenBucketOptions): TokenBucket {
  const owner = 'tokenBucket';
  const opts = checkOptions<TokenBucketOptions>(owner, options);
  const { rate, per } = checkRatePeriod(owner, opts, TOKEN_BUCKET_DEFAULTS.per);
  const burst = optionalNumber(owner, 'burst', opts.burst, Math.max(1, Math.ceil(rate)), {
    min: 1,
    integer: true,
  });
  return new TokenBucket(rate, per, burst);
}
