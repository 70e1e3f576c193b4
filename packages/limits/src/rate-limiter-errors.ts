import { ExecutionRejectedError } from '@faultline/core';
import { formatMs } from './format.js';
import type { RateLimitDecision } from './rate-limit-algorithm.js';

/**
 * The rejection of a call the rate limit did not admit (code `RATE_LIMITED`). `retryAfter` is
 * the milliseconds until the same call could be admitted (`Infinity` when it never can: it asks
 * for more permits than the limit holds), so an outer `retry` waits exactly as long as it must.
 */
export class RateLimitRejectedError extends ExecutionRejectedError {
  override name = 'RateLimitRejectedError';
  declare readonly retryAfter: number;
  /** The limit's capacity (permits granted at once). */
  readonly limit: number;
  /** Permits left (less than asked for). */
  readonly remaining: number;
  /** Milliseconds until the limit is full again. */
  readonly resetAfter: number;

  /** @internal Built by the rate limiter. */
  constructor(policy: string, decision: RateLimitDecision, waited: number) {
    const after =
      decision.retryAfter === Number.POSITIVE_INFINITY
        ? 'the request asks for more permits than the limit holds'
        : `retry after ${formatMs(decision.retryAfter)}`;
    const waitedText = waited > 0 ? ` after waiting ${formatMs(waited)}` : '';
    super(
      `${policy}: rate limit of ${decision.limit} reached (${decision.remaining} left)${waitedText}; ${after}`,
      { code: 'RATE_LIMITED', retryAfter: decision.retryAfter },
    );
    this.limit = decision.limit;
    this.remaining = decision.remaining;
    this.resetAfter = decision.resetAfter;
  }
}
