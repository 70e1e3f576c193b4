import { type Clock, systemClock } from '@faultline/clock';
import {
  type Context,
  checkName,
  checkNumber,
  checkOneOf,
  checkOptions,
  formatValue,
  optionalClock,
} from '@faultline/core';
import { AdaptiveTimeout } from './adaptive-timeout.js';

/**
 * - `'aggressive'` (default): at expiry, abort `ctx.signal` and reject at once, abandoning the
 *   function if it ignores its signal. A timeout then bounds latency whatever the function does
 *   (Polly's pessimistic timeout).
 * - `'cooperative'`: at expiry, abort `ctx.signal` and wait for the function to settle (Polly's
 *   optimistic timeout, cockatiel's `TimeoutStrategy.Cooperative`).
 */
export type TimeoutStrategy = 'aggressive' | 'cooperative';

/** How long an attempt may take: fixed ms, computed per call, or learned. */
export type TimeoutDuration = number | ((ctx: Context) => number) | AdaptiveTimeout;

/** Options of {@link timeout} (the duration is its first, positional, argument). */
export interface TimeoutOptions {
  /** What happens at expiry; see {@link TimeoutStrategy}. Default `'aggressive'`. */
  readonly strategy?: TimeoutStrategy;
  /**
   * Clock for the timer and the measured durations. Default: the adaptive timeout's clock when
   * `duration` is an {@link AdaptiveTimeout}, otherwise `systemClock`.
   */
  readonly clock?: Clock;
  /** The policy's name in telemetry (a downstream or a use, never a request). Default `'timeout'`. */
  readonly name?: string;
}

/** The defaults of {@link TimeoutOptions}: the single source of each (the README's table). */
export const TIMEOUT_DEFAULTS = Object.freeze({
  strategy: 'aggressive',
  name: 'timeout',
} as const);

/** The `duration` argument and {@link TimeoutOptions}, validated, with every default applied. */
export type ResolvedTimeoutOptions = Required<TimeoutOptions> & {
  /** The duration as given (a number in [0, Infinity], a function, or an AdaptiveTimeout). */
  readonly duration: TimeoutDuration;
};

const OWNER = 'timeout';
const STRATEGIES: readonly TimeoutStrategy[] = ['aggressive', 'cooperative'];

/**
 * Validates the `duration` argument and {@link TimeoutOptions} (a `TypeError` for a wrong type, a
 * `RangeError` out of range, naming the argument or option) and applies {@link TIMEOUT_DEFAULTS}.
 */
export function resolveTimeoutOptions(
  duration: TimeoutDuration,
  options?: TimeoutOptions,
): ResolvedTimeoutOptions {
  if (typeof duration === 'number') {
    checkNumber(OWNER, 'duration', duration, { min: 0, allowInfinity: true }, false);
  } else if (!(duration instanceof AdaptiveTimeout) && typeof duration !== 'function') {
    throw new TypeError(
      `${OWNER}: argument "duration" must be a number in [0, Infinity], a function (ctx) => ms or an AdaptiveTimeout, received ${formatValue(duration)}`,
    );
  }
  const opts = checkOptions<TimeoutOptions>(OWNER, options);
  return {
    duration,
    strategy:
      opts.strategy === undefined
        ? TIMEOUT_DEFAULTS.strategy
        : checkOneOf(OWNER, 'strategy', opts.strategy, STRATEGIES),
    clock:
      opts.clock === undefined
        ? duration instanceof AdaptiveTimeout
          ? duration.clock
          : systemClock
        : optionalClock(OWNER, 'clock', opts.clock),
    name: opts.name === undefined ? TIMEOUT_DEFAULTS.name : checkName(OWNER, 'name', opts.name),
  };
}
