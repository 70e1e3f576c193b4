/** Why a rate limiter turned a call away. */
export type RateLimiterRejectReason =
  /** No permit now, and waiting for one would take longer than `maxWait` or the deadline. */
  | 'limited'
  /** The call asks for more permits than the limit ever holds. */
  | 'never';

/** The event of `RateLimiterPolicy.onReject`. Plain data. */
export interface RateLimiterRejectEvent {
  readonly reason: RateLimiterRejectReason;
  /** The key of the limit (`''` for a limiter without per-key limits). */
  readonly key: string;
  readonly limit: number;
  readonly remaining: number;
  /** Milliseconds until the call could be admitted. */
  readonly retryAfter: number;
  /** Milliseconds the call waited before it was turned away. */
  readonly waited: number;
}

/** The event of `RateLimiterPolicy.onWait`: a call waits for a permit. Plain data. */
export interface RateLimiterWaitEvent {
  readonly key: string;
  /** Milliseconds it will wait before asking again. */
  readonly delay: number;
}
