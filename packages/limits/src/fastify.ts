/**
 * Fastify 5 adapters: `app.register(fastifyRateLimit, { limiter })`,
 * `app.register(fastifyConcurrencyLimit, { limiter })`.
 * @module
 */
import { Buffer } from 'node:buffer';
import { formatValue } from '@faultline/core';
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import {
  type ConcurrencyLimitMiddlewareOptions,
  concurrencyGate,
  type RateLimitMiddlewareOptions,
  rateGate,
} from './adapters/common.js';
import { admitConcurrency } from './adapters/node-common.js';
import type { ConcurrencyLimitPolicy } from './concurrency-limit.js';
import { type LimitResponse, rateLimitedResponse, rateLimitHeaders } from './http-fields.js';
import type { RateLimiterPolicy } from './rate-limiter.js';

/** Options of {@link fastifyRateLimit}. `key` defaults to `request.ip` (honours `trustProxy`). */
export interface FastifyRateLimitOptions extends RateLimitMiddlewareOptions<FastifyRequest> {
  readonly limiter: RateLimiterPolicy;
}

/** Options of {@link fastifyConcurrencyLimit}. */
export interface FastifyConcurrencyLimitOptions extends ConcurrencyLimitMiddlewareOptions {
  readonly limiter: ConcurrencyLimitPolicy;
}

// Equivalent of fastify-plugin: hooks apply to the parent instance, not a child context.
function unencapsulated(name: string): object {
  return { [Symbol.for('skip-override')]: true, [Symbol.for('fastify.display-name')]: name };
}

function send(reply: FastifyReply, response: LimitResponse): FastifyReply {
  reply.code(response.status);
  for (const [name, value] of response.headers) reply.header(name, value);
  // A Buffer: Fastify appends "; charset=utf-8" to a string payload's content type.
  return reply.send(Buffer.from(response.body));
}

/** The plugin's options, checked to be an object: its `limiter`, and the middleware options. */
function pluginOptions(owner: string, options: unknown): { limiter: unknown; rest: object } {
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`${owner}: options must be an object, received ${formatValue(options)}`);
  }
  const { limiter, ...rest } = options as { limiter?: unknown };
  return { limiter, rest };
}

/**
 * Fastify 5 rate-limit plugin (`onRequest`, before the body is read): the IETF
 * `RateLimit-Policy` / `RateLimit` fields on every response, a 429 problem+json with
 * `Retry-After` for refused requests. Not encapsulated: it covers every route of the instance.
 */
export const fastifyRateLimit: FastifyPluginAsync<FastifyRateLimitOptions> = Object.assign(
  async function fastifyRateLimit(fastify: FastifyInstance, options: FastifyRateLimitOptions) {
    const owner = 'fastifyRateLimit';
    const { limiter, rest } = pluginOptions(owner, options);
    const ip = (request: FastifyRequest): string => request.ip;
    const { limiter: rate, key, permits } = rateGate(owner, limiter, rest, ip);
    fastify.addHook('onRequest', async (request, reply) => {
      const decision = await rate.tryAcquire(key(request), permits(request));
      if (!decision.allowed) return send(reply, rateLimitedResponse(rate, decision));
      for (const [name, value] of rateLimitHeaders(rate, decision)) reply.header(name, value);
      return undefined;
    });
  },
  unencapsulated('fastifyRateLimit'),
);

/**
 * Fastify 5 concurrency-limit plugin (`onRequest`): sheds requests over the limit with a 503
 * problem+json and `Retry-After`; a permit is held until the response finishes or the
 * connection closes. Not encapsulated.
 */
export const fastifyConcurrencyLimit: FastifyPluginAsync<FastifyConcurrencyLimitOptions> =
  Object.assign(async function fastifyConcurrencyLimit(
    fastify: FastifyInstance,
    options: FastifyConcurrencyLimitOptions,
  ) {
    const owner = 'fastifyConcurrencyLimit';
    const { limiter, rest } = pluginOptions(owner, options);
    const { limiter: concurrency, retryAfter } = concurrencyGate(owner, limiter, rest);
    fastify.addHook('onRequest', async (_request, reply) => {
      let refusal: LimitResponse | undefined;
      const admitted = await admitConcurrency(concurrency, reply.raw, retryAfter, (response) => {
        refusal = response;
      });
      if (admitted) return undefined;
      if (refusal !== undefined) return send(reply, refusal);
      return reply.hijack(); // the client is gone: nothing to answer
    });
  }, unencapsulated('fastifyConcurrencyLimit'));
