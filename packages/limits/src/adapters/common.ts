import { checkNumber, checkOptions, formatValue, optionalFunction } from '@faultline/core';
import { ConcurrencyLimitPolicy } from '../concurrency-limit.js';
import type { ConcurrencyPermit } from '../concurrency-limit-state.js';
import { RateLimiterPolicy } from '../rate-limiter.js';

/** Options of the rate-limit middleware (every adapter). */
export interface RateLimitMiddlewareOptions<Request> {
  /**
   * The limit a request counts against. Default: the client's address (the socket's remote
   * address; behind a proxy every request shares the proxy's, which is one limit for all: set
   * `key` from a trusted header or the authenticated principal then).
   */
  readonly key?: (request: Request) => string;
  /** Permits a request takes (an integer ≥ 0). Default 1. */
  readonly permits?: (request: Request) => number;
}

/** Options of the concurrency-limit middleware (every adapter). */
export interface ConcurrencyLimitMiddlewareOptions {
  /** The `Retry-After` of a shed request, whole seconds (an integer ≥ 1). Default 1. */
  readonly retryAfter?: number;
}

function checkRateLimiter(owner: string, value: unknown): RateLimiterPolicy {
  if (!(value instanceof RateLimiterPolicy)) {
    throw new TypeError(
      `${owner}: limiter must be a rateLimiter(), received ${formatValue(value)}`,
    );
  }
  return value;
}

function checkConcurrencyLimiter(owner: string, value: unknown): ConcurrencyLimitPolicy {
  if (!(value instanceof ConcurrencyLimitPolicy)) {
    throw new TypeError(
      `${owner}: limiter must be a concurrencyLimit(), received ${formatValue(value)}`,
    );
  }
  return value;
}

/** @internal A rate-limit middleware's limiter, and the key and permits of each request. */
export interface RateGate<Request> {
  readonly limiter: RateLimiterPolicy;
  readonly key: (request: Request) => string;
  /** The `permits` option, or 1 for every request. */
  readonly permits: (request: Request) => number;
}

const onePermit = (): number => 1;

/**
 * @internal What every rate-limit adapter checks when it is built: the limiter, then the
 * options (`key` defaulting to `defaultKey`, the adapter's client address).
 */
export function rateGate<Request>(
  owner: string,
  limiter: unknown,
  options: unknown,
  defaultKey: (request: Request) => string,
): RateGate<Request> {
  const checked = checkRateLimiter(owner, limiter);
  const opts = checkOptions<RateLimitMiddlewareOptions<Request>>(owner, options);
  return {
    limiter: checked,
    key: optionalFunction(owner, 'key', opts.key, defaultKey),
    permits: optionalFunction(owner, 'permits', opts.permits, onePermit),
  };
}

/** @internal A concurrency-limit middleware's limiter and the `Retry-After` of a shed request. */
export interface ConcurrencyGate {
  readonly limiter: ConcurrencyLimitPolicy;
  readonly retryAfter: number;
}

/** @internal What every concurrency-limit adapter checks when it is built: limiter, options. */
export function concurrencyGate(
  owner: string,
  limiter: unknown,
  options: unknown,
): ConcurrencyGate {
  const checked = checkConcurrencyLimiter(owner, limiter);
  const opts = checkOptions<ConcurrencyLimitMiddlewareOptions>(owner, options);
  return {
    limiter: checked,
    retryAfter:
      opts.retryAfter === undefined
        ? 1
        : checkNumber(owner, 'retryAfter', opts.retryAfter, { min: 1, integer: true }),
  };
}

/**
 * @internal Reports how a request that held a permit ended: a finished 5xx is a drop, any other
 * finished response a sample, a connection that closed first neither (the client left).
 */
export function settlePermit(permit: ConcurrencyPermit, finished: boolean, status: number): void {
  if (!finished) permit.ignore();
  else if (status >= 500) permit.failure();
  else permit.success();
}
