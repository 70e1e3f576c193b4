/**
 * What every rate-limit algorithm (token bucket, GCRA, sliding window) answers for one request,
 * and the contract a {@link RateLimitStore} runs them through.
 */

/**
 * The outcome of asking a rate limit for permits. The numbers are those of redis-cell's
 * `CL.THROTTLE` reply, in milliseconds instead of whole seconds.
 */
export interface RateLimitDecision {
  /** Whether the permits were granted (and taken). */
  readonly allowed: boolean;
  /** The most permits the limit grants at once (redis-cell's `limit`; a bucket's capacity). */
  readonly limit: number;
  /** Permits that could still be granted at once after this decision (an integer ≥ 0). */
  readonly remaining: number;
  /**
   * Milliseconds until the same request could be granted: `0` when allowed, `Infinity` when it
   * never can (more permits than the limit holds).
   */
  readonly retryAfter: number;
  /** Milliseconds until the limit is full again (all of `limit` available). */
  readonly resetAfter: number;
}

/** The algorithms this package implements; a store switches on it. */
export type RateLimitAlgorithmKind = 'token-bucket' | 'gcra' | 'sliding-window';

/**
 * A rate-limit algorithm: its parameters as plain data (read by shared stores, which run the same
 * arithmetic server-side) and the in-memory implementation (run by {@link memoryRateLimitStore}).
 * Built by {@link tokenBucket}, {@link gcra} or {@link slidingWindow}; stateless itself, so one
 * algorithm can serve any number of keys and limiters.
 */
export interface RateLimitAlgorithm<S = unknown> {
  readonly kind: RateLimitAlgorithmKind;
  /** The most permits granted at once. */
  readonly limit: number;
  /**
   * The time (ms) over which `limit` permits are granted from empty: the `w` of the IETF
   * `RateLimit-Policy` field, and how long a shared store keeps an idle key.
   */
  readonly window: number;
  /** A key's state before its first request (a full limit). */
  initialState(now: number): S;
  /**
   * Decides a request for `permits` at monotonic time `now` (ms) against `state`, which is
   * updated in place when the permits are granted (and may be brought forward in time either
   * way). `permits` is an integer ≥ 0; `0` only reads the state (redis-cell's "peek").
   */
  consume(state: S, now: number, permits: number): RateLimitDecision;
  /**
   * The success path of {@link consume} without building a decision: takes `permits` and returns
   * `true` exactly when `consume` would allow them (and leaves the same state); `false` leaves the
   * state as `consume` would for a refusal, and the caller asks `consume` for the details.
   */
  tryTake(state: S, now: number, permits: number): boolean;
  /** Name and parameters as plain data. */
  describe(): { readonly name: RateLimitAlgorithmKind; readonly options: Record<string, number> };
}

/**
 * Where rate-limit state lives. {@link memoryRateLimitStore} keeps it in the process;
 * `redisRateLimitStore` (`@faultline/limits/redis`) keeps it in Redis, shared by every process
 * that uses the same Redis and prefix.
 *
 * A store must decide atomically: two concurrent calls for one key never both take the last
 * permit. `now` is the caller's monotonic clock reading; an in-process store uses it, a shared
 * store ignores it and uses its own clock (Redis `TIME`), so no client clock is trusted.
 */
export interface RateLimitStore {
  /** What kind of store this is (`'memory'`, `'redis'`), for `describe()`. */
  readonly kind?: string;
  /**
   * Takes `permits` (an integer ≥ 0) from the limit under `key` if `algorithm` allows it now, and
   * says what it decided. Synchronous stores return the decision itself (the policy then adds no
   * promise to the call); remote ones a promise. A failure of the store rejects.
   */
  consume(
    key: string,
    algorithm: RateLimitAlgorithm,
    permits: number,
    now: number,
  ): RateLimitDecision | PromiseLike<RateLimitDecision>;
}

/** Whether `value` looks like a {@link RateLimitAlgorithm} (duck-typed: any copy of this package). */
export function isRateLimitAlgorithm(value: unknown): value is RateLimitAlgorithm {
  const candidate = value as Partial<RateLimitAlgorithm> | null;
  return (
    candidate !== null &&
    typeof candidate === 'object' &&
    (candidate.kind === 'token-bucket' ||
      candidate.kind === 'gcra' ||
      candidate.kind === 'sliding-window') &&
    typeof candidate.consume === 'function' &&
    typeof candidate.initialState === 'function'
  );
}

/** Whether `value` looks like a {@link RateLimitStore}. */
export function isRateLimitStore(value: unknown): value is RateLimitStore {
  return (
    value !== null &&
    typeof value === 'object' &&
    typeof (value as Partial<RateLimitStore>).consume === 'function'
  );
}
