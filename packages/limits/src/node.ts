/**
 * `node:http` adapters: `http.createServer(withRateLimit(handler, limiter))` and
 * `withConcurrencyLimit(handler, limiter)`.
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { formatValue } from '@faultline/core';
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

/** A `node:http` request handler. */
export type NodeHandler = (req: IncomingMessage, res: ServerResponse) => unknown;

function checkHandler(owner: string, handler: unknown): NodeHandler {
  if (typeof handler !== 'function') {
    throw new TypeError(`${owner}: handler must be a function, received ${formatValue(handler)}`);
  }
  return handler as NodeHandler;
}

/**
 * Rate-limits a `node:http` handler: every response carries the IETF `RateLimit-Policy` and
 * `RateLimit` fields; a refused request gets a 429 `application/problem+json` with `Retry-After`
 * and the handler never runs. The body is never read.
 */
export function withRateLimit(
  handler: NodeHandler,
  limiter: RateLimiterPolicy,
  options?: RateLimitMiddlewareOptions<IncomingMessage>,
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const owner = 'withRateLimit';
  const run = checkHandler(owner, handler);
  const admit = nodeRateAdmission(owner, limiter, options);
  return async (req, res) => {
    if (await admit(req, res)) await run(req, res);
  };
}

/**
 * Sheds load from a `node:http` handler: at most `limiter.limit` requests in flight (the limit
 * found by its algorithm from response times and 5xx answers); the rest get a 503
 * `application/problem+json` with `Retry-After` (or wait in the limiter's queue). A permit is
 * held until the response is finished or the connection closes, whatever the handler does.
 */
export function withConcurrencyLimit(
  handler: NodeHandler,
  limiter: ConcurrencyLimitPolicy,
  options?: ConcurrencyLimitMiddlewareOptions,
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const owner = 'withConcurrencyLimit';
  const run = checkHandler(owner, handler);
  const admit = nodeConcurrencyAdmission(owner, limiter, options);
  return async (req, res) => {
    if (await admit(res)) await run(req, res);
  };
}
