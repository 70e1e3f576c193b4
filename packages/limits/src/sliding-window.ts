import { checkNumber, checkOptions, optionalNumber } from '@faultline/core';
import type { RateLimitAlgorithm, RateLimitDecision } from './rate-limit-algorithm.js';

/** The ring slot of segment `k` (segments may be negative on a clock that starts below 0). */
function slotOf(k: number, slots: number): number {
  const slot = k % slots;
  return slot < 0 ? slot + slots : slot;
}

/** Options of {@link slidingWindow}. */
export interface SlidingWindowOptions {
  /** The most calls in any `window` ms (an integer ≥ 1). Required. */
  readonly limit: number;
  /** The window, ms (> 0). Required. */
  readonly window: number;
  /**
   * Segments per window (an integer in [1, 1000]). A permit comes back between `window` and
   * `window + window / segments` ms after it was taken: more segments return permits closer to
   * `window`, at the cost of one counter each. Default 4.
   */
  readonly segments?: number;
}

/** The defaults of {@link slidingWindow}. */
export const SLIDING_WINDOW_DEFAULTS = Object.freeze({ segments: 4 });

/**
 * A key's counters: `counts[i mod (segments + 1)]` holds the permits taken in segment `i`, for
 * the `segments + 1` segments up to `head` (the newest segment seen).
 */
export interface SlidingWindowState {
  readonly counts: Float64Array;
  head: number;
  total: number;
}

/**
 * A segmented sliding window (the sliding-window limiter of .NET's System.Threading.RateLimiting
 * and Polly v8, made strict). Time is cut into segments of `window / segments` ms; a request at a
 * time in segment `c` counts the permits of segments `c − segments … c`, which cover every
 * interval of `window` ms that ends now. So no interval of `window` ms ever holds more than
 * `limit` permits (.NET counts only `segments` segments and can grant up to `limit` more across a
 * segment boundary); the price is that a permit returns up to one segment late.
 */
export class SlidingWindow implements RateLimitAlgorithm<SlidingWindowState> {
  readonly kind = 'sliding-window' as const;
  readonly limit: number;
  readonly window: number;
  readonly segments: number;
  /** Segment length, ms. */
  readonly segment: number;

  /** @internal Use {@link slidingWindow}. */
  constructor(limit: number, window: number, segments: number) {
    this.limit = limit;
    this.window = window;
    this.segments = segments;
    this.segment = window / segments;
  }

  initialState(now: number): SlidingWindowState {
    return {
      counts: new Float64Array(this.segments + 1),
      head: this.#segmentOf(now),
      total: 0,
    };
  }

  #segmentOf(now: number): number {
    // Multiply before dividing: for integer times and windows this is exact.
    return Math.floor((now * this.segments) / this.window);
  }

  consume(state: SlidingWindowState, now: number, permits: number): RateLimitDecision {
    const slots = this.segments + 1;
    const counts = state.counts;
    const current = this.#segmentOf(now);
    if (current > state.head) {
      // Segments older than current − segments leave the window: clear their slots.
      const stale = Math.min(current - state.head, slots);
      for (let i = 1; i <= stale; i++) {
        const slot = slotOf(state.head + i, slots);
        state.total -= counts[slot]!;
        counts[slot] = 0;
      }
      state.head = current;
    }
    const head = state.head;
    const limit = this.limit;
    let allowed = false;
    let retryAfter = 0;
    if (permits > limit) {
      retryAfter = Number.POSITIVE_INFINITY;
    } else if (state.total + permits <= limit) {
      counts[slotOf(head, slots)]! += permits;
      state.total += permits;
      allowed = true;
    } else {
      // Wait for the oldest segments to leave: segment k leaves when segment k + segments + 1
      // begins.
      const needed = state.total + permits - limit;
      let freed = 0;
      for (let k = head - this.segments; k <= head; k++) {
        freed += counts[slotOf(k, slots)]!;
        if (freed >= needed) {
          retryAfter = this.#startOf(k + slots) - now;
          break;
        }
      }
    }
    return {
      allowed,
      limit,
      remaining: limit - state.total,
      retryAfter,
      resetAfter: this.#resetAfter(state, now),
    };
  }

  #startOf(segment: number): number {
    return (segment * this.window) / this.segments;
  }

  /** Until the newest non-empty segment leaves the window. */
  #resetAfter(state: SlidingWindowState, now: number): number {
    if (state.total === 0) return 0;
    const slots = this.segments + 1;
    for (let k = state.head; k >= state.head - this.segments; k--) {
      if (state.counts[slotOf(k, slots)]! > 0) return this.#startOf(k + slots) - now;
    }
    return 0;
  }

  tryTake(state: SlidingWindowState, now: number, permits: number): boolean {
    // Rare enough (a window's worth of calls per segment) to share consume()'s code: only the
    // admission check is inlined.
    if (this.#segmentOf(now) > state.head || state.total + permits > this.limit) {
      return this.consume(state, now, permits).allowed;
    }
    state.counts[slotOf(state.head, this.segments + 1)]! += permits;
    state.total += permits;
    return true;
  }

  describe(): {
    name: 'sliding-window';
    options: { limit: number; window: number; segments: number };
  } {
    return {
      name: 'sliding-window',
      options: { limit: this.limit, window: this.window, segments: this.segments },
    };
  }
}

/**
 * A sliding window: at most `limit` calls in any interval of `window` ms. The window is kept as
 * `segments + 1` counters, so memory per key is constant (unlike a sliding log).
 *
 * @example
 * ```ts
 * const login = rateLimiter({ limit: slidingWindow({ limit: 5, window: 60_000 }), key: () => 'login' });
 * ```
 */
export function slidingWindow(options: SlidingWindowOptions): SlidingWindow {
  const owner = 'slidingWindow';
  const opts = checkOptions<SlidingWindowOptions>(owner, options);
  const limit = checkNumber(owner, 'limit', opts.limit, { min: 1, integer: true });
  const window = checkNumber(owner, 'window', opts.window, { min: 0, minExclusive: true });
  const segments = optionalNumber(
    owner,
    'segments',
    opts.segments,
    SLIDING_WINDOW_DEFAULTS.segments,
    {
      min: 1,
      max: 1000,
      integer: true,
    },
  );
  return new SlidingWindow(limit, window, segments);
}
