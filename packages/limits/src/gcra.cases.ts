/**
 * redis-cell's own GCRA test table and README example, as (time, quantity) calls with the
 * expected `CL.THROTTLE` reply, shared by the memory and Redis tests. Source: brandur/redis-cell
 * `src/cell/mod.rs` (`it_rate_limits`: `limit = 5`, `max_burst = 4`, 1 per second) and
 * `README.md` (`CL.THROTTLE user123 15 30 60` → `0 16 15 -1 2`). Test support, not shipped.
 */
import type { RateLimitDecision } from './rate-limit-algorithm.js';

/** One call: at `at` ms after the start, `quantity` permits; the expected decision in ms. */
export interface GcraCase {
  readonly num: number;
  readonly at: number;
  readonly quantity: number;
  readonly limited: boolean;
  readonly remaining: number;
  /** ms; redis-cell's `-1` (allowed, or never) is 0 when allowed and Infinity when never. */
  readonly retryAfter: number;
  readonly resetAfter: number;
}

/** `it_rate_limits`: max_burst 4 (limit 5), 1 per second. */
export const redisCellTable = {
  options: { rate: 1, per: 1000, burst: 4 },
  limit: 5,
  cases: [
    // You can never make a request larger than the maximum (redis-cell: retry_after -1 = never).
    {
      num: 0,
      at: 0,
      quantity: 6,
      limited: true,
      remaining: 5,
      retryAfter: Infinity,
      resetAfter: 0,
    },
    // Rate limit normal requests appropriately.
    { num: 1, at: 0, quantity: 1, limited: false, remaining: 4, retryAfter: 0, resetAfter: 1000 },
    { num: 2, at: 0, quantity: 1, limited: false, remaining: 3, retryAfter: 0, resetAfter: 2000 },
    { num: 3, at: 0, quantity: 1, limited: false, remaining: 2, retryAfter: 0, resetAfter: 3000 },
    { num: 4, at: 0, quantity: 1, limited: false, remaining: 1, retryAfter: 0, resetAfter: 4000 },
    { num: 5, at: 0, quantity: 1, limited: false, remaining: 0, retryAfter: 0, resetAfter: 5000 },
    { num: 6, at: 0, quantity: 1, limited: true, remaining: 0, retryAfter: 1000, resetAfter: 5000 },
    {
      num: 7,
      at: 3000,
      quantity: 1,
      limited: false,
      remaining: 2,
      retryAfter: 0,
      resetAfter: 3000,
    },
    {
      num: 8,
      at: 3100,
      quantity: 1,
      limited: false,
      remaining: 1,
      retryAfter: 0,
      resetAfter: 3900,
    },
    {
      num: 9,
      at: 4000,
      quantity: 1,
      limited: false,
      remaining: 1,
      retryAfter: 0,
      resetAfter: 4000,
    },
    {
      num: 10,
      at: 8000,
      quantity: 1,
      limited: false,
      remaining: 4,
      retryAfter: 0,
      resetAfter: 1000,
    },
    {
      num: 11,
      at: 9500,
      quantity: 1,
      limited: false,
      remaining: 4,
      retryAfter: 0,
      resetAfter: 1000,
    },
    // Zero-volume request just peeks at the state.
    {
      num: 12,
      at: 9500,
      quantity: 0,
      limited: false,
      remaining: 4,
      retryAfter: 0,
      resetAfter: 1000,
    },
    // High-volume request uses up more of the limit.
    {
      num: 13,
      at: 9500,
      quantity: 2,
      limited: false,
      remaining: 2,
      retryAfter: 0,
      resetAfter: 3000,
    },
    // Large requests cannot exceed limits.
    {
      num: 14,
      at: 9500,
      quantity: 5,
      limited: true,
      remaining: 2,
      retryAfter: 3000,
      resetAfter: 3000,
    },
  ] satisfies GcraCase[],
} as const;

/**
 * What a store should decide for call `c` of {@link redisCellTable}, with the call's number (so
 * that a failing comparison says which call it was): compare `{ num: c.num, ...decision }`.
 */
export function tableDecision(c: GcraCase): RateLimitDecision & { readonly num: number } {
  return {
    num: c.num,
    allowed: !c.limited,
    limit: redisCellTable.limit,
    remaining: c.remaining,
    retryAfter: c.retryAfter,
    resetAfter: c.resetAfter,
  };
}

/** The README example: `CL.THROTTLE user123 15 30 60` on a fresh key → `0 16 15 -1 2`. */
export const readmeExample = {
  options: { rate: 30, per: 60_000, burst: 15 },
  reply: [0, 16, 15, -1, 2] as const,
  /** The first call's decision (that reply, in ms). */
  decision: { allowed: true, limit: 16, remaining: 15, retryAfter: 0, resetAfter: 2000 },
} as const;

/**
 * A decision as `CL.THROTTLE` replies: [limited, limit, remaining, retry_after s, reset_after s],
 * seconds rounded up when they have a millisecond part, `-1` for "allowed" or "never".
 */
export function clThrottleReply(
  decision: RateLimitDecision,
): [number, number, number, number, number] {
  const seconds = (ms: number): number => {
    const whole = Math.trunc(ms / 1000);
    return Math.round(ms - whole * 1000) > 0 ? whole + 1 : whole;
  };
  const retry =
    decision.allowed || decision.retryAfter === Number.POSITIVE_INFINITY
      ? -1
      : seconds(decision.retryAfter);
  return [
    decision.allowed ? 0 : 1,
    decision.limit,
    decision.remaining,
    retry,
    seconds(decision.resetAfter),
  ];
}
