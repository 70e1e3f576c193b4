/**
 * Express 5 adapters: `app.use(expressRateLimit(limiter))`, `app.use(expressConcurrencyLimit(limiter))`.
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  type ConcurrencyLimitMiddlewareOptions,
  concurrencyGate,
  type RateLimitMiddlewareOptions,
  rateGate,
} from './adapters/common.js';
import { admitConcurrency, admitRate, remoteAddress } from './adapters/node-common.js';
import type { ConcurrencyLimitPolicy } from './concurrency-limit.js';
import type { RateLimiterPolicy } from './rate-limiter.js';

export type {
  ConcurrencyLimitMiddlewareOptions,
  RateLimitMiddlewareOptions,
} from './adapters/common.js';

/** An Express middleware (structural: no runtime import of Express). */
export type ExpressMiddleware = (
  req: IncomingMessage,
  res: ServerResponse,
  next: (error?: unknown) => void,
) => void;

/**
 * Express 5 rate-limit middleware: the IETF `RateLimit-Policy` / `RateLimit` fields on every
 * response, a 429 problem+json with `Retry-After` for refused requests (the route never runs).
 * Mount it before the body parser: it never needs the body.
 */
export function expressRateLimit(
  limiter: RateLimiterPolicy,
  options?: RateLimitMiddlewareOptions<IncomingMessage>,
): ExpressMiddleware {
  const owner = 'expressRateLimit';
  const { limiter: rate, key, permits } = rateGate(owner, limiter, options, remoteAddress);
  return (req, res, next) => {
    admitRate(rate, res, key(req), permits(req)).then((admitted) => {
      if (admitted) next();
    }, next);
  };
}

/**
 * Express 5 concurrency-limit middleware: sheds requests over the limit with a 503
 * problem+json and `Retry-After`; a permit is held until the response finishes or the
 * connection closes.
 */
export function expressConcurrencyLimit(
  limiter: ConcurrencyLimitPolicy,
  options?: ConcurrencyLimitMiddlewareOptions,
): ExpressMiddleware {
  const owner = 'expressConcurrencyLimit';
  const { limiter: concurrency, retryAfter } = concurrencyGate(owner, limiter, options);
  return (_req, res, next) => {
    admitConcurrency(concurrency, res, retryAfter).then((admitted) => {
      if (admitted) next();
    }, next);
  };
}
