import type { Clock } from '@faultline/clock';
import {
  checkFunction,
  checkName,
  checkNumber,
  checkOptions,
  optionalClock,
  type Random,
  type ShouldHandle,
} from '@faultline/core';
import { handleOverload } from './overload.js';

/** Options of `adaptiveThrottle()`. */
export interface AdaptiveThrottleOptions {
  /**
   * The multiplier K: the client keeps sending up to K times what the backend accepts. Lower is
   * more aggressive. A number ≥ 1; default 2 (the SRE book's recommendation).
   */
  readonly k?: number;
  /** Rolling window of the request and accept counts, ms (> 0). Default 120 000 (two minutes). */
  readonly window?: number;
  /** Slices of the window (integer in [1, 1000]). Default 12. */
  readonly buckets?: number;
  /**
   * Which outcomes are the backend rejecting for overload (every other outcome is an accept).
   * Default {@link handleOverload}: `ExecutionRejectedError`s and HTTP 429 / 503. If it throws,
   * the caller gets its error and the request is taken back (counted as nothing).
   */
  readonly shouldHandle?: ShouldHandle;
  /** Never throttle while the window holds fewer requests than this (integer ≥ 0). Default 0. */
  readonly minimumRequests?: number;
  /**
   * Monotonic time source (only `now` is called). Default `systemClock`, on which a time window
   * also sets an unref'd timer per slice of traffic, to skip most clock reads.
   */
  readonly clock?: Clock;
  /** Random source for the rejection draw. Default `Math.random`. */
  readonly random?: Random;
  /**
   * The throttle's name in telemetry (a downstream or a use, never a request). Default
   * `'adaptive-throttle'`.
   */
  readonly name?: string;
}

/**
 * The defaults of {@link AdaptiveThrottleOptions}: the single source of each (the README's
 * table). `clock` defaults to `systemClock` and `random` to `Math.random` (read when the throttle
 * is built, so a stubbed `Math.random` applies).
 */
export const ADAPTIVE_THROTTLE_DEFAULTS = Object.freeze({
  k: 2,
  window: 120_000,
  buckets: 12,
  shouldHandle: handleOverload,
  minimumRequests: 0,
  name: 'adaptive-throttle',
} as const);

/** {@link AdaptiveThrottleOptions} validated, with every default applied. */
export interface ResolvedAdaptiveThrottleOptions {
  readonly k: number;
  readonly window: number;
  readonly buckets: number;
  readonly shouldHandle: ShouldHandle;
  readonly minimumRequests: number;
  readonly clock: Clock;
  readonly random: Random;
  readonly name: string;
}

const OWNER = 'adaptiveThrottle';

/**
 * Validates {@link AdaptiveThrottleOptions} (a `TypeError` for a wrong type, a `RangeError` out
 * of range, naming the option) and applies {@link ADAPTIVE_THROTTLE_DEFAULTS}.
 */
export function resolveAdaptiveThrottleOptions(
  options?: AdaptiveThrottleOptions,
): ResolvedAdaptiveThrottleOptions {
  const opts = checkOptions<AdaptiveThrottleOptions>(OWNER, options);
  const defaults = ADAPTIVE_THROTTLE_DEFAULTS;
  return {
    k: opts.k === undefined ? defaults.k : checkNumber(OWNER, 'k', opts.k, { min: 1 }),
    window:
      opts.window === undefined
        ? defaults.window
        : checkNumber(OWNER, 'window', opts.window, { min: 0, minExclusive: true }),
    buckets:
      opts.buckets === undefined
        ? defaults.buckets
        : checkNumber(OWNER, 'buckets', opts.buckets, { min: 1, max: 1000, integer: true }),
    shouldHandle:
      opts.shouldHandle === undefined
        ? defaults.shouldHandle
        : checkFunction<ShouldHandle>(OWNER, 'shouldHandle', opts.shouldHandle),
    minimumRequests:
      opts.minimumRequests === undefined
        ? defaults.minimumRequests
        : checkNumber(OWNER, 'minimumRequests', opts.minimumRequests, { min: 0, integer: true }),
    // A throttle only reads the time.
    clock: optionalClock(OWNER, 'clock', opts.clock, ['now']),
    random:
      opts.random === undefined ? Math.random : checkFunction<Random>(OWNER, 'random', opts.random),
    name: opts.name === undefined ? defaults.name : checkName(OWNER, 'name', opts.name),
  };
}
