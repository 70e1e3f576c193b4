import type { Clock } from '@faultline/clock';
import {
  type Backoff,
  type Context,
  checkName,
  checkOptions,
  formatValue,
  type Outcome,
  optionalClock,
  optionalFunction,
  optionalNumber,
  type Random,
  type ShouldHandle,
} from '@faultline/core';
import { exponential } from './backoff.js';
import { isRetryBudget, type RetryBudget } from './budgets/budget.js';
import { handleTransient } from './should-handle.js';

/**
 * Reads a server's (or an inner policy's) pushback from an outcome: milliseconds to wait before
 * the next attempt, or `undefined` for none. `httpRetryAfter` is the ready one for `Response`s.
 */
export type RetryAfter = (outcome: Outcome<unknown>, ctx: Context) => number | undefined;

/** Options for {@link retry}. */
export interface RetryOptions {
  /**
   * Attempts in all, **including the first**: `3` is one call and up to two retries. An integer
   * ≥ 1, or `Infinity` (then bound it with a deadline or a budget). Default 3.
   */
  readonly maxAttempts?: number;
  /** Delays between attempts. Default `exponential()` (100 ms doubling to 10 s, full jitter). */
  readonly backoff?: Backoff;
  /**
   * Which outcomes are failures worth retrying. Default: every error except
   * `ExecutionRejectedError`s other than a timeout. The caller's abort is never retried. A handled
   * result that a retry replaces is dropped: a `Response`'s unread body is cancelled.
   */
  readonly shouldHandle?: ShouldHandle;
  /** A budget shared with every other call to the same downstream. Default none. */
  readonly budget?: RetryBudget;
  /**
   * Pushback: when it returns a number for a handled outcome, that many ms (clamped to
   * `maxRetryAfter`) replace the backoff delay. An `ExecutionRejectedError`'s own `retryAfter`
   * is used when this returns `undefined` (or is not given).
   */
  readonly retryAfter?: RetryAfter;
  /**
   * Upper bound on a pushback delay, in ms, ≥ 0 or `Infinity`. Default 60 000. With `Infinity`,
   * an infinite pushback gives up (`reason: 'attempts'`) instead of sleeping forever.
   */
  readonly maxRetryAfter?: number;
  /** Default `systemClock`. */
  readonly clock?: Clock;
  /** Randomness for the backoff's jitter. Default `Math.random`. */
  readonly random?: Random;
  /** The policy's name in telemetry (a downstream or a use, never a request). Default `'retry'`. */
  readonly name?: string;
}

/** Never a pushback: the default of {@link RetryOptions.retryAfter}. */
export const noRetryAfter: RetryAfter = () => undefined;

/**
 * The defaults of {@link RetryOptions}: the single source of each (the README's table). The
 * default `backoff` is `exponential()` with its own defaults (100 ms doubling to 10 s, full
 * jitter), built per policy; `clock` is `systemClock`, `random` `Math.random`, `budget` none.
 */
export const RETRY_DEFAULTS = Object.freeze({
  maxAttempts: 3,
  shouldHandle: handleTransient,
  retryAfter: noRetryAfter,
  maxRetryAfter: 60_000,
  random: Math.random,
  name: 'retry',
} as const);

/** {@link RetryOptions} validated, with every default applied. */
export type ResolvedRetryOptions = Required<Omit<RetryOptions, 'budget'>> & {
  readonly budget: RetryBudget | undefined;
};

const OWNER = 'retry';

/** Checks a `backoff` option: an object with `delays()`. */
export function checkBackoff(owner: string, value: unknown): Backoff {
  const backoff = value as Partial<Backoff> | null;
  if (backoff === null || typeof backoff !== 'object' || typeof backoff.delays !== 'function') {
    throw new TypeError(
      `${owner}: option "backoff" must be a Backoff (an object with delays()), received ${formatValue(value)}`,
    );
  }
  return backoff as Backoff;
}

/**
 * Validates {@link RetryOptions} (a `TypeError` for a wrong type, a `RangeError` out of range,
 * naming the option) and applies {@link RETRY_DEFAULTS}.
 */
export function resolveRetryOptions(options?: RetryOptions): ResolvedRetryOptions {
  const opts = checkOptions<RetryOptions>(OWNER, options);
  if (opts.budget !== undefined && !isRetryBudget(opts.budget)) {
    throw new TypeError(
      `${OWNER}: option "budget" must be a RetryBudget (an object with begin()), received ${formatValue(opts.budget)}`,
    );
  }
  return {
    maxAttempts: optionalNumber(
      OWNER,
      'maxAttempts',
      opts.maxAttempts,
      RETRY_DEFAULTS.maxAttempts,
      {
        min: 1,
        integer: true,
        allowInfinity: true,
      },
    ),
    backoff: opts.backoff === undefined ? exponential() : checkBackoff(OWNER, opts.backoff),
    shouldHandle: optionalFunction<ShouldHandle>(
      OWNER,
      'shouldHandle',
      opts.shouldHandle,
      RETRY_DEFAULTS.shouldHandle,
    ),
    budget: opts.budget,
    retryAfter: optionalFunction<RetryAfter>(
      OWNER,
      'retryAfter',
      opts.retryAfter,
      RETRY_DEFAULTS.retryAfter,
    ),
    maxRetryAfter: optionalNumber(
      OWNER,
      'maxRetryAfter',
      opts.maxRetryAfter,
      RETRY_DEFAULTS.maxRetryAfter,
      {
        min: 0,
        allowInfinity: true,
      },
    ),
    clock: optionalClock(OWNER, 'clock', opts.clock),
    random: optionalFunction<Random>(OWNER, 'random', opts.random, RETRY_DEFAULTS.random),
    name: opts.name === undefined ? RETRY_DEFAULTS.name : checkName(OWNER, 'name', opts.name),
  };
}
