import type { Clock } from '@faultline/clock';
import {
  type Context,
  checkFunction,
  formatValue,
  optionalClock,
  optionalNumber,
} from '@faultline/core';
import { checkLimiterOptions } from './limiter-options.js';
import { memoryRateLimitStore } from './memory-store.js';
import {
  isRateLimitAlgorithm,
  isRateLimitStore,
  type RateLimitAlgorithm,
  type RateLimitStore,
} from './rate-limit-algorithm.js';

/** Options of {@link rateLimiter}. */
export interface RateLimiterOptions {
  /** The algorithm and its parameters: {@link tokenBucket}, {@link gcra} or {@link slidingWindow}. Required. */
  readonly limit: RateLimitAlgorithm;
  /**
   * How long (ms) a call may wait for a permit before it is rejected (a number ≥ 0, or
   * `Infinity`). The wait is abortable and never outlasts the call's deadline: a call whose
   * permit would come after its deadline is rejected at once. Default 0 (reject at once).
   */
  readonly maxWait?: number;
  /**
   * The key of the limit a call counts against (a tenant, a user, a route): one limit per key.
   * Default: one limit for every call. Keys are never published as telemetry.
   */
  readonly key?: (ctx: Context) => string;
  /** Where the limit's state lives. Default a new {@link memoryRateLimitStore} per limiter. */
  readonly store?: RateLimitStore;
  /** Monotonic time source (for the memory store and for waits). Default `systemClock`. */
  readonly clock?: Clock;
  /** The policy's name in telemetry and the `RateLimit` header fields. Default `'rate-limiter'`. */
  readonly name?: string;
}

/** The defaults of {@link rateLimiter} (`store` defaults to a new memory store per limiter). */
export const RATE_LIMITER_DEFAULTS = Object.freeze({
  maxWait: 0,
  name: 'rate-limiter',
});

/** {@link RateLimiterOptions} with every default applied. */
export interface ResolvedRateLimiterOptions {
  readonly limit: RateLimitAlgorithm;
  readonly maxWait: number;
  readonly key: ((ctx: Context) => string) | undefined;
  readonly store: RateLimitStore;
  readonly clock: Clock;
  readonly name: string | undefined;
}

const OWNER = 'rateLimiter';

/** Validates {@link RateLimiterOptions} and applies the defaults. */
export function resolveRateLimiterOptions(options: unknown): ResolvedRateLimiterOptions {
  const opts = checkLimiterOptions<RateLimiterOptions, RateLimitAlgorithm>(
    OWNER,
    options,
    isRateLimitAlgorithm,
    {
      factories: 'tokenBucket, gcra or slidingWindow',
      expected: 'rate-limit algorithm (tokenBucket(), gcra() or slidingWindow())',
    },
  );
  const maxWait = optionalNumber(OWNER, 'maxWait', opts.maxWait, RATE_LIMITER_DEFAULTS.maxWait, {
    min: 0,
    allowInfinity: true,
  });
  const key =
    opts.key === undefined
      ? undefined
      : checkFunction<(ctx: Context) => string>(OWNER, 'key', opts.key);
  let store: RateLimitStore;
  if (opts.store === undefined) store = memoryRateLimitStore();
  else if (isRateLimitStore(opts.store)) store = opts.store;
  else {
    throw new TypeError(
      `${OWNER}: option "store" must be a RateLimitStore (an object with consume()), received ${formatValue(opts.store)}`,
    );
  }
  const clock = optionalClock(OWNER, 'clock', opts.clock);
  return { limit: opts.limit, maxWait, key, store, clock, name: opts.name };
}
