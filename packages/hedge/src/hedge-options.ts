import { type Clock, systemClock } from '@faultline/clock';
import {
  type Context,
  checkNumber,
  checkOptions,
  formatValue,
  identify,
  optionalClock,
  optionalFunction,
  optionalNumber,
  type PolicyIdentity,
  type ShouldHandle,
} from '@faultline/core';
import {
  handleTransient,
  isRetryBudget,
  type RetryAfter,
  type RetryBudget,
} from '@faultline/retry';
import { LearnedDelay } from './learned-delay.js';

/**
 * When the next attempt starts, in ms after the previous one started (Polly's `Delay`):
 * - `> 0`, **latency mode**: when the previous attempt has not settled by then, or at once when
 *   it settles with a handled outcome;
 * - `0`, **parallel mode**: every attempt at once (gRPC `hedgingDelay` 0);
 * - `< 0` (or `Infinity`), **fallback mode**: only once the previous attempt settled handled.
 *
 * A function is asked after each attempt starts, with that attempt's context (`ctx.attempt` is
 * its number), for the delay before the next; a {@link LearnedDelay} learns it from latency.
 */
export type HedgeDelay = number | ((ctx: Context) => number) | LearnedDelay;

/** Options of {@link hedge}. */
export interface HedgeOptions {
  /** Attempts beyond the first, an integer in [1, 10]. Default 1 (Polly). */
  readonly maxHedgedAttempts?: number;
  /** See {@link HedgeDelay}. Default 2000 (Polly). */
  readonly delay?: HedgeDelay;
  /**
   * Which outcomes are not acceptable (a hedge may still beat them). Default as retry's
   * (`handleTransient`): every error except `ExecutionRejectedError`s other than a timeout, no
   * result. The first outcome it does not handle wins, error or value. A rejection caused by the
   * caller's abort is never handled.
   */
  readonly shouldHandle?: ShouldHandle;
  /**
   * A retry budget shared with the downstream's other calls: each hedge spends a retry ticket,
   * and a hedge the budget denies is not sent (`onSkip` reason `'budget'`). Default none.
   */
  readonly budget?: RetryBudget;
  /**
   * Reads a server's pushback from a handled outcome (e.g. `httpRetryAfter` from
   * `@faultline/retry`): a number ≥ 0 cancels the hedges not yet sent, as gRPC does (gRFC A6,
   * "Pushback"). An `ExecutionRejectedError`'s own `retryAfter` counts as pushback when this
   * returns `undefined`. Default none.
   */
  readonly retryAfter?: RetryAfter;
  /** Default `systemClock`. */
  readonly clock?: Clock;
  /** Names the policy in telemetry. Default `'hedge'`. */
  readonly name?: string;
}

/** Every default of {@link hedge}, the single source the README's table mirrors. */
export const HEDGE_DEFAULTS = Object.freeze({
  maxHedgedAttempts: 1,
  delay: 2000 as HedgeDelay,
  shouldHandle: handleTransient,
  budget: undefined as RetryBudget | undefined,
  retryAfter: undefined as RetryAfter | undefined,
  clock: systemClock as Clock,
  name: 'hedge',
});

/** The options of {@link hedge}, validated and complete. */
export interface ResolvedHedgeOptions {
  readonly maxHedgedAttempts: number;
  readonly delay: HedgeDelay;
  readonly shouldHandle: ShouldHandle;
  readonly budget: RetryBudget | undefined;
  readonly retryAfter: RetryAfter | undefined;
  readonly clock: Clock;
  readonly identity: PolicyIdentity;
}

const OWNER = 'hedge';

function checkDelay(value: unknown): HedgeDelay {
  if (value instanceof LearnedDelay || typeof value === 'function') return value as HedgeDelay;
  if (typeof value === 'number') {
    // Any number but NaN and -Infinity: the sign picks the mode.
    return checkNumber(OWNER, 'delay', value, { allowInfinity: true });
  }
  throw new TypeError(
    `${OWNER}: option "delay" must be a number (ms), a function (ctx) => ms or a LearnedDelay, received ${formatValue(value)}`,
  );
}

/** Validates {@link HedgeOptions}; returns them complete. All of the policy's validation. */
export function resolveHedgeOptions(options?: unknown): ResolvedHedgeOptions {
  const opts = checkOptions<HedgeOptions>(OWNER, options);
  const d = HEDGE_DEFAULTS;
  const maxHedgedAttempts = optionalNumber(
    OWNER,
    'maxHedgedAttempts',
    opts.maxHedgedAttempts,
    d.maxHedgedAttempts,
    { min: 1, max: 10, integer: true },
  );
  const delay = opts.delay === undefined ? d.delay : checkDelay(opts.delay);
  const shouldHandle = optionalFunction<ShouldHandle>(
    OWNER,
    'shouldHandle',
    opts.shouldHandle,
    d.shouldHandle,
  );
  if (opts.budget !== undefined && !isRetryBudget(opts.budget)) {
    throw new TypeError(
      `${OWNER}: option "budget" must be a RetryBudget (an object with begin()), received ${formatValue(opts.budget)}`,
    );
  }
  const retryAfter =
    opts.retryAfter === undefined
      ? undefined
      : optionalFunction<RetryAfter>(OWNER, 'retryAfter', opts.retryAfter, () => undefined);
  const clock = optionalClock(OWNER, 'clock', opts.clock);
  const identity = identify(OWNER, 'hedge', opts.name);
  return {
    maxHedgedAttempts,
    delay,
    shouldHandle,
    budget: opts.budget,
    retryAfter,
    clock,
    identity,
  };
}
