import type { Clock } from '@faultline/clock';
import { checkNumber, checkOptions, formatValue } from '@faultline/core';
import { CountWindow } from './count-window.js';
import type { OutcomeWindow } from './outcome-window.js';
import { TimeWindow } from './time-window.js';
import type { TripState, TripStrategy } from './trip-strategy.js';

/** Slow-call rule of {@link failureRate} (resilience4j's slow-call rate). */
export interface SlowCallOptions {
  /** A call that takes longer than this many ms is slow, whether it succeeds or fails. */
  readonly duration: number;
  /** Open when `slow calls / calls ≥ threshold`, in (0, 1]. */
  readonly threshold: number;
}

/** Options of {@link failureRate}. */
export interface FailureRateOptions {
  /** Open when `failures / calls ≥ threshold`; in (0, 1]. Default 0.5. */
  readonly threshold?: number;
  /**
   * Calls the window must hold before the ratio counts; integer ≥ 1 (at most `window.calls` for a
   * count window). Default 20, or `window.calls` when that is smaller.
   */
  readonly minimumThroughput?: number;
  /**
   * The window: a duration in ms (a time window, default 30 000), or `{ calls: n }` for the last
   * `n` calls (a count window).
   */
  readonly window?: number | { readonly calls: number };
  /** Slices of a time window (integer in [1, 1000]); ignored by count windows. Default 10. */
  readonly buckets?: number;
  /** Also open when too many calls are slow. Off by default. */
  readonly slowCall?: SlowCallOptions;
}

const OWNER = 'failureRate';

class FailureRateState implements TripState {
  readonly needsTime: boolean;
  readonly slowCallDuration: number;
  readonly #window: OutcomeWindow;
  readonly #threshold: number;
  readonly #minimumThroughput: number;
  readonly #slowThreshold: number;
  /** Whether a slow-call rule was given. */
  readonly #slowRule: boolean;

  constructor(
    window: OutcomeWindow,
    threshold: number,
    minimumThroughput: number,
    slowCall: SlowCallOptions | undefined,
  ) {
    this.#window = window;
    this.needsTime = window.needsTime;
    this.#threshold = threshold;
    this.#minimumThroughput = minimumThroughput;
    this.slowCallDuration = slowCall?.duration ?? Number.POSITIVE_INFINITY;
    this.#slowThreshold = slowCall?.threshold ?? Number.POSITIVE_INFINITY;
    this.#slowRule = slowCall !== undefined;
  }

  get failures(): number {
    return this.#window.failures;
  }

  get failureRate(): number {
    const calls = this.#window.calls;
    return calls > 0 ? this.#window.failures / calls : 0;
  }

  record(failed: boolean, slow: boolean, now: number): boolean {
    const window = this.#window;
    window.record(failed, slow, now);
    // Evaluated after every call, as resilience4j does: the call that brings the window up to
    // the minimum throughput can be the one that trips it.
    const calls = window.calls;
    if (calls < this.#minimumThroughput) return false;
    // As written in the spec (failures / calls ≥ threshold), so that a threshold like 0.1 trips
    // at exactly the ratio a reader computes by hand. No failure (the common case) is a ratio of
    // 0, under any threshold; without a slow-call rule, slow calls never trip.
    const failures = window.failures;
    if (failures > 0 && failures / calls >= this.#threshold) return true;
    return this.#slowRule && window.slowCalls / calls >= this.#slowThreshold;
  }

  reset(): void {
    this.#window.reset();
  }
}

/**
 * Opens the circuit when, with at least `minimumThroughput` calls in the window,
 * `failures / calls ≥ threshold` (or, with `slowCall`, `slow / calls ≥ slowCall.threshold`).
 * The window is either time-based (`window` ms in `buckets` slices, expiring with time, idle gaps
 * included) or count-based (`window: { calls: n }`). Follows resilience4j's CircuitBreaker
 * (failure rate and slow-call rate thresholds, minimum number of calls, sliding windows).
 */
export function failureRate(options?: FailureRateOptions): TripStrategy {
  const opts = checkOptions<FailureRateOptions>(OWNER, options);
  const threshold =
    opts.threshold === undefined
      ? 0.5
      : checkNumber(OWNER, 'threshold', opts.threshold, { min: 0, minExclusive: true, max: 1 });
  let minimumThroughput =
    opts.minimumThroughput === undefined
      ? 20
      : checkNumber(OWNER, 'minimumThroughput', opts.minimumThroughput, { min: 1, integer: true });
  const buckets =
    opts.buckets === undefined
      ? 10
      : checkNumber(OWNER, 'buckets', opts.buckets, { min: 1, max: 1000, integer: true });

  let windowMs: number | undefined;
  let windowCalls: number | undefined;
  const window: unknown = opts.window;
  if (window === undefined) {
    windowMs = 30_000;
  } else if (typeof window === 'number') {
    windowMs = checkNumber(OWNER, 'window', window, { min: 0, minExclusive: true });
  } else if (window !== null && typeof window === 'object' && !Array.isArray(window)) {
    windowCalls = checkNumber(OWNER, 'window.calls', (window as { calls?: unknown }).calls, {
      min: 1,
      max: 1_000_000,
      integer: true,
    });
    // A count window smaller than the default minimum could never trip: the default is capped
    // by the window size (resilience4j caps minimumNumberOfCalls the same way). A value the
    // caller chose is never clamped.
    if (opts.minimumThroughput === undefined) {
      minimumThroughput = Math.min(minimumThroughput, windowCalls);
    } else if (minimumThroughput > windowCalls) {
      throw new RangeError(
        `${OWNER}: option "minimumThroughput" must be an integer in [1, ${windowCalls}] (window.calls), received ${formatValue(minimumThroughput)}`,
      );
    }
  } else {
    throw new TypeError(
      `${OWNER}: option "window" must be a number of ms in (0, Infinity) or { calls: n }, received ${formatValue(window)}`,
    );
  }

  let slowCall: SlowCallOptions | undefined;
  if (opts.slowCall !== undefined) {
    const raw: unknown = opts.slowCall;
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
      throw new TypeError(
        `${OWNER}: option "slowCall" must be an object { duration, threshold }, received ${formatValue(raw)}`,
      );
    }
    const slow = raw as Partial<SlowCallOptions>;
    slowCall = {
      duration: checkNumber(OWNER, 'slowCall.duration', slow.duration, {
        min: 0,
        minExclusive: true,
      }),
      threshold: checkNumber(OWNER, 'slowCall.threshold', slow.threshold, {
        min: 0,
        minExclusive: true,
        max: 1,
      }),
    };
  }

  const described: Record<string, unknown> = {
    threshold,
    minimumThroughput,
    window: windowCalls === undefined ? windowMs : { calls: windowCalls },
  };
  if (windowCalls === undefined) described.buckets = buckets;
  if (slowCall !== undefined) described.slowCall = slowCall;

  return {
    create: (clock?: Clock) =>
      new FailureRateState(
        windowCalls === undefined
          ? new TimeWindow(windowMs!, buckets, clock)
          : new CountWindow(windowCalls),
        threshold,
        minimumThroughput,
        slowCall,
      ),
    describe: () => ({ name: 'failureRate', options: described }),
  };
}
