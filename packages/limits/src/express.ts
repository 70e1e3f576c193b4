/**
 * Express 5 adapters: `app.use(expressRateLimit(limiter))`, `app.use(expressConcurrencyLimit(limiter))`.
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type {
  ConcurrencyLimitMiddlewareOptions,
  RateLimitMiddlewareOptions,
} from './adapters/common.js';
import { nodeConcurrencyAdmission, nodeRateAdmission } from './adapters/node-common.js';
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
  const admit = nodeRateAdmission('expressRateLimit', limiter, options);
  return (req, res, next) => {
    admit(req, res).then((admitted) => {
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
  const admit = nodeConcurrencyAdmission('expressConcurrencyLimit', limiter, options);
  return (_req, res, next) => {
    admit(res).then((admitted) => {
      if (admitted) next();
    }, next);
  };
}
